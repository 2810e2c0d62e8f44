"""dbt on BigQuery (the emulator) builds the same marts as dbt on DuckDB, from the same raw batches.

The raw data is real extractor output: `insights_jobs.extract_workspace` against the Graph API sandbox, recorded
once, then replayed batch by batch (same batch ids, same manifest timestamps) into a DuckDB file through
`DuckDBWarehouse` and into emulator datasets through `BigQueryWarehouse` (load jobs). On top of the recording: a
re-pull of one account's ad_daily report with restated numbers (must supersede), and a crashed copy of it with
bogus numbers (must never show). Then `dbt build` runs on both targets at once, twice (a full build, then an
incremental run over a narrower window after another restatement), and every mart that exists is compared row by
row. Whatever models the project holds are built; nothing here names them.

The windows reach dbt as the orchestrator passes them (SENTRUM_DBT_WINDOW_START/_END), and night two starts from
night one's saved parse, as a run starts from the prepared one: dbt must re-parse the facts, whose BigQuery config
(the static partition list) is computed from the window at parse time, or night two would replace night one's
partitions.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.bigquery.recording_proxy import RecordingProxy
from tests.support import bq_emulator
from warehouse import BatchKey, DuckDBWarehouse
from warehouse.bigquery_backend import BigQueryWarehouse

pytestmark = pytest.mark.bigquery

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
# The dbt executable the marts runs start (orchestration/dbt_command.py): dbt's own command line, with the
# pipeline's garbage-collector settings (orchestration/gc_tuning.py).
DBT = Path(sys.executable).with_name("sentrum-dbt")
WINDOW_START, WINDOW_END = date(2026, 10, 20), date(2026, 10, 26)
# night two's window: the restated last two days and one more
NIGHT_TWO = (WINDOW_END - timedelta(days=2), WINDOW_END)
T0 = datetime(2026, 10, 27, 3, 0, tzinfo=UTC)
# dbt's own generic tests (their SQL is dbt-bigquery's, tested there) are left out on BigQuery to save a minute;
# the project's generic tests (unique_combination, relationships_by_keys), singular tests and unit tests all run.
STOCK_TESTS = ["--exclude", "test_name:not_null", "test_name:unique", "test_name:accepted_values"]
# SENTRUM_BQ_MAX_BYTES_BILLED for dbt's profile (the emulator does not enforce it; the requests carry it)
MAX_BYTES_BILLED = 987_654_321_000


# ---- recording the extractor's batches ---------------------------------------------------------------------


@dataclass
class Recorded:
    workspace_id: str
    account_id: str
    report: str
    date_start: date | None
    date_end: date | None
    params: Mapping[str, Any]
    pages: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    committed: bool = False
    batch_id: str = ""


class _RecordingBatch:
    def __init__(self, rec: Recorded) -> None:
        self.rec = rec

    def append(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        self.rec.pages.append((table, [dict(r) for r in rows]))

    def commit(self) -> Recorded:
        self.rec.committed = True
        return self.rec


class RecordingSink:
    """The extractor's Sink: keeps every batch in commit order (the order the manifest will hold)."""

    def __init__(self) -> None:
        self.batches: list[Recorded] = []
        self._lock = threading.Lock()

    def open_batch(self, workspace_id, account_id, report, window, params) -> _RecordingBatch:
        rec = Recorded(
            workspace_id,
            account_id,
            report,
            window.start if window else None,
            window.end if window else None,
            dict(params),
        )
        with self._lock:
            self.batches.append(rec)
        return _RecordingBatch(rec)


def record_extraction() -> list[Recorded]:
    from graph_sandbox import SandboxServer, Scenario
    from insights_jobs import ExtractConfig, Window
    from insights_jobs.extract import extract_workspace

    sink = RecordingSink()
    scenario = Scenario("small", 11)
    with SandboxServer(scenario, job_seconds=0.05) as server:
        config = ExtractConfig(graph_url=server.url, api_version="v26.0", job_poll_initial_s=0.05)
        for ws in scenario.workspaces():
            result = extract_workspace(
                ws.workspace_id, ws.token, ws.account_ids, sink, config, window=Window(WINDOW_START, WINDOW_END)
            )
            assert result.ok, f"extraction of {ws.workspace_id} failed: {getattr(result, 'errors', result)}"
    batches = [b for b in sink.batches if b.committed]
    assert batches, "the extractor wrote nothing"
    for i, b in enumerate(batches):
        b.batch_id = f"rec{i:05d}"
    return batches


