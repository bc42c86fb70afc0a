"""National-scale benchmark of the whole job (issue 8): `make bench`.

1. Builds a landing zone of N monthly periods (default 24) from the bundled real sample
   (benchmarks/generate.py; cached under build/benchmark/ while its parameters are unchanged).
2. Runs the real CLI, `pcn-benchmark run --data-dir ZONE --out OUT --period P`, as a child
   process measured from outside (benchmarks/measure.py): per stage wall, CPU and peak RSS of the
   whole process tree. Stage lengths are the pipeline's own (manifest.json `stage_timings_s`);
   each stage window ends where the pipeline logs the stage's end (event=stage_end).
3. Runs it again on unchanged inputs (rerun_wall_s): the release is found built, nothing rebuilt.
4. Runs the same job bare (benchmarks/bare.py: readers, the SQL dbt compiled, the templates;
   no Prefect, dbt or GX) and gives pipeline / bare.
5. Runs the pipeline on the last few periods only (default 6) for the scaling figure.

Writes build/benchmark/results.json in the shape issue 8 gives, details.json beside it, and prints
a table. Stages the pipeline does not have yet are null.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from generate import build_zone, landed_bytes  # noqa: E402
from measure import ChildRun, cpu_count, run_measured  # noqa: E402

STAGES = ("land", "dbt", "validate", "html", "national_pdf", "pcn_pdfs")
# stage -> the pipeline's stage_timings_s keys it sums (the last one's end event ends it)
PIPELINE_STAGES: dict[str, tuple[str, ...]] = {
    "land": ("land", "normalise"),
    "dbt": ("dbt",),
    "validate": ("validate_inputs", "validate_marts"),
    "html": ("html",),
    "national_pdf": ("national_pdf",),
    "pcn_pdfs": ("pcn_pdfs",),
}
TARGETS = {
    "total_wall_s": 60.0,
    "rerun_wall_s": 10.0,
    "peak_rss_mb": 1.5 * 1024,
    "ratio": 1.5,
    "scaling": 4.0,  # 24 / 6 periods: linear or better
}
# the pipeline's structured console line: "12:00:01 event=stage_end stage=dbt status=ok ..."
STAGE_END = re.compile(r"event=stage_end stage=(?P<stage>[a-z_]+)")


def venv_bin(name: str) -> str:
    candidate = Path(sys.executable).with_name(name)
    return str(candidate) if candidate.exists() else name


def child_env(api_url: str | None) -> dict[str, str]:
    env = {
        **os.environ,
        "PREFECT_LOGGING_LEVEL": "INFO",  # task "Finished" lines mark the stage ends
        "PYTHONUNBUFFERED": "1",
    }
    if api_url:
        env["PREFECT_API_URL"] = api_url
    return env


# ---------------------------------------------------------------------------------------------
# A running Prefect server (optional: `--prefect-server running`)


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def start_server(home: Path) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api_url = f"http://127.0.0.1:{port}/api"
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [venv_bin("prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env={**os.environ, "PREFECT_HOME": str(home)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.time() + 120
    while time.time() < deadline:
        if _healthy(api_url):
            return server, api_url
        if server.poll() is not None:
            break
        time.sleep(0.5)
    server.terminate()
    raise RuntimeError(f"the Prefect server did not start; see {home / 'server.log'}")


# ---------------------------------------------------------------------------------------------
# Pipeline and bare runs


def find_manifest(out: Path) -> dict:
    site = out / "site"
    return json.loads((site.resolve() / "manifest.json").read_text(encoding="utf-8"))


def run_pipeline(
    zone: Path, out: Path, period: str, api_url: str | None, pcn: list[str], label: str
) -> tuple[ChildRun, dict]:
    command = [
        venv_bin("pcn-benchmark"),
        "run",
        "--data-dir",
        str(zone),
        "--out",
        str(out),
        "--period",
        period,
    ]
    for code in pcn:
        command += ["--pcn", code]
    print(f"[bench] {label}: {' '.join(command[1:])}", flush=True)
    result = run_measured(command, env=child_env(api_url), cwd=str(ROOT))
    if result.returncode != 0:
        tail = "\n".join(line for _, line in result.output[-30:])
        raise RuntimeError(f"{label}: pcn-benchmark run failed ({result.returncode}):\n{tail}")
    manifest = find_manifest(out)
    print(f"[bench] {label}: {result.wall_s:.1f} s", flush=True)
    return result, manifest


def pipeline_stages(result: ChildRun, manifest: dict) -> dict[str, dict | None]:
    """Per stage wall, CPU and peak RSS; None for a stage the pipeline did not run."""
    timings: dict[str, float] = manifest.get("stage_timings_s", {})
    finished: dict[str, float] = {}
    for t, line in result.output:
        if m := STAGE_END.search(line):
            finished[m.group("stage")] = t
    stages: dict[str, dict | None] = {}
    for stage, keys in PIPELINE_STAGES.items():
        seconds = [timings[k] for k in keys if k in timings]
        ends = [finished[k] for k in keys if k in finished]
        if not seconds:
            stages[stage] = None
            continue
        wall = sum(seconds)
        if ends:
            figures = result.window(max(ends) - wall, max(ends))
        else:  # no log line (a changed log format): the wall time alone
            figures = {"wall_s": round(wall, 2), "cpu_s": None, "peak_rss_mb": None}
        figures["wall_s"] = round(wall, 2)
        stages[stage] = figures
    return stages


def run_bare(
    zone: Path, out: Path, period: str, dbt_target: Path, pcn: list[str]
) -> tuple[ChildRun, dict[str, dict | None], dict]:
    command = [
        sys.executable,
        str(HERE / "bare.py"),
        "--data-dir",
        str(zone),
        "--out",
        str(out),
        "--period",
        period,
        "--dbt-target",
        str(dbt_target),
    ]
    if pcn:
        command += ["--pcn", *pcn]
    print("[bench] bare: benchmarks/bare.py", flush=True)
    result = run_measured(command, env=child_env(None), cwd=str(ROOT))
    if result.returncode != 0:
        tail = "\n".join(line for _, line in result.output[-30:])
        raise RuntimeError(f"bare run failed ({result.returncode}):\n{tail}")
    stages: dict[str, dict | None] = dict.fromkeys(STAGES)
    summary: dict = {}
    for _, line in result.output:
        if not line.startswith("{"):
            continue
        record = json.loads(line)
        if "stage" in record and record["stage"] in stages:
            stages[record["stage"]] = result.window(record["start"], record["end"])
        summary = record.get("summary", summary)
    stages["validate"] = None  # nothing is validated bare
    print(f"[bench] bare: {result.wall_s:.1f} s", flush=True)
    return result, stages, summary


def same_downloads(site_a: Path, site_b: Path) -> bool:
    """The bare job is the same job: its downloads must be byte-identical to the pipeline's."""
    names = ("indicators.csv", "icb_indicators.csv", "practice_pcn_lookup.csv")
    return all(
        (site_a / "data" / n).read_bytes() == (site_b / "data" / n).read_bytes() for n in names
    )


