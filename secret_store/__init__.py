"""Meta tokens behind one small interface: a local encrypted file store (embedded default) and Secret Manager
(production, `secret_store.gcp.SecretManagerStore`, imported on use: it pulls in the Google client).

Named `secret_store`, not `secrets`, so it never shadows the standard library module.
"""

from secret_store.base import SecretNotFound, SecretStore, SecretStoreError
from secret_store.local import LocalSecretStore


def __getattr__(name: str):
    if name == "SecretManagerStore":
        from secret_store.gcp import SecretManagerStore

        return SecretManagerStore
    raise AttributeError(name)


__all__ = ["LocalSecretStore", "SecretManagerStore", "SecretNotFound", "SecretStore", "SecretStoreError"]
