"""Workspace registry backends. The YAML file is the embedded default (architecture.md, "Workspace registry")."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import yaml
from pydantic import ValidationError

from workspaces.files import exclusive_lock, private_dir, write_atomic
from workspaces.model import Workspace

# Runs under the registry's lock before a write, with the workspaces as they are; raising leaves the registry as it was.
WriteCheck = Callable[[list[Workspace]], None]


class RegistryError(RuntimeError):
    pass


class InvalidRegistry(RegistryError):
    """The registry's content is not a valid registry (bad input, not a failure of the backend)."""


class WorkspaceNotFound(RegistryError, KeyError):
    def __str__(self) -> str:
        return self.args[0]


class Registry(Protocol):
    def list(self) -> list[Workspace]: ...

    def get(self, workspace_id: str) -> Workspace: ...

    def upsert(self, workspace: Workspace, check: WriteCheck | None = None) -> None:
        """Insert or replace the workspace; `check(current)` runs first (under the registry's lock where it has one)
        and may raise to refuse the write."""
        ...

    def remove(self, workspace_id: str) -> bool:
        """Drop the entry (after a verified deletion sweep); True if it was there."""
        ...


def validation_summary(exc: ValidationError) -> str:
    """A pydantic error on one line: `field: message; field: message`."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err.get("loc", ())) or "value"
        parts.append(f"{where}: {err.get('msg', 'invalid')}")
    return "; ".join(parts)


def _describe(value: Any) -> str:
    kind = {list: "a list", str: "a plain value", int: "a number", float: "a number", bool: "a boolean"}
    return kind.get(type(value), type(value).__name__)


def parse_registry(text: bytes, where: str) -> list[Workspace]:
    """The workspaces of a registry file's bytes. Anything but the documented form is an InvalidRegistry."""
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRegistry(f"{where} is not a YAML text file (it is not UTF-8: binary content?)") from None
    if "\x00" in decoded:
        raise InvalidRegistry(f"{where} is not a YAML text file (it holds NUL bytes: binary content?)")
    try:
        doc = yaml.safe_load(decoded)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidRegistry(f"{where} is not valid YAML: {first}") from None
    if doc is None:
        return []
    if not isinstance(doc, dict):
        raise InvalidRegistry(f"{where} must be a mapping with a 'workspaces' list, not {_describe(doc)}")
    unknown = sorted(str(k) for k in doc if k != "workspaces")
    if unknown:
        # a misspelt key would otherwise read as an empty registry, and the next write would drop its content
        raise InvalidRegistry(f"{where}: unknown top-level key(s) {unknown}; the registry holds only 'workspaces'")
    items = doc.get("workspaces") or []
    if not isinstance(items, list):
        raise InvalidRegistry(f"{where}: 'workspaces' must be a list, not {_describe(items)}")
    out: list[Workspace] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise InvalidRegistry(f"{where}: workspace #{i + 1} is invalid: a mapping is needed, not {_describe(item)}")
        try:
            out.append(Workspace.model_validate(item))
        except ValidationError as exc:
            raise InvalidRegistry(f"{where}: workspace #{i + 1} is invalid: {validation_summary(exc)}") from None
    ids = [w.id for w in out]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise InvalidRegistry(f"{where}: duplicate workspace ids {dupes}")
    return out


class YamlRegistry:
    """`workspaces: [...]` in one YAML file (mode 0600), rewritten atomically on every change.

    Writes are read-modify-write under an exclusive lock on a sibling lock file (`fcntl.flock`), so concurrent
    processes (parallel `sentrum workspaces add`) never lose each other's entries; the new content goes to a temp
    file in the same folder, is fsynced, then renamed over the registry, so a reader sees the old file or the new
    one, never half of one."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(f".{self.path.name}.lock")
        self._lock = threading.Lock()

    def _read(self) -> list[Workspace]:
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise InvalidRegistry(f"cannot read the registry {self.path}: {exc.strerror or exc}") from None
        return parse_registry(text, str(self.path))

    def _write(self, workspaces: list[Workspace]) -> None:
        doc = {"workspaces": [w.model_dump(mode="json") for w in workspaces]}
        write_atomic(self.path, yaml.safe_dump(doc, sort_keys=False).encode())

    @contextmanager
    def _locked(self) -> Iterator[None]:
        private_dir(self.path.parent)
        with self._lock, exclusive_lock(self.lock_path):
            yield

    def list(self) -> list[Workspace]:
        # the file is replaced atomically, so a read needs no lock
        return self._read()

    def get(self, workspace_id: str) -> Workspace:
        for w in self.list():
            if w.id == workspace_id:
                return w
        raise WorkspaceNotFound(f"no workspace {workspace_id!r} in the registry {self.path}")

    def upsert(self, workspace: Workspace, check: WriteCheck | None = None) -> None:
        with self._locked():
            items = self._read()
            if check is not None:
                check(list(items))
            for i, w in enumerate(items):
                if w.id == workspace.id:
                    items[i] = workspace  # keep the registry's order stable
                    break
            else:
                items.append(workspace)
            self._write(items)

    def remove(self, workspace_id: str) -> bool:
        with self._locked():
            items = self._read()
            kept = [w for w in items if w.id != workspace_id]
            if len(kept) == len(items):
                return False
            self._write(kept)
            return True


__all__ = [
    "InvalidRegistry",
    "Registry",
    "RegistryError",
    "WorkspaceNotFound",
    "WriteCheck",
    "YamlRegistry",
    "parse_registry",
    "validation_summary",
]
