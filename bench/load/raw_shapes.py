"""The candidate raw shapes of the action lists, measured on the same information (bench/load/README.md, "Raw shape
of the actions"): rows, bytes, and the cost of turning each into the marts' grain under a memory limit.

    .venv/bin/python bench/load/workspace_month.py --keep            # prints the warehouse's work directory
    .venv/bin/python bench/load/raw_shapes.py bench/.work/month-XXXX/warehouse.duckdb

Shapes, all derived from the warehouse's `raw.meta_insights` (the chosen shape: `actions` nested in the row):
- `rows`: the old table, one row per (insights key, list, action type, window);
- `windows`: one row per (insights key, list, action type), a column per window (Fivetran's and Airbyte's shape);
- `types`: one row per (insights key, action type), a column per (list, window);
- `nested`: no row of its own: a list of per-type records in the insights row (what raw holds now).
Bytes: DuckDB (each shape alone in a file), Parquet (snappy, what a BigQuery load carries) and BigQuery's logical
bytes (what a query reading every column is billed: STRING 2 + length, NUMERIC 16, DATE 8, NULL 0). The mart grain
is (insights grain, action type, window) with one column per list, what `int_meta__insights_actions_pivoted` builds;
it is computed in a fresh process per shape, DuckDB at `--memory-limit` and 2 threads. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

KEY = (
    "workspace_id, batch_id, account_id, report, level, date_day, campaign_id, adset_id, ad_id, age, gender, country, "
    "publisher_platform, platform_position, device_platform"
)
GRAIN = KEY.replace("batch_id, ", "")
METRICS = ("actions", "action_values", "conversions", "conversion_values")
WINDOWS = ("value", "1d_click", "7d_click", "28d_click", "1d_view", "1d_ev")
SHAPES = ("rows", "windows", "types", "nested")


def _window_column(w: str) -> str:
    return "value_default" if w == "value" else "d" + w.replace("d_", "_")  # 1d_click -> d1_click


def build(source: Path, work: Path) -> dict[str, Path]:
    """Each shape in a DuckDB file of its own (plus the insights rows without their actions, the shared part)."""
    import duckdb

    fields = [f"{m}_{w}" for m in METRICS for w in WINDOWS]
    per_type = f"select {KEY}, a.* from (select {KEY}, unnest(actions) as a from src.raw.meta_insights)"
    old_rows = " union all ".join(
        f"select {KEY}, '{m}' as metric, action_type, '{w}' as attribution_window, {m}_{w} as value "
        f"from per_type where {m}_{w} is not null"
        for m in METRICS
        for w in WINDOWS
    )
    windows = ", ".join(
        f"max(case when attribution_window = '{w}' then value end) as {_window_column(w)}" for w in WINDOWS
    )
    sql = {
        "insights": "select * exclude (actions) from src.raw.meta_insights",
        "rows": f"with per_type as ({per_type}) {old_rows}",
        "windows": f"select {KEY}, metric, action_type, {windows} from old.t group by all",
        "types": f"select {KEY}, action_type, {', '.join(fields)} from ({per_type})",
        "nested": "select * from src.raw.meta_insights",
    }
    paths = {}
    for name in ("insights", "rows", "windows", "types", "nested"):
        path = paths[name] = work / f"{name}.duckdb"
        with duckdb.connect(str(path), config={"memory_limit": "2GB", "temp_directory": str(work / "spill")}) as con:
            con.execute(f"attach '{source}' as src (read_only)")
            if name == "windows":
                con.execute(f"attach '{paths['rows']}' as old (read_only)")
            con.execute(f"create table t as {sql[name]}")
            con.execute("checkpoint")
    return paths


def _bq_bytes(con, columns: list[tuple[str, str]]) -> int:
    """BigQuery's logical bytes of table t: STRING 2 + length, DATE/INT64/FLOAT64 8, NUMERIC 16, NULL 0."""
    parts = []
    for name, type_ in columns:
        ref = f'"{name}"'
        if type_.startswith("STRUCT"):
            inner = ", ".join(
                "coalesce(2 + strlen(r.action_type), 0)"
                if f == "action_type"
                else f"(case when r.{f} is null then 0 else 16 end)"
                for f in ["action_type", *(f"{m}_{w}" for m in METRICS for w in WINDOWS)]
            )
            parts.append(f"coalesce((select sum({inner.replace(', ', ' + ')}) from unnest({ref}) as u(r)), 0)")
        elif type_ == "VARCHAR":
            parts.append(f"coalesce(2 + strlen({ref}), 0)")
        elif type_.startswith("DECIMAL"):
            parts.append(f"(case when {ref} is null then 0 else 16 end)")
        else:
            parts.append(f"(case when {ref} is null then 0 else 8 end)")
    return int(con.execute(f"select sum({' + '.join(parts)}) from t").fetchone()[0] or 0)


def measure_bytes(paths: dict[str, Path], work: Path) -> dict[str, dict[str, Any]]:
    import duckdb

    out = {}
    for name, path in paths.items():
        with duckdb.connect(str(path), read_only=True) as con:
            columns = [(r[0], r[1]) for r in con.execute("describe t").fetchall()]
            parquet = work / f"{name}.parquet"
            con.execute(f"copy t to '{parquet}' (format parquet, compression snappy)")
            out[name] = {
                "rows": con.execute("select count(*) from t").fetchone()[0],
                "duckdb_mb": round(path.stat().st_size / 2**20, 1),
                "parquet_mb": round(parquet.stat().st_size / 2**20, 1),
                "bigquery_logical_mb": round(_bq_bytes(con, columns) / 2**20),
            }
    return out


