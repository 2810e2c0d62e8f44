"""BigQuery-only behaviour of `BigQueryWarehouse`, on the emulator with the real client: loads are few (one job per
table per flush), the manifest goes last, a crash before it leaves nothing visible, retries never double-load,
datasets and tables carry their settings, and a dead endpoint fails fast instead of hanging."""

from __future__ import annotations

import hashlib
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from decimal import Decimal

import pytest
from google.api_core import exceptions as gexc
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from tests.bigquery.conftest import SpyClient, make_warehouse
from tests.support import bq_emulator
from warehouse import BatchKey, WarehouseError
from warehouse.bigquery_backend import BigQueryWarehouse, label_value, query_parameter
from warehouse.bigquery_loads import _Spool
from warehouse.schema import INSIGHTS

pytestmark = pytest.mark.bigquery

D1, D2 = date(2026, 11, 1), date(2026, 11, 2)


def make(emulator, **kwargs) -> tuple[BigQueryWarehouse, SpyClient]:
    return make_warehouse(emulator, "bq", **kwargs)


ACTIONS = [{"action_type": "link_click", "actions_value": Decimal(3), "actions_7d_click": Decimal(4)}]


def insight(ad: str, day: date, spend: str = "1.00", actions: list | None = None) -> dict:
    return {
        "report": "ad_daily",
        "level": "ad",
        "date_day": day,
        "ad_id": ad,
        "spend": Decimal(spend),
        "actions": actions,
    }


def error(ad: str, day: date) -> dict:
    return {"report": "ad_daily", "date_start": day, "date_end": day, "object_level": "ad", "object_ids": f'["{ad}"]'}


def write_batch(wh, ws: str, account: str, pages: int = 2, commit: bool = True):
    batch = wh.open_batch(BatchKey(ws, account, "ad_daily", D1, D2), {})
    for p in range(pages):
        batch.append("meta_insights", [insight(f"ad_{p}", D1, actions=ACTIONS), insight(f"ad_{p}", D2)])
        batch.append("meta_extraction_errors", [error(f"ad_{p}", D1)])
    if commit:
        batch.commit()
    return batch.batch


def counts(wh) -> dict[str, int]:
    """Rows per table, and the nested action records of the insights rows (loaded from Parquet lists)."""
    out = {}
    for table in ("meta_insights", "meta_extraction_errors", "meta_batches"):
        out[table] = wh.query(f"select count(*) as n from {wh.table_ref('raw', table)}")[0]["n"]
    records = wh.query(
        f"select count(*) as n, sum(a.actions_7d_click) as s "
        f"from {wh.table_ref('raw', 'meta_insights')} as r cross join unnest(r.actions) as a"
    )[0]
    out["actions"] = records["n"]
    assert records["s"] in (None, 4 * records["n"])  # every record's fields arrive, not only its first
    return out


def test_many_batches_make_one_load_per_table_then_the_manifest(emulator):
    wh, spy = make(emulator)
    for ws in ("acme", "globex", "initech"):
        for account in ("act_1", "act_2", "act_3"):
            write_batch(wh, ws, account)
    write_batch(wh, "acme", "act_9", commit=False)  # still running at flush time
    assert spy.loads == []  # nothing loaded per batch
    assert counts(wh) == {"meta_insights": 0, "meta_extraction_errors": 0, "meta_batches": 0, "actions": 0}

    wh.flush()
    destinations = [c["destination"].rsplit(".", 1)[-1] for c in spy.loads]
    assert destinations == ["meta_extraction_errors", "meta_insights", "meta_batches"]
    assert all(c["config"].source_format == "PARQUET" for c in spy.loads)
    # 9 committed batches + the running one's rows (invisible: no manifest row)
    assert counts(wh) == {"meta_insights": 40, "meta_extraction_errors": 20, "meta_batches": 9, "actions": 20}
    labels = spy.loads[0]["config"].labels
    assert (labels["job"], labels["layer"], labels["workspace"]) == ("load", "raw", "multiple")

    wh.flush()  # nothing new: no job
    assert len(spy.loads) == 3
    # a workspace's own flush is labelled with it (cost attribution), by digest (docs/privacy.md)
    write_batch(wh, "acme", "act_1")
    wh.close()
    assert spy.loads[-1]["config"].labels["workspace"] == hashlib.sha256(b"sentrum-workspace:acme").hexdigest()[:32]
    assert len(spy.loads) == 6


def test_committed_batches_are_invisible_until_their_manifest_is_loaded(emulator):
    wh, spy = make(emulator)
    write_batch(wh, "acme", "act_1")
    assert counts(wh)["meta_batches"] == 0
    wh.flush()
    assert counts(wh) == {"meta_insights": 4, "meta_extraction_errors": 2, "meta_batches": 1, "actions": 2}


