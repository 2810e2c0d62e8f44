"""Meta tokens behind one small interface: a local encrypted file store (embedded default) and, later, Secret Manager.

Named `secret_store`, not `secrets`, so it never shadows the standard library module.
"""

from secret_store.base import SecretNotFound, SecretStore, SecretStoreError
from secret_store.local import LocalSecretStore

__all__ = ["LocalSecretStore", "SecretNotFound", "SecretStore", "SecretStoreError"]
