import os
import stat

import pytest
from pydantic import ValidationError

from secret_store import LocalSecretStore, SecretNotFound, SecretStoreError
from workspaces import (
    InvalidRegistry,
    MetaConnection,
    RegistryError,
    Workspace,
    WorkspaceNotFound,
    WorkspaceStatus,
    YamlRegistry,
    check_workspace_id,
)


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


# -- hostile and careless input -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"- id: acme\n  name: A\n", "not a list"),
        (b"just a string\n", "not a plain value"),
        (b"42\n", "not a number"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8"),
        (b"workspaces: []\n\x00\x00", "NUL bytes"),
        (b"workspaces: [\n", "not valid YAML"),
        (b"workspace:\n  - id: acme\n", "unknown top-level key"),
        (b"workspaces: acme\n", "'workspaces' must be a list"),
        (b"workspaces:\n  - acme\n", "a mapping is needed"),
        (b'workspaces:\n  - {id: "acme\\n", name: A, meta: {token_secret: t}}\n', "must match"),
        (b"workspaces:\n  - {id: acme, name: A, meta: {token_secret: 'a b'}}\n", "token secret name"),
    ],
)
def test_a_registry_file_of_the_wrong_shape_is_a_one_line_error(tmp_path, content, message):
    path = tmp_path / "workspaces.yaml"
    path.write_bytes(content)
    with pytest.raises(InvalidRegistry, match=message) as raised:
        YamlRegistry(path).list()
    assert "\n" not in str(raised.value)
    # a write never replaces a registry it cannot read
    with pytest.raises(InvalidRegistry):
        YamlRegistry(path).upsert(_ws("globex"))
    assert path.read_bytes() == content


def test_ids_with_a_trailing_newline_are_refused():
    for bad in ("acme\n", "acme\r\n", " acme", "acme/..", "a" * 65):
        with pytest.raises(ValueError):
            check_workspace_id(bad)
        with pytest.raises(ValidationError):
            _ws(bad)
    with pytest.raises(ValidationError):
        MetaConnection(ad_accounts=["act_1\n"], token_secret="t")
    with pytest.raises(ValueError):
        LocalSecretStore("/nonexistent").exists("name\n")


def test_registry_and_secret_store_files_are_private(tmp_path):
    reg = YamlRegistry(tmp_path / "home" / "workspaces.yaml")
    reg.upsert(_ws())
    store = LocalSecretStore(tmp_path / "home" / "secrets")
    store.put("t-acme", "EAAB-secret-token-value")
    mode = lambda p: stat.S_IMODE(os.stat(p).st_mode)  # noqa: E731
    assert mode(tmp_path / "home") == 0o700 and mode(reg.path) == 0o600 and mode(reg.lock_path) == 0o600
    assert mode(store.directory) == 0o700 and mode(store.key_path) == 0o600 and mode(store.data_path) == 0o600


def _add_in_a_process(args: tuple[str, int, object]) -> None:
    root, i, barrier = args
    reg = YamlRegistry(f"{root}/workspaces.yaml")
    store = LocalSecretStore(f"{root}/secrets")
    barrier.wait()  # every process writes at the same moment
    for j in range(3):
        store.put(f"t-ws{i}-{j}", f"EAAB-token-of-ws{i}-{j}")
        reg.upsert(_ws(f"ws{i}-{j}"))


@pytest.mark.parametrize("existing", [False, True], ids=["fresh-home", "existing-store"])
def test_parallel_processes_lose_no_workspace_and_no_token(tmp_path, existing):
    import multiprocessing

    names = [f"ws{i}-{j}" for i in range(10) for j in range(3)]
    if existing:  # the key and both files exist: the race is the lost update, not the key's creation
        LocalSecretStore(tmp_path / "secrets").put("t-first", "EAAB-token-of-first")
        YamlRegistry(tmp_path / "workspaces.yaml").upsert(_ws("first"))
        names.append("first")
    ctx = multiprocessing.get_context("spawn")
    with ctx.Manager() as manager, ctx.Pool(10) as pool:
        barrier = manager.Barrier(10)
        pool.map(_add_in_a_process, [(str(tmp_path), i, barrier) for i in range(10)])
    assert sorted(w.id for w in YamlRegistry(tmp_path / "workspaces.yaml").list()) == sorted(names)
    store = LocalSecretStore(tmp_path / "secrets")
    assert [store.get(f"t-{n}") for n in names] == [f"EAAB-token-of-{n}" for n in names]
    assert not [p for p in tmp_path.rglob("*.tmp")]  # no temp file left behind


def test_a_check_that_refuses_leaves_the_registry_unchanged(tmp_path):
    reg = YamlRegistry(tmp_path / "workspaces.yaml")
    reg.upsert(_ws("acme"))
    before = reg.path.read_bytes()

    def refuse(current):
        assert [w.id for w in current] == ["acme"]
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        reg.upsert(_ws("globex"), check=refuse)
    assert reg.path.read_bytes() == before


@pytest.mark.parametrize("damage", ["garbage", "empty", "directory", "other_key_format"])
def test_a_broken_key_file_is_an_operator_error_not_a_missing_token(tmp_path, damage):
    store = LocalSecretStore(tmp_path / "s")
    store.put("a", "token-a-long-enough")
    key = store.key_path
    if damage == "garbage":
        key.write_bytes(b"\x00\x01 not a key")
    elif damage == "empty":
        key.write_bytes(b"")
    elif damage == "other_key_format":
        key.write_bytes(b"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n")
    else:
        key.unlink()
        key.mkdir(mode=0o700)
    with pytest.raises(SecretStoreError) as raised:
        store.get("a")
    assert not isinstance(raised.value, SecretNotFound)
    assert str(store.key_path) in str(raised.value) and "\n" not in str(raised.value)