def restated(batch: Recorded, batch_id: str, factor: int, committed: bool = True, days: int = 0) -> Recorded:
    """A re-pull of `batch`: the same slice (optionally its last `days` days only), money and action values times
    an integer `factor` (exact, so ads still sum to their account and breakdowns to their totals)."""
    start = batch.date_start if not days else batch.date_end - timedelta(days=days - 1)
    pages = []
    for table, rows in batch.pages:
        new_rows = []
        for r in rows:
            if r.get("date_day") is not None and r["date_day"] < start:
                continue
            r = dict(r)
            for col in ("spend", "value"):
                if isinstance(r.get(col), Decimal):
                    r[col] = r[col] * factor
            new_rows.append(r)
        pages.append((table, new_rows))
    return replace(batch, date_start=start, pages=pages, committed=committed, batch_id=batch_id)


def restate_account(batches: list[Recorded], account: str, tag: str, factor: int, **kw: Any) -> list[Recorded]:
    """Every insights report of one account re-pulled (as a night's restatement does)."""
    return [
        restated(b, f"{tag}{i:03d}", factor, **kw)
        for i, b in enumerate(x for x in batches if x.account_id == account and x.date_start is not None)
    ]


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def replay(wh, clock: Clock, batches: list[Recorded], first_tick: int) -> None:
    """Write the batches in order with fixed ids and one-second-apart manifest timestamps."""
    for i, b in enumerate(batches):
        clock.now = T0 + timedelta(seconds=first_tick + i)
        writer = wh.open_batch(BatchKey(b.workspace_id, b.account_id, b.report, b.date_start, b.date_end), b.params)
        writer.batch.batch_id = b.batch_id
        for table, rows in b.pages:
            writer.append(table, rows)
        if b.committed:
            writer.commit()


# ---- dbt -------------------------------------------------------------------------------------------------------