def test_a_crash_before_the_manifest_leaves_nothing_visible_and_the_retry_loads_once(emulator):
    wh, spy = make(emulator)
    batches = [write_batch(wh, "acme", a) for a in ("act_1", "act_2")]

    def crash(call):
        if call["destination"].endswith(".meta_batches"):
            raise gexc.ServiceUnavailable("simulated outage before the manifest load")

    spy.before_load = crash
    with pytest.raises(WarehouseError, match="simulated outage"):
        wh.flush()
    # the data is in raw, but no batch is visible: no manifest row
    assert counts(wh) == {"meta_insights": 8, "meta_extraction_errors": 4, "meta_batches": 0, "actions": 4}

    spy.before_load = None
    write_batch(wh, "acme", "act_3")  # work goes on while the failed flush waits
    wh.flush()
    # the failed flush resumed: data jobs not repeated (job ids already DONE), manifest loaded once
    assert counts(wh) == {"meta_insights": 12, "meta_extraction_errors": 6, "meta_batches": 3, "actions": 6}
    job_ids = [c["job_id"] for c in spy.loads]
    assert len(job_ids) == len(set(job_ids)) == 2 + 1 + 2 + 1  # flush 1: 2 data + manifest; flush 2: same
    ids = {r["batch_id"] for r in wh.query(f"select batch_id from {wh.table_ref('raw', 'meta_batches')}")}
    assert {b.batch_id for b in batches} <= ids


def test_a_lost_reply_conflict_follows_the_existing_job(emulator):
    """The load reached BigQuery but its reply was lost; the retry gets 409 Conflict for the same job id. The
    warehouse must follow that job, not load again (which would double the rows)."""
    wh, spy = make(emulator)
    write_batch(wh, "acme", "act_1")
    lost = {"meta_insights"}

    def lose_reply(call):
        table = call["destination"].rsplit(".", 1)[-1]
        if table in lost:
            lost.discard(table)
            raise gexc.Conflict(f"Already Exists: Job test-project:US.{call['job_id']}")

    # the job ran (after_load runs after the real submission), then the client saw a Conflict. The stand-in
    # files load jobs under ids of its own, so the spy answers get_job for our id with the job that really ran.
    spy.after_load = lose_reply
    spy.job_override = lambda job_id: next((c["job"] for c in spy.loads if c["job_id"] == job_id), None)
    wh.flush()
    assert [c["destination"].rsplit(".", 1)[-1] for c in spy.loads].count("meta_insights") == 1
    assert counts(wh) == {"meta_insights": 4, "meta_extraction_errors": 2, "meta_batches": 1, "actions": 2}


def test_a_load_refused_before_it_ran_is_resubmitted_by_the_next_flush(emulator):
    wh, spy = make(emulator)
    write_batch(wh, "acme", "act_1")
    state = {"failed": False}

    def fail_once(call):
        if call["destination"].endswith(".meta_insights") and not state["failed"]:
            state["failed"] = True
            raise gexc.BadRequest("simulated rejected load")

    spy.before_load = fail_once
    with pytest.raises(WarehouseError, match="simulated rejected load"):
        wh.flush()
    wh.flush()
    assert counts(wh) == {"meta_insights": 4, "meta_extraction_errors": 2, "meta_batches": 1, "actions": 2}


class _FailedJob:
    state = "DONE"
    error_result = {"reason": "backendError", "message": "simulated failed job"}


def test_a_failed_load_job_is_superseded_by_the_next_attempt_id(emulator):
    """A load job that ran and failed wrote nothing, and its id cannot be reused: the next attempt number is."""
    wh, spy = make(emulator)
    write_batch(wh, "acme", "act_1")
    spy.job_override = lambda job_id: _FailedJob() if job_id.endswith("_meta_insights_0") else None
    wh.flush()
    insights_jobs = [c["job_id"] for c in spy.loads if c["destination"].endswith(".meta_insights")]
    assert len(insights_jobs) == 1 and insights_jobs[0].endswith("_meta_insights_1")
    assert counts(wh) == {"meta_insights": 4, "meta_extraction_errors": 2, "meta_batches": 1, "actions": 2}


def test_a_full_spool_flushes_by_itself(emulator):
    wh, spy = make(emulator, flush_bytes=1)  # every append passes the threshold
    batch = wh.open_batch(BatchKey("acme", "act_1", "ad_daily", D1, D2), {})
    batch.append("meta_insights", [insight("ad_1", D1)])
    assert len(spy.loads) == 1  # loaded, but invisible: not committed yet
    batch.append("meta_insights", [insight("ad_1", D2)])
    batch.commit()
    assert counts(wh)["meta_batches"] == 0
    wh.flush()
    assert counts(wh) == {"meta_insights": 2, "meta_extraction_errors": 0, "meta_batches": 1, "actions": 0}


def test_concurrent_writers_lose_nothing(emulator):
    wh, spy = make(emulator)

    def work(i: int):
        return write_batch(wh, f"ws{i % 3}", f"act_{i}", pages=5)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(work, range(24)))
    wh.close()
    assert counts(wh) == {
        "meta_insights": 24 * 10,
        "meta_extraction_errors": 24 * 5,
        "meta_batches": 24,
        "actions": 24 * 5,
    }
    assert len(spy.loads) == 3


