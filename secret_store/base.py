from __future__ import annotations

import re
from typing import Protocol

# Secret names double as Secret Manager ids later, so keep to the intersection of what both accept.
SECRET_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")  # fullmatch: no trailing newline


class SecretStoreError(RuntimeError):
    """The store cannot be read or written (wrong key, corrupt file, backend failure)."""


class SecretNotFound(SecretStoreError, KeyError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no secret named {name!r} in the secret store")
        self.name = name

    def __str__(self) -> str:  # KeyError would quote the whole message
        return self.args[0]


def check_name(name: str) -> str:
    if not isinstance(name, str) or not SECRET_NAME.fullmatch(name):
        raise ValueError(f"invalid secret name {name!r}: use letters, digits, '-' and '_' (1-255)")
    return name


class SecretStore(Protocol):
    def get(self, name: str) -> str: ...

    def put(self, name: str, value: str) -> None: ...

    def delete(self, name: str) -> bool:
        """Remove the secret; True if it existed."""
        ...

    def exists(self, name: str) -> bool: ...
