"""Measure a child process from outside: wall time, CPU time and resident memory of its whole
process tree (the Prefect server and the dbt subprocess included), sampled with psutil, and the
exact totals from the kernel's accounting of the waited child (wait4).

Stage figures come from stage windows (wall-clock start and end, time.time()) matched to the
samples: CPU is the growth of the tree's cumulative CPU time over the window (interpolated between
samples), peak RSS the largest sampled tree RSS inside it.
"""

from __future__ import annotations

import bisect
import os
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import psutil

MB = 1024 * 1024


@dataclass
class Sample:
    t: float
    cpu_s: float
    rss_mb: float


@dataclass
class ChildRun:
    returncode: int
    wall_s: float
    cpu_s: float
    """User + system CPU of the child and everything it waited for (kernel accounting)."""
    peak_rss_mb: float
    """Largest sampled RSS of the whole tree (processes summed)."""
    max_process_rss_mb: float
    """Largest RSS of any one process in the tree (kernel accounting)."""
    start: float
    end: float
    samples: list[Sample] = field(default_factory=list)
    output: list[tuple[float, str]] = field(default_factory=list)
    """Each line the child printed (stdout and stderr merged) with the time it arrived."""

    def window(self, start: float, end: float) -> dict[str, float]:
        """wall_s, cpu_s and peak_rss_mb of the tree between two wall-clock times."""
        times = [s.t for s in self.samples]

        def cpu_at(t: float) -> float:
            i = bisect.bisect_left(times, t)
            if i == 0:
                return self.samples[0].cpu_s if self.samples else 0.0
            if i >= len(self.samples):
                return self.samples[-1].cpu_s
            a, b = self.samples[i - 1], self.samples[i]
            share = (t - a.t) / (b.t - a.t) if b.t > a.t else 0.0
            return a.cpu_s + share * (b.cpu_s - a.cpu_s)

        inside = [s.rss_mb for s in self.samples if start <= s.t <= end]
        if not inside and self.samples:  # a window shorter than the sampling interval
            i = min(bisect.bisect_left(times, start), len(self.samples) - 1)
            inside = [self.samples[i].rss_mb]
        return {
            "wall_s": round(end - start, 2),
            "cpu_s": round(max(0.0, cpu_at(end) - cpu_at(start)), 2),
            "peak_rss_mb": round(max(inside, default=0.0), 1),
        }


def _tree_usage(root: psutil.Process) -> tuple[float, float]:
    """Cumulative CPU seconds (with waited children) and summed RSS of a process tree."""
    cpu, rss = 0.0, 0
    try:
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0, 0.0
    for proc in procs:
        try:
            with proc.oneshot():
                t = proc.cpu_times()
                cpu += t.user + t.system + t.children_user + t.children_system
                rss += proc.memory_info().rss
        except psutil.Error:
            continue  # it ended between the listing and the reading
    return cpu, rss / MB


def run_measured(
    command: list[str],
    env: dict[str, str] | None = None,
    interval: float = 0.1,
    on_line: Callable[[str], None] | None = None,
    cwd: str | None = None,
) -> ChildRun:
    """Run a command to its end, sampling its process tree every `interval` seconds."""
    start = time.time()
    child = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    root = psutil.Process(child.pid)
    samples: list[Sample] = [Sample(start, 0.0, 0.0)]
    output: list[tuple[float, str]] = []
    done = threading.Event()
    last_cpu = [0.0]

    def sample() -> None:
        while not done.is_set():
            cpu, rss = _tree_usage(root)
            # a process that ended between samples takes its CPU with it until its parent
            # waits for it: never let the cumulative figure go down
            last_cpu[0] = max(last_cpu[0], cpu)
            if rss > 0:
                samples.append(Sample(time.time(), last_cpu[0], rss))
            done.wait(interval)

    def read() -> None:
        assert child.stdout is not None
        for line in child.stdout:
            output.append((time.time(), line.rstrip("\n")))
            if on_line:
                on_line(line.rstrip("\n"))

    sampler, reader = threading.Thread(target=sample), threading.Thread(target=read)
    sampler.start()
    reader.start()
    # wait4 gives this child's own accounting (with what it waited for), not every child's
    _, status, usage = os.wait4(child.pid, 0)
    end = time.time()
    returncode = os.waitstatus_to_exitcode(status)
    child.returncode = returncode
    done.set()
    sampler.join()
    reader.join()
    cpu_total = usage.ru_utime + usage.ru_stime
    samples.append(Sample(end, max(cpu_total, last_cpu[0]), samples[-1].rss_mb))
    return ChildRun(
        returncode=returncode,
        wall_s=round(end - start, 2),
        cpu_s=round(cpu_total, 2),
        peak_rss_mb=round(max(s.rss_mb for s in samples), 1),
        max_process_rss_mb=round(usage.ru_maxrss / 1024, 1),  # kilobytes on Linux
        start=start,
        end=end,
        samples=samples,
        output=output,
    )


def cpu_count() -> int:
    return len(os.sched_getaffinity(0))