def test_spool_streams_to_disk(tmp_path):
    spool = _Spool(tmp_path / "s.parquet", INSIGHTS)
    from warehouse.rows import arrow_rows

    page = arrow_rows(INSIGHTS, [insight(f"ad_{i}", D1) for i in range(1000)], {"workspace_id": "acme"})
    for _ in range(150):
        spool.add(page)
    # 150k rows added, at most one row group (100k rows) ever held in memory
    assert spool.rows == 150_000 and spool._pending_rows == 50_000 and spool.path.stat().st_size > 0
    import pyarrow.parquet as pq

    assert pq.read_metadata(spool.seal()).num_rows == 150_000
    assert spool.workspaces == {"acme"}


def test_datasets_and_tables_carry_their_settings(emulator):
    prefix = bq_emulator.unique_prefix("cfg")
    wh, spy = make(emulator, prefix=prefix, labels={"app": "SENTRUM"})
    client = emulator.client()
    for layer in ("raw", "staging", "intermediate", "marts", "ops"):
        ds = client.get_dataset(f"test-project.{prefix}{layer}")
        assert ds.labels == {"app": "sentrum", "layer": layer} and ds.location == "US"
    # the time-travel window is sent on create (the stand-in does not keep it: checked on the request)
    assert {d.max_time_travel_hours for d in spy.created_datasets} == {48}
    insights = client.get_table(f"test-project.{prefix}raw.meta_insights")
    assert insights.time_partitioning.field == "date_day"
    assert insights.clustering_fields == ["workspace_id", "account_id"]
    manifest = client.get_table(f"test-project.{prefix}raw.meta_batches")
    assert manifest.time_partitioning is None and manifest.clustering_fields == ["workspace_id", "account_id"]

    # an existing dataset with another window (e.g. created by dbt) is brought back to the configured one
    again = BigQueryWarehouse(
        SpyClient(client), dataset_prefix=prefix, time_travel_hours=72, retry=bq_emulator.TEST_RETRY
    )
    again.ensure_datasets()
    assert all(
        "max_time_travel_hours" in fields and ds.max_time_travel_hours == 72
        for ds, fields in again.client.updated_datasets
    )
    again.close()

    with pytest.raises(WarehouseError, match="48 to 168 hours"):
        BigQueryWarehouse(client, dataset_prefix=prefix, time_travel_hours=36)
    with pytest.raises(WarehouseError, match="invalid dataset prefix"):
        BigQueryWarehouse(client, dataset_prefix="bad-prefix`")
    with pytest.raises(WarehouseError, match="not EU"):
        BigQueryWarehouse(client, dataset_prefix=prefix, location="EU").ensure_datasets()


def test_queries_carry_labels(emulator):
    wh, spy = make(emulator, labels={"run": "R-1"})
    wh.query("select 1 as x", labels={"workspace": "acme"})
    labels = spy.queries[-1]["config"].labels
    # docs/privacy.md: a workspace outside the data is SHA-256 of "sentrum-workspace:<id>", 32 hex digits
    digest = hashlib.sha256(b"sentrum-workspace:acme").hexdigest()[:32]
    assert labels == {"run": "r-1", "sentrum_component": "pipeline", "job": "query", "workspace": digest}
    assert label_value("A" * 100) == "a" * 63


def test_parameter_types():
    assert query_parameter("n", True).type_ == "BOOL"
    assert query_parameter("n", 3).type_ == "INT64"
    assert query_parameter("n", Decimal("1.123456789")).type_ == "NUMERIC"
    assert query_parameter("n", Decimal("1.1234567891")).type_ == "BIGNUMERIC"
    assert query_parameter("n", D1).type_ == "DATE"
    assert query_parameter("n", None).type_ == "STRING"
    assert query_parameter("n", ["a", "b"]).array_type == "STRING"
    with pytest.raises(WarehouseError, match="mixed types"):
        query_parameter("n", ["a", 1])
    with pytest.raises(WarehouseError, match="cannot pass"):
        query_parameter("n", object())


def test_an_unreachable_endpoint_fails_fast():
    """The client's default retry would keep trying for 600 s; with the tests' retry it gives up quickly."""
    client = bigquery.Client(
        project="test-project",
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint="http://127.0.0.1:9"),  # discard port: nothing listens
    )
    wh = BigQueryWarehouse(
        client,
        retry=bigquery.DEFAULT_RETRY.with_deadline(2).with_timeout(2),
        job_retry=None,
        api_timeout_s=2,
        job_timeout_s=2,
    )
    started = time.monotonic()
    with pytest.raises(WarehouseError, match="BigQuery"):
        wh.query("select 1")
    assert time.monotonic() - started < 60  # the retry's 2 s deadline, not the client's default 600 s
    wh.close()
