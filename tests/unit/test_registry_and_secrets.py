import os
import stat

import pytest
from pydantic import ValidationError

from secret_store import LocalSecretStore, SecretNotFound, SecretStoreError
from workspaces import MetaConnection, RegistryError, Workspace, WorkspaceNotFound, WorkspaceStatus, YamlRegistry


def _ws(wid="acme", accounts=("act_101",)):
    return Workspace(id=wid, name=wid.title(), meta=MetaConnection(ad_accounts=list(accounts), token_secret=f"t-{wid}"))


def test_registry_roundtrip_keeps_order_and_updates_in_place(tmp_path):
    reg = YamlRegistry(tmp_path / "workspaces.yaml")
    assert reg.list() == []
    reg.upsert(_ws("acme"))
    reg.upsert(_ws("globex", ["act_201", "act_202"]))
    reg.upsert(_ws("acme", ["act_101", "act_102"]))
    assert [w.id for w in reg.list()] == ["acme", "globex"]
    assert reg.get("acme").meta.ad_accounts == ["act_101", "act_102"]
    with pytest.raises(WorkspaceNotFound):
        reg.get("nobody")
    # the file is the documented YAML form and holds no token
    text = (tmp_path / "workspaces.yaml").read_text()
    assert "token_secret: t-acme" in text and "status: active" in text


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "Acme!", "name": "x", "meta": {"ad_accounts": [], "token_secret": "t"}},
        {"id": "acme", "name": "x", "meta": {"ad_accounts": ["101"], "token_secret": "t"}},
        {"id": "acme", "name": "x", "status": "deletion_requested", "meta": {"token_secret": "t"}},
        {"id": "acme", "name": "x", "status": "paused", "meta": {"token_secret": "t"}},
    ],
)
def test_invalid_workspaces_are_rejected(bad):
    with pytest.raises(ValidationError):
        Workspace.model_validate(bad)


def test_broken_registry_file_is_a_clear_error(tmp_path):
    path = tmp_path / "workspaces.yaml"
    path.write_text("workspaces:\n  - id: acme\n    name: A\n    meta: {ad_accounts: [act_1]}\n")
    with pytest.raises(RegistryError, match="workspace #1 is invalid"):
        YamlRegistry(path).list()


def test_only_active_workspaces_with_accounts_are_extractable():
    assert _ws().extractable
    assert not _ws(accounts=()).extractable
    assert not _ws().model_copy(update={"status": WorkspaceStatus.disconnected}).extractable


def test_local_secret_store_encrypts_and_protects_its_key(tmp_path):
    store = LocalSecretStore(tmp_path / "secrets")
    store.put("meta-token-acme", "EAAB-secret-token")
    assert store.get("meta-token-acme") == "EAAB-secret-token"
    assert b"EAAB-secret-token" not in (tmp_path / "secrets" / "store.enc").read_bytes()
    assert stat.S_IMODE(os.stat(store.key_path).st_mode) == 0o600
    assert store.exists("meta-token-acme") and not store.exists("other")
    with pytest.raises(SecretNotFound):
        store.get("other")
    assert store.delete("meta-token-acme") and not store.delete("meta-token-acme")


def test_wrong_key_is_an_error_not_garbage(tmp_path):
    store = LocalSecretStore(tmp_path / "s")
    store.put("a", "token-a")
    other = LocalSecretStore(tmp_path / "other")
    other.put("b", "token-b")
    # swap in another store's key
    store.key_path.write_bytes(other.key_path.read_bytes())
    with pytest.raises(SecretStoreError, match="wrong key"):
        store.get("a")


def test_missing_key_with_existing_data_is_refused(tmp_path):
    store = LocalSecretStore(tmp_path / "s")
    store.put("a", "token-a")
    store.key_path.unlink()
    with pytest.raises(SecretStoreError, match="key file"):
        store.put("b", "token-b")


def test_world_readable_key_is_refused(tmp_path):
    store = LocalSecretStore(tmp_path / "s")
    store.put("a", "token-a")
    os.chmod(store.key_path, 0o644)
    with pytest.raises(SecretStoreError, match="chmod 600"):
        store.get("a")
