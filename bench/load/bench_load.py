"""Load benchmark: insights pages (JSON, as the Graph API sends them) → raw table on DuckDB, against DuckDB alone.

    .venv/bin/python bench/load/bench_load.py                 # the recorded run (see README.md)
    .venv/bin/python bench/load/bench_load.py --pages 20      # quick

Both cases start from the same page files on disk (written before any clock starts) and write the same rows to
`raw.meta_insights` (the action lists nested in each row), in a fresh process each (peak RSS per case):
- `pipeline`: what the extractor does per page: parse the JSON (`json.loads`, as the SDK does with a response),
  `insights_jobs.normalize.normalize_insights` (API strings → typed rows, action lists → one record per type), then
  `BatchWriter.append` into `DuckDBWarehouse`, one batch, committed. Wall time from the first page read to the
  commit: nothing is subtracted (the writer's insert thread works on the other core meanwhile, so any subtraction
  would flatter the pipeline).
- `ceiling`: DuckDB alone: `read_json` of all the page files ONCE into a temporary table, then one `INSERT ...
  SELECT` with the casts and the action lists folded per type with list functions (no Python per row). Wall time
  from `read_json` to the end of the insert.
The rows written by both are compared by a digest of their content (every column but batch_id; records sorted).
Rows/s count insights rows, each with its action lists. Peak RSS is measured for N and 4N pages: a streamed writer's
memory does not grow with the page count. The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

ROWS_PER_PAGE = 500  # the extractor's page_limit
ACTION_TYPES = (
    "link_click",
    "landing_page_view",
    "offsite_conversion.fb_pixel_purchase",
    "onsite_conversion.purchase",
    "purchase",
    "omni_purchase",
    "offsite_conversion.fb_pixel_lead",
    "lead",
)
VALUE_TYPES = ("offsite_conversion.fb_pixel_purchase", "onsite_conversion.purchase", "purchase", "omni_purchase")
CONVERSION_TYPES = ("offsite_conversion.fb_pixel_purchase", "onsite_conversion.purchase")
WINDOWS = ("1d_click", "7d_click", "28d_click", "1d_view")
LISTS = ("actions", "action_values", "conversions", "conversion_values")
# DuckDB's memory limit in both cases, as the pipeline runs it (SENTRUM_DUCKDB_MEMORY_LIMIT; its own default would let
# the buffer pool grow to 80% of RAM, which is not the writer's memory)
MEMORY_LIMIT = "1GB"
KEY = ("acme", "act_1001", "ad_daily", date(2026, 10, 1), date(2026, 10, 28))


def _entry(rng: random.Random, action_type: str, money: bool) -> dict[str, str]:
    """One action entry as Meta sends it: `value` (the account's setting) and every requested window."""
    base = rng.randint(1, 40) if not money else rng.randint(0, 90_000) / 100
    entry = {"action_type": action_type, "value": f"{base:.2f}" if money else str(base)}
    for w in WINDOWS:
        v = max(0, base - rng.randint(0, 3))
        entry[w] = f"{v:.2f}" if money else str(v)
    return entry


def pages(n: int, seed: int = 7) -> Iterator[list[dict[str, Any]]]:
    """`n` pages of ad-level daily insights as the Graph API returns them (every metric a string): 8 action types,
    4 of them with values, 2 in the conversions lists, each entry with `value` and 4 windows (like the sandbox)."""
    rng = random.Random(seed)
    day0 = date(2026, 10, 1)
    for p in range(n):
        page = []
        for i in range(ROWS_PER_PAGE):
            ad = p * ROWS_PER_PAGE + i
            impressions = rng.randint(100, 50_000)
            clicks = rng.randint(0, impressions // 50)
            reach = max(1, impressions - rng.randint(0, impressions // 3))
            row: dict[str, Any] = {
                "account_id": "1001",
                "campaign_id": f"23800{ad // 100}",
                "adset_id": f"23801{ad // 10}",
                "ad_id": f"23802{ad}",
                "date_start": (day0 + timedelta(days=ad % 28)).isoformat(),
                "date_stop": (day0 + timedelta(days=ad % 28)).isoformat(),
                "spend": f"{rng.randint(0, 500_000) / 100:.2f}",
                "impressions": str(impressions),
                "clicks": str(clicks),
                "inline_link_clicks": str(clicks // 2),
                "reach": str(reach),
                "frequency": f"{impressions / reach:.6f}",
                "actions": [_entry(rng, t, False) for t in ACTION_TYPES],
                "action_values": [_entry(rng, t, True) for t in VALUE_TYPES],
                "conversions": [_entry(rng, t, False) for t in CONVERSION_TYPES],
                "conversion_values": [_entry(rng, t, True) for t in CONVERSION_TYPES],
            }
            page.append(row)
        yield page


def write_pages(n: int, directory: Path) -> list[Path]:
    """The pages as the response bodies' JSON, one file per page (untimed: this is the API's side)."""
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for i, page in enumerate(pages(n)):
        path = directory / f"page_{i:05d}.json"
        path.write_text(json.dumps(page))
        files.append(path)
    return files


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def cpu_s() -> float:
    """CPU seconds of this process, every thread (DuckDB's and the writer's insert thread included): less sensitive
    than wall time to other work on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def content_digest(con) -> dict[str, Any]:
    """Rows and a digest of every written column but batch_id (which differs between the cases), the action records
    in a fixed order: two cases that write the same content have the same digest. The sum of each row's MD5 (as a
    128-bit number): independent of row order, and computed streaming (no row text is kept)."""
    row = con.execute(
        "select count(*), sum(md5_number_upper(line)::hugeint), sum(md5_number_lower(line)::hugeint) from ("
        " select concat_ws('|', workspace_id, account_id, report, level, date_day, campaign_id, adset_id, ad_id,"
        " age, gender, country, publisher_platform, platform_position, device_platform, spend, impressions, clicks,"
        " inline_link_clicks, reach, frequency, cast(list_sort(actions) as varchar)) as line"
        " from raw.meta_insights)"
    ).fetchone()
    return {"rows": row[0], "digest": f"{row[1]:x}-{row[2]:x}" if row[0] else ""}


def _warm_up() -> None:
    """Once per process, before the clock: pyarrow's first cast imports pandas (~2 s here), a start-up cost of the
    process like importing duckdb, not a cost per page."""
    import pyarrow as pa

    pa.array(["1"]).cast(pa.decimal128(38, 9))


def run_pipeline(
    n: int, work: Path, files: list[Path] | None = None, insert_bytes: int | None = None, parsed: bool = False
) -> dict[str, Any]:
    from insights_jobs.normalize import normalize_insights
    from warehouse import BatchKey, DuckDBWarehouse

    files = files if files is not None else write_pages(n, work / "pages")
    _warm_up()
    # `parsed`: the pages as the SDK hands them over (parsed before the clock, held in memory)
    ready = [json.loads(f.read_bytes()) for f in files] if parsed else None
    rows = 0
    normalize_s = 0.0
    limits = {"memory_limit": MEMORY_LIMIT, **({"insert_bytes": insert_bytes} if insert_bytes else {})}
    with DuckDBWarehouse(work / "pipeline.duckdb", **limits) as wh:
        wh.ensure_raw()
        cpu = cpu_s()
        start = time.perf_counter()
        batch = wh.open_batch(BatchKey(*KEY), {})
        parse_s = append_s = 0.0
        for i, path in enumerate(files):
            t0 = time.perf_counter()
            page = ready[i] if ready is not None else json.loads(path.read_bytes())
            t1 = time.perf_counter()
            insights = normalize_insights(page, "ad_daily", "ad")
            t2 = time.perf_counter()
            batch.append("meta_insights", insights)
            append_s += time.perf_counter() - t2
            parse_s += t1 - t0
            normalize_s += t2 - t1
            rows += len(insights)
        t = time.perf_counter()
        batch.commit()
        commit_s = time.perf_counter() - t
        seconds = time.perf_counter() - start
        cpu = cpu_s() - cpu
        peak = rss_mb()  # before the digest, which reads the whole table back
        written = content_digest(wh._con)
    assert written["rows"] == rows, (written, rows)
    return {
        "case": "pipeline",
        "input": "parsed" if parsed else "json",
        "pages": n,
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds),
        "cpu_s": round(cpu, 3),
        # where the wall time went (the insert thread's work overlaps these; `append` includes waiting for it)
        "parse_s": round(parse_s, 3),
        "normalize_s": round(normalize_s, 3),
        "append_s": round(append_s, 3),
        "commit_s": round(commit_s, 3),
        "peak_rss_mb": round(peak, 1),
        "digest": written["digest"],
    }


_ENTRY = 'STRUCT(action_type VARCHAR, "value" VARCHAR, ' + ", ".join(f'"{w}" VARCHAR' for w in WINDOWS) + ")[]"
CEILING_COLUMNS = {
    "campaign_id": "VARCHAR",
    "adset_id": "VARCHAR",
    "ad_id": "VARCHAR",
    "date_start": "VARCHAR",
    "spend": "VARCHAR",
    "impressions": "VARCHAR",
    "clicks": "VARCHAR",
    "inline_link_clicks": "VARCHAR",
    "reach": "VARCHAR",
    "frequency": "VARCHAR",
    **{name: _ENTRY for name in LISTS},
}


def _ceiling_records() -> str:
    """SQL: the four lists of a row folded into one record per action type (the types of every list, in order of
    first appearance; a list without the type leaves its fields null), like normalize.action_records."""
    from insights_jobs.normalize import ATTRIBUTION_KEYS

    types = (
        "list_distinct(flatten([" + ", ".join(f"list_transform({m}, lambda e: e.action_type)" for m in LISTS) + "]))"
    )
    fields = ["action_type := t"]
    for m in LISTS:
        for w in ATTRIBUTION_KEYS:
            if w in ("value", *WINDOWS):
                value = f'cast(list_filter({m}, lambda e: e.action_type = t)[1]."{w}" as decimal(38, 9))'
            else:
                value = "cast(null as decimal(38, 9))"  # a window not in the pages' entries (1d_ev)
            fields.append(f"{m}_{w} := {value}")
    return f"list_transform({types}, lambda t: struct_pack({', '.join(fields)}))"


def run_ceiling(n: int, work: Path, files: list[Path] | None = None, parsed: bool = False) -> dict[str, Any]:
    from warehouse import DuckDBWarehouse

    files = files if files is not None else write_pages(n, work / "pages")
    directory = files[0].parent
    with DuckDBWarehouse(work / "ceiling.duckdb", memory_limit=MEMORY_LIMIT) as wh:
        wh.ensure_raw()
        con = wh._con  # the ceiling is DuckDB itself, not the warehouse's code
        cols = ", ".join(f"'{k}': '{v}'" for k, v in CEILING_COLUMNS.items())
        parse = (
            f"create temp table pages as select * from read_json('{directory}/*.json', format = 'array', "
            f"columns = {{{cols}}})"
        )
        if parsed:  # `parsed`: DuckDB's own parsed pages (a table) before the clock
            con.execute(parse)
        cpu = cpu_s()
        start = time.perf_counter()
        if not parsed:  # parsed once into a table: every later step reads the table, never the JSON again
            con.execute(parse)
        con.execute(
            "insert into raw.meta_insights (workspace_id, batch_id, account_id, report, level, date_day, "
            "campaign_id, adset_id, ad_id, spend, impressions, clicks, inline_link_clicks, reach, frequency, actions) "
            "select 'acme', 'b1', 'act_1001', 'ad_daily', 'ad', cast(date_start as date), campaign_id, adset_id, "
            "ad_id, cast(spend as decimal(38, 9)), cast(impressions as bigint), cast(clicks as bigint), "
            "cast(inline_link_clicks as bigint), cast(reach as bigint), cast(frequency as double), "
            f"{_ceiling_records()} from pages"
        )
        seconds = time.perf_counter() - start
        cpu = cpu_s() - cpu
        peak = rss_mb()  # before the digest, which reads the whole table back
        written = content_digest(con)
    return {
        "case": "ceiling",
        "input": "parsed" if parsed else "json",
        "pages": n,
        "rows": written["rows"],
        "seconds": round(seconds, 3),
        "rows_per_s": round(written["rows"] / seconds),
        "cpu_s": round(cpu, 3),
        "peak_rss_mb": round(peak, 1),
        "digest": written["digest"],
    }


def one(case: str, n: int, parsed: bool = False) -> dict[str, Any]:
    """Run a case in a fresh interpreter (peak RSS is per process)."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", case, "--pages", str(n), *(["--parsed"] if parsed else [])],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{case} with {n} pages failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=100, help="N: pages of 500 rows (the memory check uses 4N)")
    parser.add_argument("--child", choices=["pipeline", "ceiling"], help=argparse.SUPPRESS)
    parser.add_argument("--insert-mb", type=int, help=argparse.SUPPRESS)  # the writer's buffer, to tune it
    parser.add_argument("--parsed", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory(prefix="sentrum-bench-") as tmp:
            work = Path(tmp)
            files = write_pages(args.pages, work / "pages")
            if args.child == "pipeline":
                insert_bytes = args.insert_mb * 1024 * 1024 if args.insert_mb else None
                result = run_pipeline(args.pages, work, files, insert_bytes, parsed=args.parsed)
            else:
                result = run_ceiling(args.pages, work, files, parsed=args.parsed)
            print(json.dumps(result))
        return
    import duckdb
    import pyarrow

    n = args.pages
    load_before = os.getloadavg()
    ceiling, small = one("ceiling", n), one("pipeline", n)
    ceiling_parsed, small_parsed = one("ceiling", n, parsed=True), one("pipeline", n, parsed=True)
    ceiling_large, large = one("ceiling", 4 * n), one("pipeline", 4 * n)
    load_after = os.getloadavg()
    results = [ceiling, small, ceiling_parsed, small_parsed, ceiling_large, large]
    for c, p in ((ceiling, small), (ceiling_parsed, small_parsed), (ceiling_large, large)):
        if c["digest"] != p["digest"] or c["rows"] != p["rows"]:
            raise SystemExit(f"the two cases wrote different rows at {p['pages']} pages: {c} vs {p}")
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cpu, Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}, pyarrow {pyarrow.__version__}"
    )
    for r in results:
        print(json.dumps(r))
    share = small["rows_per_s"] / ceiling["rows_per_s"]
    share_parsed = small_parsed["rows_per_s"] / ceiling_parsed["rows_per_s"]
    share_large = large["rows_per_s"] / ceiling_large["rows_per_s"]
    growth = large["peak_rss_mb"] / small["peak_rss_mb"]
    print(
        f"pipeline / ceiling from parsed pages = {share_parsed:.0%} at {n} pages (goal >= 50%); from JSON text "
        f"= {share:.0%} at {n} pages, {share_large:.0%} at {4 * n}; pipeline peak RSS {4 * n} vs {n} pages = "
        f"x{growth:.2f}; same content digest in every pair; load average {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    print(
        json.dumps(
            {
                "pages": n,
                "rows": small["rows"],
                "ratio_parsed": round(share_parsed, 3),
                "ceiling_rows_per_s_parsed": ceiling_parsed["rows_per_s"],
                "pipeline_rows_per_s_parsed": small_parsed["rows_per_s"],
                "ratio_json": round(share, 3),
                "ceiling_rows_per_s_json": ceiling["rows_per_s"],
                "pipeline_rows_per_s_json": small["rows_per_s"],
                "ratio_json_4n": round(share_large, 3),
                "cpu_ratio_json": round(ceiling["cpu_s"] / small["cpu_s"], 3),
                "pipeline_peak_rss_mb": small["peak_rss_mb"],
                "pipeline_peak_rss_mb_4n": large["peak_rss_mb"],
                "rss_growth_4n": round(growth, 2),
                "loadavg_1m_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
            }
        )
    )


if __name__ == "__main__":
    main()
