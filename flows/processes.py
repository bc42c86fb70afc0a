"""Memory-heavy steps in a process of their own.

A Python process that has held the national tables does not give their memory back (pandas and
Arrow keep it for reuse, and GX's context keeps every frame it validated), and the run's peak
memory is the flow's process plus the render workers beside it. Stacking the inputs, the two
quality gates and the downloads therefore each run in a fresh process that returns their memory
when it exits.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def in_own_process(fn: Callable[..., T], *args: Any) -> T:
    """fn(*args) in a new interpreter (spawned, not forked from this one); its result, or its
    exception, is returned here."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        return pool.submit(fn, *args).result()
