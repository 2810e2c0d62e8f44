"""orchestration/bigquery.py: the Dagster resource yields a working BigQueryWarehouse (on the emulator), and keeps
dagster-gcp's credential handling for real deployments."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import date
from decimal import Decimal
from pathlib import Path

import dagster as dg
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from orchestration.bigquery import BigQueryWarehouseResource
from tests.support import bq_emulator
from warehouse import BatchKey, TableInfo
from warehouse.bigquery_backend import BigQueryWarehouse

pytestmark = pytest.mark.bigquery


def test_open_yields_a_warehouse_that_loads_on_exit(emulator):
    prefix = bq_emulator.unique_prefix("res")
    resource = BigQueryWarehouseResource(
        project=bq_emulator.PROJECT, location="US", dataset_prefix=prefix, api_endpoint=emulator.url
    )
    with resource.open() as wh:
        assert isinstance(wh, BigQueryWarehouse)
        wh.ensure_raw()
        batch = wh.open_batch(BatchKey("acme", "act_1", "ad_daily", date(2026, 11, 1), date(2026, 11, 1)), {})
        batch.append("meta_insights", [{"report": "ad_daily", "date_day": date(2026, 11, 1), "spend": Decimal(2)}])
        batch.commit()
    with resource.open() as wh:
        assert wh.count_rows(TableInfo("raw", "meta_batches"), "acme") == 1
        assert wh.count_rows(TableInfo("raw", "meta_insights"), "acme") == 1
        assert wh.labels["app"] == "sentrum"
    with resource.dbt_env() as env:
        assert env["SENTRUM_BQ_API_ENDPOINT"] == emulator.url and env["SENTRUM_BQ_DATASET_PREFIX"] == prefix
        assert env["SENTRUM_DBT_TARGET"] == "bigquery" and env["SENTRUM_BQ_AUTH_METHOD"] == "oauth-secrets"


def _service_account_key() -> dict:
    pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        .decode()
    )
    return {
        "type": "service_account",
        "project_id": "sentrum-prod",
        "private_key_id": "0123456789abcdef",
        "private_key": pem,
        "client_email": "pipeline@sentrum-prod.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": "https://oauth2.googleapis.com/token",
    }


def test_service_account_credentials_go_through_dagster_gcp(monkeypatch):
    """No request is made: building the client is enough to see which credentials it got."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    key = _service_account_key()
    resource = BigQueryWarehouseResource(
        project="sentrum-prod", location="EU", gcp_credentials=base64.b64encode(json.dumps(key).encode()).decode()
    )
    with resource.get_client() as client:
        assert client.project == "sentrum-prod" and client.location == "EU"
        assert client._credentials.service_account_email == key["client_email"]
    assert "GOOGLE_APPLICATION_CREDENTIALS" not in os.environ  # dagster-gcp removed its temp file's variable

    with resource.dbt_env() as env:
        keyfile = env["SENTRUM_BQ_KEYFILE"]
        assert env["SENTRUM_BQ_AUTH_METHOD"] == "service-account"
        assert stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600
        assert json.loads(Path(keyfile).read_text())["client_email"] == key["client_email"]
    assert not os.path.exists(keyfile)

    with (
        pytest.raises(dg.Failure, match="base64"),
        BigQueryWarehouseResource(project="p-roject", gcp_credentials="not base64!").dbt_env(),
    ):
        pass
    with pytest.raises(dg.Failure, match="SENTRUM_BQ_PROJECT"), BigQueryWarehouseResource().get_client():
        pass


def test_the_byte_cap_setting_reaches_the_warehouse_and_dbt(emulator, monkeypatch):
    from orchestration.resources import warehouse_resource
    from orchestration.settings import get_settings

    prefix = bq_emulator.unique_prefix("cap")
    for key, value in {
        "SENTRUM_WAREHOUSE": "bigquery",
        "SENTRUM_BQ_PROJECT": bq_emulator.PROJECT,
        "SENTRUM_BQ_LOCATION": "US",
        "SENTRUM_BQ_DATASET_PREFIX": prefix,
        "SENTRUM_BQ_API_ENDPOINT": emulator.url,
        "SENTRUM_BQ_MAX_BYTES_BILLED": "5000000000",
    }.items():
        monkeypatch.setenv(key, value)
    resource = warehouse_resource(get_settings())
    with resource.open() as wh:
        assert wh.maximum_bytes_billed == 5_000_000_000
        assert wh._query_config({}, []).maximum_bytes_billed == 5_000_000_000
    with resource.dbt_env() as env:
        assert env["SENTRUM_BQ_MAX_BYTES_BILLED"] == "5000000000"

    # empty (deploy/env.example) or unset: no cap, and dbt's profile gets 0 (dbt-bigquery sends no cap then)
    monkeypatch.setenv("SENTRUM_BQ_MAX_BYTES_BILLED", "")
    resource = warehouse_resource(get_settings())
    with resource.open() as wh:
        assert wh.maximum_bytes_billed is None and wh._query_config({}, []).maximum_bytes_billed is None
    with resource.dbt_env() as env:
        assert env["SENTRUM_BQ_MAX_BYTES_BILLED"] == "0"
    monkeypatch.setenv("SENTRUM_BQ_MAX_BYTES_BILLED", "lots")
    with pytest.raises(ValueError, match="bq_max_bytes_billed"):
        get_settings()
