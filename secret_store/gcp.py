"""Secret Manager: one secret per workspace token (`SENTRUM_SECRETS=gcp`).

`get` reads `versions/latest`, so a rotated token (`put` adds a version) is picked up by the next run; values are
cached per store instance, and the orchestrator makes one instance per run, so a token is read once per run and
never outlives it. `delete` removes the secret with all its versions (retention). Every payload carries a CRC32C
checksum both ways, as Google recommends, so a corrupted token is an error rather than a confusing 190 from Meta.

Error messages name the secret, never its value.
"""

from __future__ import annotations

import threading
from typing import Any

import google_crc32c
from google.api_core import exceptions as gexc

from secret_store.base import SecretNotFound, SecretStoreError, check_name

_PROJECT_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-.:")


def _crc32c(data: bytes) -> int:
    return int(google_crc32c.value(data))


class SecretManagerStore:
    """Secrets `projects/<project>/secrets/<name>` in Google Secret Manager.

    `client`: a `SecretManagerServiceClient` (None: one with application default credentials). `labels` are set on
    the secrets this store creates (e.g. `{"app": "sentrum"}`), so they can be found and audited.
    """

    def __init__(
        self,
        project: str,
        client: Any = None,
        *,
        labels: dict[str, str] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        if not project or not set(project) <= _PROJECT_CHARS:
            raise ValueError(f"invalid Google Cloud project id {project!r}")
        if client is None:
            from google.cloud import secretmanager

            client = secretmanager.SecretManagerServiceClient()
        self.project = project
        self.client = client
        self.labels = dict(labels or {})
        self.timeout_s = timeout_s
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def _path(self, name: str) -> str:
        return f"projects/{self.project}/secrets/{check_name(name)}"

    def _fail(self, what: str, name: str, exc: gexc.GoogleAPICallError) -> SecretStoreError:
        reason = {
            gexc.PermissionDenied: "permission denied (the runtime's service account needs Secret Manager access)",
            gexc.Unauthenticated: "not authenticated (check the application default credentials)",
        }.get(type(exc), type(exc).__name__)
        # `exc.message` comes from the server and may quote the request; the request never holds a value except in
        # put(), whose errors are built here without it.
        return SecretStoreError(f"Secret Manager could not {what} secret {name!r}: {reason}")

    def get(self, name: str) -> str:
        path = self._path(name)
        with self._lock:
            if name in self._cache:
                return self._cache[name]
        try:
            response = self.client.access_secret_version(name=f"{path}/versions/latest", timeout=self.timeout_s)
        except gexc.NotFound as exc:
            raise SecretNotFound(name) from exc
        except gexc.FailedPrecondition as exc:
            # the latest version is disabled or destroyed
            raise SecretStoreError(f"the latest version of secret {name!r} is disabled or destroyed") from exc
        except gexc.GoogleAPICallError as exc:
            raise self._fail("read", name, exc) from exc
        data = response.payload.data
        if response.payload.data_crc32c and _crc32c(data) != response.payload.data_crc32c:
            raise SecretStoreError(f"secret {name!r} arrived corrupted (CRC32C mismatch)")
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SecretStoreError(f"secret {name!r} is not UTF-8 text") from exc
        with self._lock:
            self._cache[name] = value
        return value

    def exists(self, name: str) -> bool:
        path = self._path(name)
        try:
            self.client.get_secret(name=path, timeout=self.timeout_s)
        except gexc.NotFound:
            return False
        except gexc.GoogleAPICallError as exc:
            raise self._fail("look up", name, exc) from exc
        return True

    def put(self, name: str, value: str) -> None:
        """Create the secret if missing, then add `value` as its newest version (older versions stay until the
        secret is deleted; Secret Manager's own version policy may destroy them earlier)."""
        path = self._path(name)
        if not value:
            raise ValueError("refusing to store an empty secret")
        try:
            self.client.create_secret(
                parent=f"projects/{self.project}",
                secret_id=name,
                secret={"replication": {"automatic": {}}, "labels": self.labels},
                timeout=self.timeout_s,
            )
        except gexc.AlreadyExists:
            pass
        except gexc.GoogleAPICallError as exc:
            raise self._fail("create", name, exc) from None
        data = value.encode("utf-8")
        try:
            self.client.add_secret_version(
                parent=path, payload={"data": data, "data_crc32c": _crc32c(data)}, timeout=self.timeout_s
            )
        except gexc.GoogleAPICallError as exc:
            # `from None`: the request (with the value) must not ride along in a traceback
            raise self._fail("add a version to", name, exc) from None
        with self._lock:
            self._cache[name] = value

    def delete(self, name: str) -> bool:
        path = self._path(name)
        with self._lock:
            self._cache.pop(name, None)
        try:
            self.client.delete_secret(name=path, timeout=self.timeout_s)
        except gexc.NotFound:
            return False
        except gexc.GoogleAPICallError as exc:
            raise self._fail("delete", name, exc) from exc
        return True
