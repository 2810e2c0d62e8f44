"""Workspace registry backends. The YAML file is the embedded default (architecture.md, "Workspace registry")."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Protocol

import yaml
from pydantic import ValidationError

from workspaces.model import Workspace


class RegistryError(RuntimeError):
    pass


class WorkspaceNotFound(RegistryError, KeyError):
    def __str__(self) -> str:
        return self.args[0]


class Registry(Protocol):
    def list(self) -> list[Workspace]: ...

    def get(self, workspace_id: str) -> Workspace: ...

    def upsert(self, workspace: Workspace) -> None: ...

    def remove(self, workspace_id: str) -> bool:
        """Drop the entry (after a verified deletion sweep); True if it was there."""
        ...


class YamlRegistry:
    """`workspaces: [...]` in one YAML file, rewritten atomically on every change."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _read(self) -> list[Workspace]:
        if not self.path.exists():
            return []
        try:
            doc = yaml.safe_load(self.path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise RegistryError(f"{self.path} is not valid YAML: {exc}") from exc
        items = doc.get("workspaces") or []
        if not isinstance(items, list):
            raise RegistryError(f"{self.path}: 'workspaces' must be a list")
        out: list[Workspace] = []
        for i, item in enumerate(items):
            try:
                out.append(Workspace.model_validate(item))
            except ValidationError as exc:
                raise RegistryError(f"{self.path}: workspace #{i + 1} is invalid:\n{exc}") from exc
        ids = [w.id for w in out]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise RegistryError(f"{self.path}: duplicate workspace ids {dupes}")
        return out

    def _write(self, workspaces: list[Workspace]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        doc = {"workspaces": [w.model_dump(mode="json") for w in workspaces]}
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(yaml.safe_dump(doc, sort_keys=False))
        os.replace(tmp, self.path)

    def list(self) -> list[Workspace]:
        with self._lock:
            return self._read()

    def get(self, workspace_id: str) -> Workspace:
        for w in self.list():
            if w.id == workspace_id:
                return w
        raise WorkspaceNotFound(f"no workspace {workspace_id!r} in the registry {self.path}")

    def upsert(self, workspace: Workspace) -> None:
        with self._lock:
            items = self._read()
            for i, w in enumerate(items):
                if w.id == workspace.id:
                    items[i] = workspace  # keep the registry's order stable
                    break
            else:
                items.append(workspace)
            self._write(items)

    def remove(self, workspace_id: str) -> bool:
        with self._lock:
            items = self._read()
            kept = [w for w in items if w.id != workspace_id]
            if len(kept) == len(items):
                return False
            self._write(kept)
            return True
