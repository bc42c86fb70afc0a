"""The same job run bare: the project's readers, the same SQL in DuckDB and the same Jinja
templates and WeasyPrint PDF, without Prefect, dbt or Great Expectations.

Run as its own process by benchmarks/run.py (so its wall time includes start-up and imports, as
the pipeline's does):

    python benchmarks/bare.py --data-dir ZONE --out DIR --period P --dbt-target TARGET

TARGET is the `dbt_target` folder of a pipeline run on the same inputs: its `manifest.json` gives
the models, their materialisation and their order, and `compiled/` the SQL dbt ran. Seeds are
loaded with DuckDB's CSV reader; dbt's data tests and the GX suites are not run (they are the
frameworks' work this comparison leaves out). Prints one JSON line per stage with wall-clock
start and end (time.time()) for the sampler in run.py to attribute CPU and memory.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

import flows  # noqa: F401  (offline defaults)
from flows import changes, landing, normalise, publish, release_info, render
from flows.release_info import default_release_date
from flows.settings import DBT_PROJECT_DIR, DUCKDB_OFFLINE, get_settings

# Prefect, dbt and GX must stay out of this process: check at the end that none was imported
FRAMEWORKS = ("prefect", "dbt", "great_expectations")


@contextmanager
def stage(name: str) -> Iterator[None]:
    start = time.time()
    try:
        yield
    finally:
        print(json.dumps({"stage": name, "start": start, "end": time.time()}), flush=True)


def topological(nodes: dict[str, dict]) -> list[str]:
    """Model and seed ids in an order where every node follows what it depends on."""
    order: list[str] = []
    seen: set[str] = set()

    def visit(node_id: str) -> None:
        if node_id in seen or node_id not in nodes:
            return
        seen.add(node_id)
        for parent in sorted(nodes[node_id]["depends_on"].get("nodes", [])):
            visit(parent)
        order.append(node_id)

    for node_id in sorted(nodes):
        visit(node_id)
    return order


def build_sql(dbt_target: Path, parquet_dir: Path, db_path: Path) -> int:
    """Seeds and models as dbt built them, in dependency order; returns the models run."""
    manifest = json.loads((dbt_target / "manifest.json").read_text(encoding="utf-8"))
    nodes = {k: v for k, v in manifest["nodes"].items() if v["resource_type"] in ("model", "seed")}
    # the pipeline's Parquet folder appears in the compiled source locations: point at ours
    sources = manifest.get("sources", {}).values()
    locations = [s.get("meta", {}).get("external_location", "") for s in sources]
    old_dirs = {
        str(Path(m.group(1)).parent)
        for loc in locations
        if (m := re.search(r"'([^']+\.parquet)'", loc))
    }
    if db_path.exists():
        db_path.unlink()
    con = duckdb.connect(
        str(db_path),
        config={**DUCKDB_OFFLINE, "threads": 1},  # one thread as dbt's profile: identical sums
    )
    models = 0
    try:
        for node_id in topological(nodes):
            node = nodes[node_id]
            name = node.get("alias") or node["name"]
            if node["resource_type"] == "seed":
                seed = DBT_PROJECT_DIR / node["original_file_path"]
                con.execute(
                    f'create or replace table "{name}" as select * from read_csv(?, header=true)',
                    [str(seed)],
                )
                continue
            compiled = dbt_target / "compiled" / node["package_name"] / node["original_file_path"]
            sql = compiled.read_text(encoding="utf-8")
            for old in old_dirs:
                sql = sql.replace(old, str(parquet_dir.resolve()))
            kind = "view" if node["config"]["materialized"] == "view" else "table"
            con.execute(f'create or replace {kind} "{name}" as {sql}')
            models += 1
    finally:
        con.close()
    return models


def run(data_dir: Path, out: Path, period: str, dbt_target: Path, pcn_codes: list[str]) -> dict:
    settings = get_settings()
    release_id = f"{period}_bare_{datetime.now(UTC):%Y%m%dT%H%M%S}"
    work = out / "work" / release_id
    parquet_dir, db_path = work / "parquet", work / "pcn_benchmark.duckdb"
    with stage("land"):
        landed = landing.scan(data_dir)
        normalise.check_required(landing.select_for_period(landed, period), period)
        selected = landing.select_with_series(landed, period)
        for f in selected:
            landing.verify(f)
        inputs = normalise.normalise_files(selected, parquet_dir)
        normalise.write_empty_tables(selected, parquet_dir)
    with stage("dbt"):
        models = build_sql(dbt_target, parquet_dir, db_path)
    with render.connect(db_path) as con:
        codes = [r[0] for r in con.execute("select pcn_code from dim_pcns order by 1").fetchall()]
    codes = sorted(pcn_codes) if pcn_codes else codes
    release_dir = publish.new_release_dir(out, release_id)
    site = release_info.site_metadata(settings, period, default_release_date(period), inputs)
    site["source_changes"] = changes.source_changes(landed, period)
    print_dir = str(work / "print")
    # as many render processes as the pipeline's task runner (the CPU count, or
    # PREFECT_TASKS_RUNNER_PROCESS_POOL_MAX_WORKERS), so the ratio compares like with like
    workers = int(
        os.environ.get("PREFECT_TASKS_RUNNER_PROCESS_POOL_MAX_WORKERS") or os.cpu_count() or 1
    )
    size = settings.render_batch_size
    batches = [codes[i : i + size] for i in range(0, len(codes), size)]
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
        with stage("html"):
            # no suites ran: the quality page shows inputs and coverage with no checks
            quality = release_info.quality_summary(inputs, [], [], parquet_dir, db_path)
            render.write_downloads(str(db_path), str(release_dir))
            page_batches = [
                pool.submit(
                    render.render_pcn_pages, str(db_path), b, str(release_dir), site, print_dir
                )
                for b in batches
            ]
            pages = sum(done.result() for done in page_batches)
            render.render_site_pages(str(db_path), str(release_dir), site, quality)
        with stage("national_pdf"):
            render.render_report_pdf(str(release_dir), site)
        with stage("pcn_pdfs"):
            pdf_batches = [
                pool.submit(render.render_pcn_pdfs, b, print_dir, str(release_dir)) for b in batches
            ]
            for done in pdf_batches:
                done.result()
    with stage("publish"):
        publish.publish(out, release_dir)
    leaked = sorted(m for m in sys.modules if m.split(".")[0] in FRAMEWORKS)
    return {"models": models, "pcn_pages": pages, "frameworks_imported": leaked[:5]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--period", required=True)
    parser.add_argument("--dbt-target", type=Path, required=True)
    parser.add_argument("--pcn", nargs="*", default=[])
    args = parser.parse_args(argv)
    summary = run(args.data_dir, args.out, args.period, args.dbt_target, args.pcn)
    print(json.dumps({"summary": summary}), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
