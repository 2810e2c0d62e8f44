"""`SecretManagerStore` with the real `google-cloud-secret-manager` client, over gRPC to a local fake server."""

from __future__ import annotations

import grpc
import pytest

from secret_store import SecretNotFound, SecretStoreError
from secret_store.gcp import SecretManagerStore
from tests.secret_store.fake_secret_manager import running

TOKEN = "EAAB-very-secret-token-ü"


@pytest.fixture
def sm():
    with running() as (fake, client):
        yield fake, client


def test_put_get_rotate_delete(sm):
    fake, client = sm
    store = SecretManagerStore("test-project", client, labels={"app": "sentrum"})
    assert not store.exists("meta-token-acme")
    with pytest.raises(SecretNotFound):
        store.get("meta-token-acme")

    store.put("meta-token-acme", TOKEN)
    assert store.exists("meta-token-acme")
    secret = fake.secrets["projects/test-project/secrets/meta-token-acme"]
    assert secret.labels == {"app": "sentrum"} and secret.versions == [(TOKEN.encode(), "ENABLED")]

    # a fresh store (a new run) reads versions/latest
    assert SecretManagerStore("test-project", client).get("meta-token-acme") == TOKEN

    # rotation: the same secret gets a new version, and the next run reads it
    store.put("meta-token-acme", "rotated")
    assert len(secret.versions) == 2
    assert SecretManagerStore("test-project", client).get("meta-token-acme") == "rotated"
    assert fake.calls.count("CreateSecret") == 2  # the second create met AlreadyExists and went on

    assert store.delete("meta-token-acme") is True
    assert store.delete("meta-token-acme") is False
    assert not store.exists("meta-token-acme")
    with pytest.raises(SecretNotFound):
        store.get("meta-token-acme")


def test_values_are_cached_per_instance_only(sm):
    fake, client = sm
    SecretManagerStore("test-project", client).put("t", TOKEN)
    run = SecretManagerStore("test-project", client)
    assert run.get("t") == TOKEN and run.get("t") == TOKEN
    assert fake.calls.count("AccessSecretVersion") == 1
    SecretManagerStore("test-project", client).get("t")
    assert fake.calls.count("AccessSecretVersion") == 2


def test_failures_are_clear_and_never_carry_the_value(sm):
    fake, client = sm
    store = SecretManagerStore("test-project", client)
    fake.fail["AddSecretVersion"] = grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(SecretStoreError, match="permission denied") as err:
        store.put("meta-token-acme", TOKEN)
    assert TOKEN not in str(err.value) and err.value.__cause__ is None and err.value.__context__ is not None
    del fake.fail["AddSecretVersion"]
    store.put("meta-token-acme", TOKEN)

    fake.corrupt_next_access = True
    with pytest.raises(SecretStoreError, match="CRC32C"):
        SecretManagerStore("test-project", client).get("meta-token-acme")

    fake.disable_latest("projects/test-project/secrets/meta-token-acme")
    with pytest.raises(SecretStoreError, match="disabled or destroyed"):
        SecretManagerStore("test-project", client).get("meta-token-acme")

    fake.fail["GetSecret"] = grpc.StatusCode.UNAVAILABLE
    with pytest.raises(SecretStoreError, match="look up"):
        store.exists("meta-token-acme")


@pytest.mark.parametrize("bad", ["a/b", "", "a b", "x" * 256, "../x"])
def test_names_are_checked_before_any_call(sm, bad):
    fake, client = sm
    store = SecretManagerStore("test-project", client)
    with pytest.raises(ValueError, match="invalid secret name"):
        store.get(bad)
    with pytest.raises(ValueError, match="invalid secret name"):
        store.put(bad, "v")
    assert fake.calls == []
    with pytest.raises(ValueError, match="empty"):
        store.put("ok", "")
    with pytest.raises(ValueError, match="project"):
        SecretManagerStore("bad/project", client)
