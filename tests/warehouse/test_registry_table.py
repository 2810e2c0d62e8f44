"""The workspace registry as a control table (`BigQueryRegistry`), on both backends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from warehouse import OPS_SCHEMA
from workspaces import MetaConnection, RegistryError, Workspace, WorkspaceNotFound, WorkspaceStatus
from workspaces.bigquery_registry import REGISTRY_TABLE, BigQueryRegistry


def ws(wid: str, accounts=("act_101",), **kw) -> Workspace:
    return Workspace(
        id=wid,
        name=f"{wid.title()} Inc",
        meta=MetaConnection(ad_accounts=list(accounts), token_secret=f"t-{wid}"),
        **kw,
    )


def test_upsert_list_get_roundtrip(wh):
    reg = BigQueryRegistry(wh)
    assert reg.list() == []
    reg.upsert(ws("globex", ["act_201", "act_202"]))
    reg.upsert(ws("acme"))
    reg.upsert(ws("acme", ["act_101", "act_102"]))  # update in place: still one row
    asked = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    reg.upsert(ws("initech", (), status=WorkspaceStatus.deletion_requested, deletion_requested_at=asked))

    assert [w.id for w in reg.list()] == ["acme", "globex", "initech"]
    assert reg.get("acme").meta.ad_accounts == ["act_101", "act_102"]
    assert reg.get("globex") == ws("globex", ["act_201", "act_202"])
    gone = reg.get("initech")
    assert gone.status is WorkspaceStatus.deletion_requested and gone.deletion_requested_at == asked
    assert gone.meta.ad_accounts == [] and not gone.extractable
    with pytest.raises(WorkspaceNotFound):
        reg.get("nobody")
    # the id is a parameter, never SQL
    with pytest.raises(WorkspaceNotFound):
        reg.get("acme' or '1'='1")
    # a second instance (another run) sees the same rows
    assert [w.id for w in BigQueryRegistry(wh).list()] == ["acme", "globex", "initech"]
    rows = wh.query(f"select * from {wh.table_ref(OPS_SCHEMA, REGISTRY_TABLE.name)} order by id")
    assert [r["token_secret"] for r in rows] == ["t-acme", "t-globex", "t-initech"]  # names only, no tokens
    assert rows[0]["ad_accounts"] == '["act_101", "act_102"]'

    assert reg.remove("initech") is True and reg.remove("initech") is False
    assert reg.remove("acme' or '1'='1") is False
    assert [w.id for w in reg.list()] == ["acme", "globex"]


def test_an_invalid_row_is_a_clear_error(wh):
    reg = BigQueryRegistry(wh)
    reg.upsert(ws("acme"))
    wh.append_rows(
        REGISTRY_TABLE, [{"id": "Bad Id!", "name": "x", "status": "active", "ad_accounts": "[]", "token_secret": "t"}]
    )
    with pytest.raises(RegistryError, match="'Bad Id!'.*invalid"):
        reg.list()
    assert reg.get("acme").id == "acme"
