"""Profile one national run with pyinstrument; summarise where the time goes.

    .venv/bin/python benchmarks/profile.py [--periods 24]

Runs `pcn-benchmark run` on the benchmark's landing zone (built by `make bench`, or here) under
pyinstrument in a child process, then writes to build/benchmark/:
- profile.pyisession, profile.html, profile.txt: the call tree of the main process (dbt runs in
  its own process: its time shows as a wait in `build_models`);
- hotspots.txt: the top functions by own time, and by total time inside project code;
- dbt_nodes.txt: dbt's own timing of each model and test (run_results.json), slowest first.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from generate import build_zone  # noqa: E402


def hotspots(session_path: Path, top: int = 10) -> str:
    from pyinstrument.session import Session

    session = Session.load(str(session_path))
    root = session.root_frame()
    own: dict[str, float] = defaultdict(float)
    project: dict[str, float] = defaultdict(float)

    def name_of(frame) -> str:
        path = frame.file_path_short or frame.file_path or ""
        return f"{frame.function}  ({path}:{frame.line_no})"

    def walk(frame, stack: frozenset[str]) -> None:
        if frame.function in ("[self]", "[await]") or frame.is_synthetic:
            return  # pyinstrument's own bookkeeping frames: their time is the parent's
        key = name_of(frame)
        own[key] += frame.total_self_time
        in_project = "/flows/" in (frame.file_path or "")
        if in_project and key not in stack:  # a recursive call counted once
            project[key] += frame.time
        for child in frame.children:
            walk(child, stack | {key})

    if root is not None:
        walk(root, frozenset())
    total = session.duration
    lines = [f"wall {total:.1f} s, CPU {session.cpu_time:.1f} s (main process only)", ""]
    lines.append(f"Top {top} functions by own time:")
    for key, seconds in sorted(own.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {seconds:7.2f} s  {100 * seconds / total:5.1f}%  {key}")
    lines += ["", f"Top {top * 2} project functions by total time (children included):"]
    for key, seconds in sorted(project.items(), key=lambda kv: -kv[1])[: top * 2]:
        lines.append(f"  {seconds:7.2f} s  {100 * seconds / total:5.1f}%  {key}")
    return "\n".join(lines)


def dbt_nodes(run_results: Path, top: int = 15) -> str:
    results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    by_kind: dict[str, float] = defaultdict(float)
    for r in results:
        by_kind[r["unique_id"].split(".")[0]] += r["execution_time"]
    elapsed = json.loads(run_results.read_text(encoding="utf-8"))["elapsed_time"]
    lines = [
        f"dbt: {len(results)} nodes, elapsed {elapsed:.1f} s; execution time summed: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(by_kind.items())),
        "",
    ]
    for r in sorted(results, key=lambda r: -r["execution_time"])[:top]:
        lines.append(f"  {r['execution_time']:6.2f} s  {r['unique_id']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, default=ROOT / "data" / "sample")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "benchmark")
    parser.add_argument("--periods", type=int, default=24)
    parser.add_argument("--seed", type=int, default=20260801)
    args = parser.parse_args(argv)
    work = args.work.resolve()
    zone = build_zone(args.base, work / f"landing-{args.periods}", args.periods, args.seed)
    out = work / "out-profile"
    session = work / "profile.pyisession"
    pyinstrument = str(Path(sys.executable).with_name("pyinstrument"))
    # a 50 ms interval: at the 1 ms default a national run leaves a 2.4 GB session
    command = [pyinstrument, "-i", "0.05", "-r", "pyisession", "-o", str(session)]
    command += ["-m", "flows.cli", "run"]
    command += ["--data-dir", str(zone.data_dir), "--out", str(out), "--period", zone.newest]
    subprocess.run(command, check=True, cwd=ROOT)
    for renderer, name in (("html", "profile.html"), ("text", "profile.txt")):
        subprocess.run(
            [pyinstrument, "--load", str(session), "-r", renderer, "-o", str(work / name)],
            check=True,
        )
    summary = hotspots(session)
    (work / "hotspots.txt").write_text(summary + "\n", encoding="utf-8")
    manifest = json.loads(((out / "site").resolve() / "manifest.json").read_text())
    run_results = out / "work" / manifest["release_id"] / "dbt_target" / "run_results.json"
    dbt_summary = dbt_nodes(run_results)
    (work / "dbt_nodes.txt").write_text(dbt_summary + "\n", encoding="utf-8")
    print("stage timings:", manifest["stage_timings_s"])
    print(summary)
    print()
    print(dbt_summary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