def dbt_target_of(out: Path, manifest: dict) -> Path:
    return out / "work" / manifest["release_id"] / "dbt_target"


# ---------------------------------------------------------------------------------------------
# Report


def _fmt(value: Any, spec: str = ".1f") -> str:
    return "-" if value is None else format(value, spec)


def table(results: dict, details: dict) -> str:
    bare = details["bare"]["stages"]
    lines = [
        f"National benchmark: {results['periods']} monthly periods, {results['pcns']} PCNs, "
        f"period {details['period']}, Prefect server {results['prefect_server']}, "
        f"{details['machine']['cpus']} CPUs",
        "",
        f"{'stage':<13}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}   "
        f"{'bare wall':>9}{'bare CPU':>9}{'bare RSS':>9}",
    ]
    for stage in STAGES:
        s, b = results["stages"].get(stage), bare.get(stage)
        lines.append(
            f"{stage:<13}{_fmt(s and s['wall_s']):>9}{_fmt(s and s['cpu_s']):>9}"
            f"{_fmt(s and s['peak_rss_mb'], '.0f'):>13}   {_fmt(b and b['wall_s']):>9}"
            f"{_fmt(b and b['cpu_s']):>9}{_fmt(b and b['peak_rss_mb'], '.0f'):>9}"
        )
    run = details["pipeline"]
    lines += [
        f"{'whole run':<13}{_fmt(results['total_wall_s']):>9}{_fmt(run['cpu_s']):>9}"
        f"{_fmt(run['peak_rss_mb'], '.0f'):>13}   {_fmt(results['bare_wall_s']):>9}"
        f"{_fmt(details['bare']['cpu_s']):>9}{_fmt(details['bare']['peak_rss_mb'], '.0f'):>9}",
        f"  outside the stages (start-up, Prefect server, imports, publish): "
        f"{_fmt(details['pipeline']['outside_stages_s'])} s",
        "",
    ]
    scaling = results["scaling"]
    small, large = (scaling.get(k) for k in sorted(scaling, key=int))
    growth = large / small if small and large else None
    checks = [
        ("end to end", results["total_wall_s"], TARGETS["total_wall_s"], "s"),
        ("rerun, unchanged inputs", results["rerun_wall_s"], TARGETS["rerun_wall_s"], "s"),
        ("peak RSS", run["peak_rss_mb"], TARGETS["peak_rss_mb"], "MB"),
        ("pipeline / bare", results["ratio"], TARGETS["ratio"], "x"),
        (
            f"scaling {'/'.join(sorted(scaling, key=int, reverse=True))} periods",
            growth,
            TARGETS["scaling"],
            "x",
        ),
    ]
    lines.append(f"{'target':<28}{'now':>10}{'target':>10}")
    for name, value, target, unit in checks:
        verdict = "-" if value is None else ("met" if value <= target else "NOT MET")
        lines.append(f"{name:<28}{_fmt(value, '.2f'):>10}{target:>9.1f}{unit:<3} {verdict}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "benchmark")
    parser.add_argument("--periods", type=int, default=24)
    parser.add_argument("--scaling-periods", type=int, default=6)
    parser.add_argument("--seed", type=int, default=20260801)
    parser.add_argument("--pcn", action="append", default=[], help="limit PCN pages (tests)")
    parser.add_argument(
        "--prefect-server",
        choices=("temporary", "running"),
        default="running" if os.environ.get("PREFECT_API_URL") else "temporary",
        help="temporary: each run starts its own (as `make run`); running: use PREFECT_API_URL "
        "or start one local server for all runs",
    )
    args = parser.parse_args(argv)
    work: Path = args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)

    started = time.time()
    print(f"[bench] landing zone: {args.periods} periods from {args.base}", flush=True)
    zone = build_zone(args.base, work / f"landing-{args.periods}", args.periods, args.seed)
    small = build_zone(
        args.base, work / f"landing-{args.scaling_periods}", args.scaling_periods, args.seed
    )
    period = zone.newest
    print(f"[bench] zones ready in {time.time() - started:.0f} s", flush=True)

    server, api_url = None, None
    if args.prefect_server == "running":
        api_url = os.environ.get("PREFECT_API_URL")
        if not api_url:
            server, api_url = start_server(work / "prefect-server")
    try:
        for name in ("out", "out-bare", f"out-{args.scaling_periods}"):
            shutil.rmtree(work / name, ignore_errors=True)
        out = work / "out"
        first, manifest = run_pipeline(zone.data_dir, out, period, api_url, args.pcn, "pipeline")
        stages = pipeline_stages(first, manifest)
        rerun, rerun_manifest = run_pipeline(zone.data_dir, out, period, api_url, args.pcn, "rerun")
        # the published release's working folder is the one kept (older ones are pruned)
        target = dbt_target_of(out, rerun_manifest)
        bare, bare_stages, bare_summary = run_bare(
            zone.data_dir, work / "out-bare", period, target, args.pcn
        )
        scaled, _ = run_pipeline(
            small.data_dir,
            work / f"out-{args.scaling_periods}",
            period,
            api_url,
            args.pcn,
            f"{args.scaling_periods} periods",
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)

    results = {
        "stages": {stage: stages.get(stage) for stage in STAGES},
        "total_wall_s": first.wall_s,
        "bare_wall_s": bare.wall_s,
        "ratio": round(first.wall_s / bare.wall_s, 2),
        "rerun_wall_s": rerun.wall_s,
        "periods": args.periods,
        "pcns": manifest["counts"]["pcns_published"],
        "prefect_server": args.prefect_server,
        "scaling": {str(args.scaling_periods): scaled.wall_s, str(args.periods): first.wall_s},
    }
    in_stages = sum(s["wall_s"] for s in stages.values() if s)
    details = {
        "period": period,
        "machine": {
            "cpus": cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "zone": {
            "periods": zone.periods,
            "landed_bytes": landed_bytes(zone.data_dir),
            "derived_files": zone.generated,
        },
        "pipeline": {
            "cpu_s": first.cpu_s,
            "peak_rss_mb": first.peak_rss_mb,
            "max_process_rss_mb": first.max_process_rss_mb,
            "outside_stages_s": round(first.wall_s - in_stages, 2),
            "stage_timings_s": manifest.get("stage_timings_s"),
            "counts": manifest.get("counts"),
            "rerun_cpu_s": rerun.cpu_s,
            # an unchanged rerun finds its publication key built and rebuilds nothing
            "rerun_reused_release": rerun_manifest["release_id"] == manifest["release_id"],
        },
        "bare": {
            "stages": bare_stages,
            "cpu_s": bare.cpu_s,
            "peak_rss_mb": bare.peak_rss_mb,
            "summary": bare_summary,
            "downloads_identical_to_pipeline": same_downloads(
                out / "site", work / "out-bare" / "site"
            ),
        },
        "scaling_cpu_s": {str(args.scaling_periods): scaled.cpu_s, str(args.periods): first.cpu_s},
        "benchmark_wall_s": round(time.time() - started, 1),
    }
    (work / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (work / "details.json").write_text(json.dumps(details, indent=2) + "\n", encoding="utf-8")
    report = table(results, details)
    (work / "table.txt").write_text(report + "\n", encoding="utf-8")
    print()
    print(report)
    print(f"\n[bench] {work / 'results.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
