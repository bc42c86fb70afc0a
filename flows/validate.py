"""The quality gate: run the suites in expectations/ with Great Expectations 1.x on dataframes.

Raw suites see the normalised Parquet inputs; mart suites see the marts read from DuckDB
read-only (GX's SQL path to DuckDB is broken here, see README). A failed `critical` expectation
stops the run before render and publish; `warning` failures are published on the quality page.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from flows.settings import EXPECTATIONS_DIR

logger = logging.getLogger(__name__)


class QualityGateError(RuntimeError):
    """A critical expectation failed: nothing is rendered or published."""

    def __init__(self, failures: list[CheckResult]) -> None:
        self.failures = failures
        first = failures[0]
        super().__init__(
            f"quality gate: {len(failures)} critical expectation(s) failed; first: "
            f"{first.suite}/{first.table}: {first.expectation}({first.column or ''}) - "
            f"{first.unexpected_count} unexpected, e.g. {first.examples[:3]}"
        )


@dataclass
class CheckResult:
    suite: str
    table: str
    expectation: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int | None
    meaning: str
    examples: list[Any] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_suites(prefix: str) -> list[dict]:
    """Suites whose file name starts with `prefix` (raw_ or mart_), sorted by name."""
    suites = []
    for path in sorted(EXPECTATIONS_DIR.glob(f"{prefix}*.yml")):
        suite = yaml.safe_load(path.read_text(encoding="utf-8"))
        for table, entries in suite["tables"].items():
            for entry in entries:
                if entry.get("severity") not in ("critical", "warning"):
                    raise ValueError(f"{path}: {table}: {entry['type']} needs severity")
        suites.append(suite)
    return suites


@cache
def _batch_definition() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("frames").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole")


def _build_suite(name: str, entries: list[dict]) -> Any:
    import great_expectations as gx
    from great_expectations.expectations.registry import get_expectation_impl

    suite = gx.ExpectationSuite(name=name)
    for entry in entries:
        expectation_class = get_expectation_impl(entry["type"])
        suite.add_expectation(
            expectation_class(
                **entry.get("kwargs", {}),
                meta={"severity": entry["severity"], "meaning": entry.get("meaning", "")},
            )
        )
    return suite


def _example(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_example(v) for v in value]
    if hasattr(value, "item"):
        return value.item()
    return value


def validate_frames(frames: dict[str, pd.DataFrame], prefix: str) -> list[CheckResult]:
    """Run every suite named prefix* on the frames it names; a missing frame is an error."""
    results: list[CheckResult] = []
    batch_definition = _batch_definition()
    for suite in load_suites(prefix):
        for table, entries in suite["tables"].items():
            if table not in frames:
                raise KeyError(f"suite {suite['name']} expects table {table}; not produced")
            gx_suite = _build_suite(f"{suite['name']}.{table}", entries)
            batch = batch_definition.get_batch(batch_parameters={"dataframe": frames[table]})
            outcome = batch.validate(gx_suite, result_format={"result_format": "SUMMARY"})
            for result in outcome.results:
                config = result.expectation_config
                kwargs = config.kwargs
                results.append(
                    CheckResult(
                        suite=suite["name"],
                        table=table,
                        expectation=config.type,
                        column=kwargs.get("column")
                        or ",".join(
                            str(v)
                            for v in (
                                kwargs.get("column_list")
                                or [kwargs.get("column_A"), kwargs.get("column_B")]
                            )
                            if v
                        )
                        or None,
                        severity=config.meta["severity"],
                        success=bool(result.success),
                        unexpected_count=result.result.get("unexpected_count"),
                        meaning=config.meta.get("meaning", ""),
                        examples=[
                            _example(v) for v in result.result.get("partial_unexpected_list", [])
                        ][:5],
                    )
                )
    return results


def enforce(results: list[CheckResult]) -> None:
    """Stop the run on any critical failure; log warnings."""
    for r in results:
        if not r.success and r.severity == "warning":
            logger.warning(
                "quality warning %s/%s %s(%s): %s unexpected, e.g. %s",
                r.suite,
                r.table,
                r.expectation,
                r.column,
                r.unexpected_count,
                r.examples[:3],
            )
    failures = [r for r in results if not r.success and r.severity == "critical"]
    if failures:
        raise QualityGateError(failures)


def read_parquet_frames(parquet_dir: Path) -> dict[str, pd.DataFrame]:
    return {p.stem: pd.read_parquet(p) for p in sorted(parquet_dir.glob("*.parquet"))}
