"""What a run did, as a Prefect markdown artifact (one per run, key `pcn-benchmark-run`, so the
UI keeps their history side by side)."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

ARTIFACT_KEY = "pcn-benchmark-run"


def run_markdown(summary: dict[str, Any]) -> str:
    v = summary["validation"]
    gate = "passed" if not v.get("critical_failures") else "refused"
    if summary.get("reused"):
        outcome = "unchanged (already published from these inputs; nothing rebuilt)"
    elif summary.get("replaces"):
        outcome = "republished"
    else:
        outcome = "published"
    lines = [
        f"# PCN benchmark {summary['period']}: {outcome}",
        "",
        f"- release: `{summary['release_id']}`",
        f"- site: `{summary['site']}` -> `{summary['release_dir']}`",
        f"- PCNs published: {summary['pcns_published']} ({summary['pcn_pages']} PCN pages)",
        f"- indicators published: {summary['indicators']} ({summary['indicator_rows']} rows)",
        f"- quality gate: {gate}: {v.get('checks', 0)} checks, {v.get('passed', 0)} passed, "
        f"{v.get('warnings', 0)} warnings, {v.get('critical_failures', 0)} critical",
        "",
        "## Sources and periods",
        "",
        "| source | product | vintage | rows | status | file |",
        "|---|---|---|---:|---|---|",
        *(
            f"| {i['source']} | {i['product']} | {i['vintage']} | {i['rows']:,} | {i['status']} "
            f"| {i['file']} |"
            for i in summary["inputs"]
        ),
        "",
        *_republication_lines(summary.get("replaces")),
        "## Timings",
        "",
        "| stage | seconds |",
        "|---|---:|",
        *(f"| {stage} | {seconds:.1f} |" for stage, seconds in summary["timings"].items()),
        "",
    ]
    return "\n".join(lines)


def _republication_lines(replaces: dict[str, Any] | None) -> list[str]:
    if not replaces:
        return []
    changed = replaces["changed_inputs"]
    return [
        "## Republication",
        "",
        f"Replaces release `{replaces['release_id']}` of the same period; "
        + (
            f"{len(changed)} input file(s) changed:"
            if changed
            else "the inputs are the same (the code, tools, settings or PCN selection changed)."
        ),
        "",
        *(
            f"- {c['source']} {c['product']} {c['vintage']} `{c['file']}`: {c['change']}"
            for c in changed
        ),
        "",
    ]


def failure_markdown(period: str, out: str, error: str, reason: str) -> str:
    return "\n".join(
        [
            f"# PCN benchmark {period}: not published",
            "",
            f"- {error}: {reason}",
            f"- output: `{out}`; the published site is unchanged",
            "",
        ]
    )


def _create(markdown: str, description: str) -> None:
    from prefect.artifacts import create_markdown_artifact
    from prefect.context import FlowRunContext

    if FlowRunContext.get() is None:  # called outside a flow run (a plain function call)
        return
    try:
        create_markdown_artifact(markdown=markdown, key=ARTIFACT_KEY, description=description)
    except Exception as exc:  # the run's outcome must not depend on the UI's bookkeeping
        logger.warning("could not create the run artifact: %s", exc)


def run_artifact(summary: dict[str, Any]) -> None:
    _create(run_markdown(summary), f"Published {summary['period']}")


def failure_artifact(period: str, out: Any, error: str, reason: str) -> None:
    _create(failure_markdown(period, str(out), error, reason), f"Not published: {period}")