def dbt(command: str, target: str, tmp: Path, env: dict[str, str], window: tuple[date, date]) -> subprocess.Popen:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SENTRUM_", "GOOGLE_", "DBT_")) and k != "CLOUDSDK_CONFIG"
    }
    base.update({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1", "SENTRUM_DBT_THREADS": "4"}, **env)
    base.update(SENTRUM_DBT_WINDOW_START=window[0].isoformat(), SENTRUM_DBT_WINDOW_END=window[1].isoformat())
    cmd = [
        str(DBT),
        command,
        "--target",
        target,
        *(STOCK_TESTS if command == "build" else []),
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(tmp / f"target-{target}"),
        "--log-path",
        str(tmp / f"logs-{target}"),
    ]
    log = (tmp / f"dbt-{target}.out").open("a")
    return subprocess.Popen(cmd, cwd=tmp, env=base, stdout=log, stderr=subprocess.STDOUT, text=True)


def run_both(
    tmp: Path, duck_env: dict[str, str], bq_env: dict[str, str], window: tuple[date, date], bq_command: str
) -> None:
    """Both targets at once (two processes: dbt spends most of its time waiting). DuckDB only runs the models:
    its data tests are tests/dbt_project's business; here it is the reference the BigQuery marts must equal."""
    procs = {
        "duckdb": dbt("run", "duckdb", tmp, duck_env, window),
        "bigquery": dbt(bq_command, "bigquery", tmp, bq_env, window),
    }
    failed = []
    for target, proc in procs.items():
        try:
            code = proc.wait(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = "timeout"
        if code != 0:
            out = (tmp / f"dbt-{target}.out").read_text(errors="replace")
            errors = [line for line in out.splitlines() if "ERROR" in line or "FAIL" in line or "Error" in line]
            failed.append(f"--- dbt --target {target}: exit {code}\n" + "\n".join(errors[-40:]) + "\n" + out[-3000:])
    assert not failed, "\n".join(failed)


# ---- comparison ------------------------------------------------------------------------------------------------


def normal(value: Any) -> Any:
    """One representation for both engines: exact decimals as numbers, floats to 9 significant digits, instants
    in UTC."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal | int):
        return Decimal(value).normalize() if value == value else value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return float(f"{value:.9g}")
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value
    if isinstance(value, list | tuple):
        return tuple(normal(v) for v in value)
    return value


def canonical(rows: list[dict[str, Any]]) -> list[tuple]:
    out = []
    for r in rows:
        out.append(tuple(sorted((k, normal(v)) for k, v in r.items())))
    return sorted(out, key=repr)


@dataclass
class Built:
    duck_path: Path
    bq: BigQueryWarehouse
    prefix: str
    marts: list[str]
    expected_spend: dict[tuple[str, str], Decimal]
    # the query jobs dbt inserted on BigQuery (configuration.query plus labels), per night
    night_one_jobs: list[dict[str, Any]]
    night_two_jobs: list[dict[str, Any]]
    # dbt's log lines about partial parsing, and its manifest, of night two on BigQuery
    night_two_parse: list[str]
    night_two_manifest: dict[str, Any]


@pytest.fixture(scope="module")
def proxy(emulator) -> Iterator[RecordingProxy]:
    """dbt reaches the emulator through a proxy that keeps its job requests (the emulator drops labels)."""
    with RecordingProxy(emulator.url) as recording:
        yield recording


@pytest.fixture(scope="module")
def built(emulator, proxy, tmp_path_factory) -> Iterator[Built]:
    tmp = tmp_path_factory.mktemp("dbt_bq")
    batches = record_extraction()
    account = next(b.account_id for b in batches if b.report == "ad_daily" and any(rows for _, rows in b.pages))
    first = [
        *batches,
        *restate_account(batches, account, "restate1_", 2),
        *restate_account(batches, account, "crashed1_", 1000, committed=False),
    ]
    second = restate_account(batches, account, "restate2_", 3, days=2)
    # what fct_ad_insights_daily must hold per (workspace, account): the newest complete batch of every date
    last_two = {WINDOW_END - timedelta(days=1), WINDOW_END}
    expected_spend: dict[tuple[str, str], Decimal] = {}
    for b in batches:
        for table, rows in b.pages:
            if b.report != "ad_daily" or table != "meta_insights":
                continue
            for r in rows:
                factor = 1 if b.account_id != account else 3 if r["date_day"] in last_two else 2
                key = (b.workspace_id, b.account_id)
                expected_spend[key] = expected_spend.get(key, Decimal(0)) + r["spend"] * factor

    duck_path = tmp / "warehouse.duckdb"
    prefix = bq_emulator.unique_prefix("dbt")
    duck_clock, bq_clock = Clock(), Clock()
    bq = BigQueryWarehouse(
        emulator.client(),
        dataset_prefix=prefix,
        location="US",
        retry=bq_emulator.TEST_RETRY,
        job_retry=bq_emulator.TEST_JOB_RETRY,
        job_timeout_s=120,
        clock=bq_clock,
    )
    duck_env = {"SENTRUM_DUCKDB_PATH": str(duck_path)}
    bq_env = {
        "SENTRUM_BQ_AUTH_METHOD": "oauth-secrets",
        "SENTRUM_BQ_TOKEN": "dummy",
        "SENTRUM_BQ_API_ENDPOINT": proxy.url,
        "SENTRUM_BQ_MAX_BYTES_BILLED": str(MAX_BYTES_BILLED),
        "SENTRUM_BQ_JOB_RETRIES": "0",
        "SENTRUM_BQ_PROJECT": bq_emulator.PROJECT,
        "SENTRUM_BQ_DATASET_PREFIX": prefix,
        "SENTRUM_BQ_LOCATION": "US",
    }
    window = (WINDOW_START, WINDOW_END)

    with DuckDBWarehouse(duck_path, clock=duck_clock) as duck:
        duck.ensure_raw()
        replay(duck, duck_clock, first, 0)
    bq.ensure_raw()
    replay(bq, bq_clock, first, 0)
    bq.flush()
    # night one on BigQuery: `build`, so the data tests and unit tests run on BigQuery SQL too
    run_both(tmp, duck_env, bq_env, window, "build")
    night_one = proxy.query_jobs()

    # night two: a restatement of the last two days, then an incremental run over the window
    with DuckDBWarehouse(duck_path, clock=duck_clock) as duck:
        replay(duck, duck_clock, second, len(first))
    replay(bq, bq_clock, second, len(first))
    bq.flush()
    bq_log = tmp / "logs-bigquery" / "dbt.log"
    night_one_log = len(bq_log.read_text(errors="replace"))
    run_both(tmp, duck_env, bq_env, NIGHT_TWO, "run")
    night_two = proxy.query_jobs()[len(night_one) :]
    night_two_log = bq_log.read_text(errors="replace")[night_one_log:].splitlines()
    night_two_parse = [line for line in night_two_log if "partial pars" in line.lower()]
    night_two_manifest = json.loads((tmp / "target-bigquery" / "manifest.json").read_text())

    with duckdb.connect(str(duck_path), read_only=True) as con:
        marts = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'marts' order by 1"
            ).fetchall()
        ]
    yield Built(duck_path, bq, prefix, marts, expected_spend, night_one, night_two, night_two_parse, night_two_manifest)
    bq.close()


def duck_rows(path: Path, sql: str) -> list[dict[str, Any]]:
    with duckdb.connect(str(path), read_only=True) as con:
        cur = con.execute(sql)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def test_every_mart_is_built_on_both_targets(built):
    assert "fct_ad_insights_daily" in built.marts
    on_bq = {
        r["table_name"]
        for r in built.bq.query(
            f"select table_name from `{bq_emulator.PROJECT}.{built.prefix}marts.INFORMATION_SCHEMA.TABLES`"
        )
    }
    assert set(built.marts) <= on_bq, f"missing on BigQuery: {sorted(set(built.marts) - on_bq)}"


def test_marts_are_equal_on_both_targets(built):
    differences = []
    for mart in built.marts:
        duck = canonical(duck_rows(built.duck_path, f"select * from marts.{mart}"))
        bq = canonical(built.bq.query(f"select * from {built.bq.table_ref('marts', mart)}"))
        if duck != bq:
            only_duck = [r for r in duck if r not in bq][:3]
            only_bq = [r for r in bq if r not in duck][:3]
            differences.append(
                f"{mart}: {len(duck)} rows on DuckDB, {len(bq)} on BigQuery\n"
                f"  only on DuckDB: {only_duck}\n  only on BigQuery: {only_bq}"
            )
    assert not differences, "\n".join(differences)


def test_restatements_supersede_and_crashed_batches_never_show(built):
    """Exact spend per account: the restated account's dates carry the newest batch's figures (x2, then x3 for
    the last two days), never the crashed copy's (x1000), never two batches added up."""
    rows = built.bq.query(
        f"select workspace_id, account_id, sum(spend) as spend "
        f"from {built.bq.table_ref('marts', 'fct_ad_insights_daily')} group by workspace_id, account_id"
    )
    assert {(r["workspace_id"], r["account_id"]): r["spend"] for r in rows} == built.expected_spend


# ---- job labels, the byte cap, partition pruning (deploy/README.md, "BigQuery limits") ---------------------------


def _model_label(model: str) -> str:
    # dbt-bigquery's label sanitising: lower case, anything but [a-z0-9_-] becomes `_`
    return f"model.sentrum.{model}".replace(".", "_")


def test_every_dbt_job_carries_labels_and_the_byte_cap(built):
    jobs = built.night_one_jobs + built.night_two_jobs
    assert jobs, "the proxy saw no query job from dbt"
    unlabelled = [j["query"][:200] for j in jobs if j["labels"].get("sentrum_component") != "dbt"]
    assert not unlabelled, f"{len(unlabelled)} of {len(jobs)} dbt jobs lack sentrum_component=dbt: {unlabelled[:3]}"
    assert all(j["labels"].get("app") == "sentrum" and j["labels"].get("dbt_invocation_id") for j in jobs)
    # the JSON API carries int64 as a string
    uncapped = [j["query"][:200] for j in jobs if j.get("maximumBytesBilled") != str(MAX_BYTES_BILLED)]
    assert not uncapped, f"{len(uncapped)} of {len(jobs)} dbt jobs lack the byte cap: {uncapped[:3]}"
    # each mart's statements are labelled with the mart
    node_labels = {j["labels"].get("node_id") for j in built.night_two_jobs}
    assert {_model_label(m) for m in built.marts} <= node_labels


def test_the_incremental_run_touches_only_the_window_partitions(built):
    """Night two is an incremental run over an explicit window, as the nightly's marts run is (the sensor passes
    the night's window): each fact's MERGE deletes only the window's `date_day` partitions (a constant list, dbt's
    static insert_overwrite) and its new rows are read through a filter on `date_day` bounded by the window (in the
    MERGE, or in the temporary table dbt builds first and the MERGE reads)."""
    start, end = NIGHT_TWO
    window_days = [start + timedelta(days=d) for d in range((end - start).days + 1)]
    partitions = re.escape(", ".join(f"date '{d}'" for d in window_days))
    delete_only_window = re.compile(
        rf"when not matched by source and (date\()?dbt_internal_dest\.date_day\)? in \( {partitions} \) then delete"
    )
    window_filter = f"date_day between date '{start}' and date '{end}'"
    facts = [m for m in built.marts if m.startswith("fct_")]
    assert "fct_ad_insights_daily" in facts
    problems = []
    for fact in facts:
        statements = [
            " ".join(j["query"].split()).lower()
            for j in built.night_two_jobs
            if j["labels"].get("node_id") == _model_label(fact)
        ]
        merges = [s for s in statements if "merge into" in s]
        if len(merges) != 1:
            problems.append(f"{fact}: {len(merges)} MERGE statements")
            continue
        [merge] = merges
        if not delete_only_window.search(merge):
            problems.append(f"{fact}: the MERGE does not limit its delete to the window's partitions")
        sources = [merge]
        tmp = re.search(rf"`{fact}__dbt_tmp\w*`", merge)
        if tmp:  # the MERGE reads a temporary table: the filter is in the statement that built it
            sources = [s for s in statements if "create or replace table" in s and tmp.group(0) in s and s != merge]
        if not any(window_filter in s for s in sources):
            problems.append(f"{fact}: the new rows are not read through the window's date_day filter")
    assert not problems, "\n".join(problems)


def test_night_two_partial_parses_and_re_parses_the_facts_for_its_window(built):
    """Night two's window differs from night one's: dbt reused night one's parse (no full parse: the vars are not on
    the command line) and re-parsed the facts, whose partition list is now night two's dates."""
    assert any("Partial parsing enabled:" in line for line in built.night_two_parse), built.night_two_parse
    assert not any("Unable to do partial parsing" in line for line in built.night_two_parse), built.night_two_parse
    changed = [int(m.group(1)) for m in map(re.compile(r"(\d+) files changed").search, built.night_two_parse) if m]
    facts = [m for m in built.marts if m.startswith("fct_")]
    assert changed and changed[0] >= len(facts), built.night_two_parse
    start, end = NIGHT_TWO
    night_two_dates = [f"date '{start + timedelta(days=d)}'" for d in range((end - start).days + 1)]
    partitions = {
        node["name"]: node["config"].get("partitions")
        for node in built.night_two_manifest["nodes"].values()
        if node["resource_type"] == "model" and node["name"] in facts
    }
    assert partitions == dict.fromkeys(facts, night_two_dates)
