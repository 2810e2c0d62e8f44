"""The same night through the BigQuery backend on the stand-in (bqemulator): the package's SQL runs as BigQuery SQL
with typed parameters, the findings equal DuckDB's exactly, and the findings table's MERGE-based replace and the
clearing delete behave as on DuckDB."""

from __future__ import annotations

import io
import json
from typing import Any

import pyarrow.parquet as pq
import pytest
from google.cloud import bigquery

from diagnostics import DiagnosticsConfig, detect, run_diagnostics
from tests.diagnostics.synthetic import NIGHT, PLANTS, WS, Dataset
from tests.support import bq_emulator
from warehouse.rows import arrow_rows

pytestmark = [pytest.mark.bigquery, pytest.mark.timeout(300)]


@pytest.fixture
def bq():
    from warehouse.bigquery_backend import BigQueryWarehouse

    try:
        emulator = bq_emulator.emulator()
    except bq_emulator.EmulatorUnavailable as exc:
        pytest.fail(f"the BigQuery stand-in is unavailable, so the BigQuery path is untested: {exc}")
    wh = BigQueryWarehouse(
        emulator.client(),
        dataset_prefix=bq_emulator.unique_prefix("diag"),
        location="US",
        retry=bq_emulator.TEST_RETRY,
        job_retry=bq_emulator.TEST_JOB_RETRY,
        api_timeout_s=30,
        job_timeout_s=60,
    )
    yield wh
    wh.close()


def _load(wh: Any, ds: Dataset) -> None:
    """Test data in by Parquet load jobs (how dbt-built marts look to the reader; DML inserts of ~20k rows would
    take the stand-in half a minute). No `size`: a resumable upload, which the stand-in supports."""
    for table, rows in ds.tables().items():
        wh.ensure_table(table)
        buf = io.BytesIO()
        pq.write_table(arrow_rows(table, rows), buf)
        buf.seek(0)
        config = bigquery.LoadJobConfig(
            source_format=bigquery.SourceFormat.PARQUET, write_disposition=bigquery.WriteDisposition.WRITE_APPEND
        )
        wh.client.load_table_from_file(buf, wh._table_id(table), location="US", job_config=config).result()


def test_bigquery_backend_finds_what_duckdb_finds_and_replaces_nights(bq, wh):
    ds = Dataset()
    for name in ("cpa_increase", "roas_decrease", "tracking_breakage", "breakdown_outlier", "budget_pacing"):
        PLANTS[name][0](ds)
    # only the marts these plants need: each load job costs the stand-in a while
    ds.omit = {
        "fct_adset_insights_daily",
        "fct_campaign_insights_daily",
        "fct_ad_insights_daily_by_country",
        "fct_ad_insights_daily_by_placement",
        "fct_ad_insights_daily_by_device",
    }
    _load(bq, ds)
    ds.write(wh)  # the DuckDB twin
    on_duck, skipped_duck = detect(wh, WS, NIGHT)
    assert len(on_duck) == 5

    ref = bq.table_ref("diagnostics", "diagnostics_findings")
    first = run_diagnostics(bq, WS, NIGHT)
    assert first.skipped == skipped_duck
    rows = bq.query(f"select finding_id, severity, evidence from {ref} where workspace_id = @ws", {"ws": WS})
    by_id = {r["finding_id"]: r for r in rows}
    assert sorted(by_id) == sorted(f.finding_id for f in on_duck)  # the same findings, the same ids
    for f in on_duck:
        stored = json.loads(by_id[f.finding_id]["evidence"])
        assert by_id[f.finding_id]["severity"] == f.severity
        assert [m["metric"] for m in stored] == [m.name for m in f.evidence]
        for got, want in zip(stored, f.evidence_dicts(), strict=True):
            for key in ("current", "previous", "trailing"):
                assert (got.get(key) is None) == (want.get(key) is None)
                if want.get(key) is not None:
                    assert got[key] == pytest.approx(want[key], rel=1e-6, abs=1e-6)

    again = run_diagnostics(bq, WS, NIGHT)
    count = f"select count(*) as n from {ref} where workspace_id = @ws"
    assert again.rows_written == 5 and bq.query(count, {"ws": WS})[0]["n"] == 5  # replaced, not duplicated

    # a re-run that finds nothing (here: thresholds nothing reaches) clears the night
    silent = DiagnosticsConfig(
        min_conversions=10**9,
        pacing_under_warning=0.0,
        pacing_under_high=0.0,
        tracking_min_expected_conversions=10**9,
        breakdown_min_spend_share=1.1,
    )
    assert run_diagnostics(bq, WS, NIGHT, config=silent).findings == 0
    assert bq.query(count, {"ws": WS})[0]["n"] == 0
