import json
from datetime import date
from decimal import Decimal

import pytest

from warehouse import BatchKey, DuckDBWarehouse, WarehouseError


def test_batch_rows_are_stamped_and_manifest_written_on_commit(tmp_path):
    with DuckDBWarehouse(tmp_path / "w.duckdb") as wh:
        wh.ensure_raw()
        wh.ensure_raw()  # idempotent
        key = BatchKey("acme", "act_1", "ad_daily", date(2026, 11, 1), date(2026, 11, 2))
        batch = wh.open_batch(key, {"api_version": "v26.0"})
        row = {
            "report": "ad_daily",
            "level": "ad",
            "date_day": date(2026, 11, 1),
            "ad_id": "9",
            "spend": Decimal("1.23"),
        }
        batch.append("meta_insights", [row, {**row, "date_day": date(2026, 11, 2)}])
        batch.append("meta_insights", [])
        assert wh.query("select count(*) as n from raw.meta_batches")[0]["n"] == 0
        batch.commit()
        batch.commit()  # second commit is a no-op
        manifest = wh.query("select * from raw.meta_batches")
        assert len(manifest) == 1
        m = manifest[0]
        assert (m["workspace_id"], m["account_id"], m["report"], m["row_count"]) == ("acme", "act_1", "ad_daily", 2)
        assert json.loads(m["tables"]) == {"meta_insights": 2} and json.loads(m["params"]) == {"api_version": "v26.0"}
        rows = wh.query("select workspace_id, account_id, batch_id, spend from raw.meta_insights")
        assert {(r["workspace_id"], r["account_id"], r["batch_id"]) for r in rows} == {("acme", "act_1", m["batch_id"])}
        assert rows[0]["spend"] == Decimal("1.23")
        with pytest.raises(WarehouseError):
            batch.append("meta_insights", [row])
        with pytest.raises(WarehouseError):
            wh.open_batch(key, {}).append("no_such_table", [row])


def test_batch_key_validation():
    with pytest.raises(ValueError):
        BatchKey("a", "act_1", "ad_daily", date(2026, 1, 2), date(2026, 1, 1))
    with pytest.raises(ValueError):
        BatchKey("a", "act_1", "ad_daily", date(2026, 1, 2), None)
