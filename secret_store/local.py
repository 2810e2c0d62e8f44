"""Local encrypted secret store: one Fernet-encrypted JSON file plus a 0600 key file.

Fernet (AES-128-CBC + HMAC-SHA256) authenticates the whole file, so a wrong key or a tampered file is detected and
reported instead of decrypting to garbage.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from secret_store.base import SecretNotFound, SecretStoreError, check_name

KEY_FILE = "store.key"
DATA_FILE = "store.enc"


def _write_atomic(path: Path, data: bytes, mode: int) -> None:
    # Write a sibling temp file, fsync, then rename: a crash leaves the old file or the new one, never half of one.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class LocalSecretStore:
    """Secrets in `<directory>/store.enc`, encrypted with the key in `<directory>/store.key` (mode 0600)."""

    def __init__(self, directory: Path | str, key_file: Path | str | None = None) -> None:
        self.directory = Path(directory)
        self.key_path = Path(key_file) if key_file else self.directory / KEY_FILE
        self.data_path = self.directory / DATA_FILE
        self._lock = threading.Lock()

    # -- key ----------------------------------------------------------------------------------------------------
    def _fernet(self, create: bool) -> Fernet | None:
        if not self.key_path.exists():
            if not create:
                return None
            if self.data_path.exists():
                raise SecretStoreError(
                    f"the secret store {self.data_path} exists but its key file {self.key_path} is missing; "
                    "restore the key file (a new key cannot read the old secrets)"
                )
            self.key_path.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(self.key_path.parent, 0o700)
            _write_atomic(self.key_path, Fernet.generate_key(), 0o600)
        mode = self.key_path.stat().st_mode & 0o777
        if mode & 0o077:
            raise SecretStoreError(
                f"key file {self.key_path} is readable by others (mode {mode:o}); run: chmod 600 {self.key_path}"
            )
        try:
            return Fernet(self.key_path.read_bytes().strip())
        except ValueError as exc:
            raise SecretStoreError(f"key file {self.key_path} does not hold a valid key") from exc

    # -- data ---------------------------------------------------------------------------------------------------
    def _load(self, fernet: Fernet | None) -> dict[str, str]:
        if not self.data_path.exists():
            return {}
        if fernet is None:
            raise SecretStoreError(f"the secret store {self.data_path} exists but its key file is missing")
        try:
            plain = fernet.decrypt(self.data_path.read_bytes())
        except InvalidToken as exc:
            raise SecretStoreError(
                f"cannot decrypt {self.data_path} with the key in {self.key_path}: wrong key or a damaged file"
            ) from exc
        return json.loads(plain)

    def _save(self, fernet: Fernet, secrets: dict[str, str]) -> None:
        payload = fernet.encrypt(json.dumps(secrets, sort_keys=True).encode())
        _write_atomic(self.data_path, payload, 0o600)

    # -- interface ----------------------------------------------------------------------------------------------
    def get(self, name: str) -> str:
        check_name(name)
        with self._lock:
            secrets = self._load(self._fernet(create=False))
        if name not in secrets:
            raise SecretNotFound(name)
        return secrets[name]

    def exists(self, name: str) -> bool:
        check_name(name)
        with self._lock:
            return name in self._load(self._fernet(create=False))

    def put(self, name: str, value: str) -> None:
        check_name(name)
        if not value:
            raise ValueError("refusing to store an empty secret")
        with self._lock:
            fernet = self._fernet(create=True)
            secrets = self._load(fernet)
            secrets[name] = value
            self._save(fernet, secrets)

    def delete(self, name: str) -> bool:
        check_name(name)
        with self._lock:
            fernet = self._fernet(create=False)
            secrets = self._load(fernet)
            if name not in secrets:
                return False
            del secrets[name]
            assert fernet is not None
            self._save(fernet, secrets)
            return True
