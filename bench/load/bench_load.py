"""Load benchmark: insights pages → raw tables on DuckDB, against DuckDB's own `read_json` of the same pages.

    .venv/bin/python bench/load/bench_load.py                 # the recorded run (see README.md)
    .venv/bin/python bench/load/bench_load.py --pages 20      # quick

Measured, each in a fresh process so peak RSS belongs to one case:
- `pipeline`: what the extractor does per page: `insights_jobs.normalize.normalize_insights` (API dicts → typed rows)
  then `BatchWriter.append` into `DuckDBWarehouse` (meta_insights + meta_insights_actions), one batch, committed.
  The pages come from a generator (as from the SDK's cursor): nothing accumulates but what the code under test keeps.
- `ceiling`: DuckDB parsing the same pages from JSON files with `read_json` and writing the same rows with SQL
  (casts, the action lists unnested per attribution window): no Python per row at all.
Rows are counted as written rows (insights rows + action rows). Peak RSS is measured for N and 4N pages: a streamed
writer's memory does not grow with the page count.
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
WINDOWS = ("1d_click", "7d_click", "28d_click", "1d_view")


def pages(n: int, seed: int = 7) -> Iterator[list[dict[str, Any]]]:
    """`n` pages of ad-level daily insights as the Graph API returns them (every metric a string)."""
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
            }
            actions = []
            for t in ACTION_TYPES:
                base = rng.randint(1, 40)
                entry = {"action_type": t, "value": str(base)}
                for w in WINDOWS:
                    entry[w] = str(max(0, base - rng.randint(0, 3)))
                actions.append(entry)
            row["actions"] = actions
            row["action_values"] = [
                {"action_type": t, "value": f"{rng.randint(0, 90_000) / 100:.2f}", "7d_click": "12.50"}
                for t in VALUE_TYPES
            ]
            page.append(row)
        yield page


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run_pipeline(n: int, work: Path) -> dict[str, Any]:
    from insights_jobs.normalize import normalize_insights
    from warehouse import BatchKey, DuckDBWarehouse

    rows = 0
    normalize_s = 0.0
    with DuckDBWarehouse(work / "pipeline.duckdb") as wh:
        wh.ensure_raw()
        source = pages(n)
        generate_s = 0.0  # the generator's own cost is not the pipeline's: timed apart and subtracted
        start = time.perf_counter()
        batch = wh.open_batch(BatchKey("acme", "act_1001", "ad_daily", date(2026, 10, 1), date(2026, 10, 28)), {})
        while True:
            t = time.perf_counter()
            page = next(source, None)
            generate_s += time.perf_counter() - t
            if page is None:
                break
            t = time.perf_counter()
            insights, actions = normalize_insights(page, "ad_daily", "ad")
            normalize_s += time.perf_counter() - t
            batch.append("meta_insights", insights)
            batch.append("meta_insights_actions", actions)
            rows += len(insights) + len(actions)
        batch.commit()
        seconds = time.perf_counter() - start
        written = wh.query("select count(*) as n from raw.meta_insights")[0]["n"]
        written += wh.query("select count(*) as n from raw.meta_insights_actions")[0]["n"]
    assert written == rows, (written, rows)
    net = seconds - generate_s
    return {
        "case": "pipeline",
        "pages": n,
        "rows": rows,
        "seconds": round(net, 3),
        "rows_per_s": round(rows / net),
        "normalize_share": round(normalize_s / net, 2),
        "peak_rss_mb": round(rss_mb(), 1),
    }


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
    "actions": 'STRUCT(action_type VARCHAR, "value" VARCHAR, "1d_click" VARCHAR, "7d_click" VARCHAR, '
    '"28d_click" VARCHAR, "1d_view" VARCHAR)[]',
    "action_values": 'STRUCT(action_type VARCHAR, "value" VARCHAR, "1d_click" VARCHAR, "7d_click" VARCHAR, '
    '"28d_click" VARCHAR, "1d_view" VARCHAR)[]',
}


def run_ceiling(n: int, work: Path) -> dict[str, Any]:
    from warehouse import DuckDBWarehouse

    files = work / "pages"
    files.mkdir(exist_ok=True)
    for i, page in enumerate(pages(n)):
        (files / f"page_{i:05d}.json").write_text(json.dumps(page))
    with DuckDBWarehouse(work / "ceiling.duckdb") as wh:
        wh.ensure_raw()
        con = wh._con  # the ceiling is DuckDB itself, not the warehouse's code
        cols = ", ".join(f"'{k}': '{v}'" for k, v in CEILING_COLUMNS.items())
        src = f"read_json('{files}/*.json', format = 'array', columns = {{{cols}}})"
        key = (
            "'acme', 'b1', 'act_1001', 'ad_daily', 'ad', cast(date_start as date), campaign_id, adset_id, ad_id, "
            "null, null, null, null, null, null"
        )
        start = time.perf_counter()
        con.execute(
            "insert into raw.meta_insights (workspace_id, batch_id, account_id, report, level, date_day, "
            "campaign_id, adset_id, ad_id, age, gender, country, publisher_platform, platform_position, "
            "device_platform, spend, impressions, clicks, inline_link_clicks, reach, frequency) "
            f"select {key}, cast(spend as decimal(38, 9)), cast(impressions as bigint), cast(clicks as bigint), "
            "cast(inline_link_clicks as bigint), cast(reach as bigint), cast(frequency as double) from " + src
        )
        windows = ["value", *WINDOWS]
        unions = " union all ".join(
            f"select {key}, '{metric}' as metric, a.action_type, '{w}' as attribution_window, "
            f'cast(a."{w}" as decimal(38, 9)) from (select *, unnest({metric}) as a from {src}) '
            f'where a."{w}" is not null'
            for metric in ("actions", "action_values")
            for w in windows
        )
        con.execute(
            "insert into raw.meta_insights_actions (workspace_id, batch_id, account_id, report, level, date_day, "
            "campaign_id, adset_id, ad_id, age, gender, country, publisher_platform, platform_position, "
            f"device_platform, metric, action_type, attribution_window, value) {unions}"
        )
        seconds = time.perf_counter() - start
        rows = con.execute("select count(*) from raw.meta_insights").fetchone()[0]
        rows += con.execute("select count(*) from raw.meta_insights_actions").fetchone()[0]
    return {
        "case": "ceiling",
        "pages": n,
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(rss_mb(), 1),
    }


def one(case: str, n: int) -> dict[str, Any]:
    """Run a case in a fresh interpreter (peak RSS is per process)."""
    proc = subprocess.run(
        [sys.executable, __file__, "--child", case, "--pages", str(n)],
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
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory(prefix="sentrum-bench-") as tmp:
            fn = run_pipeline if args.child == "pipeline" else run_ceiling
            print(json.dumps(fn(args.pages, Path(tmp))))
        return
    import duckdb
    import pyarrow

    n = args.pages
    results = [one("ceiling", n), one("pipeline", n), one("ceiling", 4 * n), one("pipeline", 4 * n)]
    ceiling, small, ceiling_large, large = results
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} cpu, Python {platform.python_version()}, "
        f"duckdb {duckdb.__version__}, pyarrow {pyarrow.__version__}"
    )
    for r in results:
        print(json.dumps(r))
    share = small["rows_per_s"] / ceiling["rows_per_s"]
    share_large = large["rows_per_s"] / ceiling_large["rows_per_s"]
    growth = large["peak_rss_mb"] / small["peak_rss_mb"]
    print(
        f"pipeline / ceiling = {share:.0%} at {n} pages, {share_large:.0%} at {4 * n} (goal >= 50%); "
        f"pipeline peak RSS {4 * n} vs {n} pages = x{growth:.2f}"
    )


if __name__ == "__main__":
    main()