def _to_grain_sql(shape: str) -> str:
    """The mart grain from each shape: (grain, action_type, window) and one column per list."""
    cases = ", ".join(
        f"case w {' '.join(f'when {chr(39)}{w}{chr(39)} then {{col}}_{w}'.replace('{col}', m) for w in WINDOWS)} "
        f"end as {m}"
        for m in METRICS
    )
    unpivot = (
        "select * from (select {grain}, action_type, w as attribution_window, " + cases + " from ({src}), "
        "unnest(['value', '1d_click', '7d_click', '28d_click', '1d_view', '1d_ev']) as ws(w)) "
        "where coalesce(actions, action_values, conversions, conversion_values) is not null"
    )
    if shape == "rows":
        sums = ", ".join(f"sum(case when metric = '{m}' then value end) as {m}" for m in METRICS)
        return f"select {GRAIN}, action_type, attribution_window, {sums} from t group by all"
    if shape == "windows":
        pivot = ", ".join(
            f"max(case when metric = '{m}' then {_window_column(w)} end) as {m}_{w}" for m in METRICS for w in WINDOWS
        )
        return unpivot.format(grain=GRAIN, src=f"select {GRAIN}, action_type, {pivot} from t group by all")
    if shape == "types":
        return unpivot.format(grain=GRAIN, src="select * from t")
    return unpivot.format(grain=GRAIN, src=f"select {GRAIN}, a.* from (select {GRAIN}, unnest(actions) as a from t)")


def to_grain_child(path: str, shape: str, memory_limit: str, spill: str) -> None:
    import duckdb

    con = duckdb.connect(path, read_only=True, config={"memory_limit": memory_limit, "threads": 2})
    con.execute(f"set temp_directory = '{spill}'")
    started = time.perf_counter()
    n, total = con.execute(f"select count(*), sum(actions) from ({_to_grain_sql(shape)})").fetchone()
    print(json.dumps({"grain_rows": n, "sum_actions": str(total), "seconds": round(time.perf_counter() - started, 2)}))


def measure_grain(paths: dict[str, Path], memory_limit: str, work: Path) -> dict[str, dict[str, Any]]:
    import psutil

    out = {}
    for shape in SHAPES:
        cmd = [sys.executable, __file__, "--child", shape, str(paths[shape]), memory_limit, str(work / "spill")]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        peak = 0
        while proc.poll() is None:
            with contextlib.suppress(psutil.Error):
                peak = max(peak, psutil.Process(proc.pid).memory_info().rss)
            time.sleep(0.05)
        stdout, stderr = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"{shape}: {stderr[-2000:]}")
        out[shape] = {**json.loads(stdout.strip().splitlines()[-1]), "peak_rss_mb": round(peak / 2**20)}
    sums = {r["sum_actions"] for r in out.values()}
    grains = {r["grain_rows"] for r in out.values()}
    if len(sums) != 1 or len(grains) != 1:
        raise SystemExit(f"the shapes do not hold the same information: {out}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("warehouse", nargs="?", help="a DuckDB warehouse file with raw.meta_insights")
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        shape, path, memory_limit, spill = args.child
        to_grain_child(path, shape, memory_limit, spill)
        return
    if not args.warehouse or not Path(args.warehouse).is_file():
        parser.error("give the warehouse file of a `workspace_month.py --keep` run")
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="shapes-", dir=Path(args.warehouse).parent) as tmp:
        work = Path(tmp)
        (work / "spill").mkdir()
        paths = build(Path(args.warehouse).resolve(), work)
        sizes = measure_bytes(paths, work)
        grain = measure_grain(paths, args.memory_limit, work)
    for shape in SHAPES:
        print(json.dumps({"shape": shape, **sizes[shape], "to_grain": grain[shape]}))
    old = sizes["rows"]["rows"]
    print(
        json.dumps(
            {
                "insights_rows": sizes["insights"]["rows"],
                "insights_without_actions": sizes["insights"],
                "action_rows": {s: sizes[s]["rows"] if s != "nested" else 0 for s in SHAPES},
                "fewer_rows_than_old": {s: round(old / sizes[s]["rows"], 2) for s in ("windows", "types")},
                "nested_records": sizes["types"]["rows"],  # one per (insights row, action type)
                # what the actions cost on top of the insights rows: a table of their own, or the nested column
                "actions_bigquery_logical_mb": {
                    s: sizes[s]["bigquery_logical_mb"]
                    - (sizes["insights"]["bigquery_logical_mb"] if s == "nested" else 0)
                    for s in SHAPES
                },
                "actions_duckdb_mb": {
                    s: round(sizes[s]["duckdb_mb"] - (sizes["insights"]["duckdb_mb"] if s == "nested" else 0), 1)
                    for s in SHAPES
                },
                "shapes": {s: {**sizes[s], "to_grain": grain[s]} for s in SHAPES},
                "memory_limit": args.memory_limit,
                "loadavg_1m_before_after": [round(load[0], 2), round(os.getloadavg()[0], 2)],
            }
        )
    )


if __name__ == "__main__":
    main()
