"""Local encrypted secret store: one Fernet-encrypted JSON file plus a 0600 key file, in a 0700 folder.

Fernet (AES-128-CBC + HMAC-SHA256) authenticates the whole file, so a wrong key or a tampered file is detected and
reported instead of decrypting to garbage. Every change is a read-modify-write under an exclusive lock on
`.store.lock` (`fcntl.flock`, so parallel processes never lose each other's tokens), written to a temp file, fsynced
and renamed over the store.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from secret_store.base import SecretNotFound, SecretStoreError, check_name
from secret_store.files import exclusive_lock, private_dir, write_atomic

KEY_FILE = "store.key"
DATA_FILE = "store.enc"
LOCK_FILE = ".store.lock"


class LocalSecretStore:
    """Secrets in `<directory>/store.enc`, encrypted with the key in `<directory>/store.key` (mode 0600).

    Errors about the key or the file (missing key, wrong key, unreadable file) are the operator's to fix: they are
    `SecretStoreError`s naming the file, never `SecretNotFound` (which means: this workspace has no token)."""

    def __init__(self, directory: Path | str, key_file: Path | str | None = None) -> None:
        self.directory = Path(directory)
        self.key_path = Path(key_file) if key_file else self.directory / KEY_FILE
        self.data_path = self.directory / DATA_FILE
        self.lock_path = self.directory / LOCK_FILE
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
            private_dir(self.key_path.parent)
            write_atomic(self.key_path, Fernet.generate_key())
        try:
            mode = self.key_path.stat().st_mode & 0o777
            if mode & 0o077:
                raise SecretStoreError(
                    f"key file {self.key_path} is readable by others (mode {mode:o}); run: chmod 600 {self.key_path}"
                )
            key = self.key_path.read_bytes().strip()
        except OSError as exc:
            raise SecretStoreError(f"cannot read the key file {self.key_path}: {exc.strerror or exc}") from None
        try:
            return Fernet(key)
        except (ValueError, TypeError):
            raise SecretStoreError(
                f"key file {self.key_path} does not hold a valid key (damaged or replaced); restore it from a backup"
            ) from None

    # -- data ---------------------------------------------------------------------------------------------------
    def _load(self, fernet: Fernet | None) -> dict[str, str]:
        try:
            payload = self.data_path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SecretStoreError(f"cannot read the secret store {self.data_path}: {exc.strerror or exc}") from None
        if fernet is None:
            raise SecretStoreError(f"the secret store {self.data_path} exists but its key file is missing")
        try:
            plain = fernet.decrypt(payload)
        except InvalidToken:
            raise SecretStoreError(
                f"cannot decrypt {self.data_path} with the key in {self.key_path}: wrong key or a damaged file"
            ) from None
        try:
            secrets = json.loads(plain)
        except ValueError:
            secrets = None
        if not isinstance(secrets, dict) or not all(isinstance(v, str) for v in secrets.values()):
            raise SecretStoreError(f"the secret store {self.data_path} decrypts to something that is not a store")
        return secrets

    def _save(self, fernet: Fernet, secrets: dict[str, str]) -> None:
        payload = fernet.encrypt(json.dumps(secrets, sort_keys=True).encode())
        write_atomic(self.data_path, payload)

    def _update(self, change) -> bool:
        """Run `change(secrets) -> bool` (True: save) under the thread and file locks."""
        private_dir(self.directory)
        with self._lock, exclusive_lock(self.lock_path):
            fernet = self._fernet(create=True)
            assert fernet is not None
            secrets = self._load(fernet)
            changed = change(secrets)
            if changed:
                self._save(fernet, secrets)
            return changed

    # -- interface ----------------------------------------------------------------------------------------------
    def get(self, name: str) -> str:
        check_name(name)
        secrets = self._load(self._fernet(create=False))
        if name not in secrets:
            raise SecretNotFound(name)
        return secrets[name]

    def exists(self, name: str) -> bool:
        check_name(name)
        return name in self._load(self._fernet(create=False))

    def put(self, name: str, value: str) -> None:
        check_name(name)
        if not value:
            raise ValueError("refusing to store an empty secret")

        def change(secrets: dict[str, str]) -> bool:
            secrets[name] = value
            return True

        self._update(change)

    def delete(self, name: str) -> bool:
        check_name(name)
        if not self.data_path.exists():
            return False  # nothing stored yet: no key to create for nothing

        def change(secrets: dict[str, str]) -> bool:
            return secrets.pop(name, None) is not None

        return self._update(change)
