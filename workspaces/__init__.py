"""The workspace registry: workspaces, their statuses and their Meta connections."""

from workspaces.model import (
    MetaConnection,
    Workspace,
    WorkspaceStatus,
    check_workspace_id,
    default_token_secret,
)
from workspaces.registry import InvalidRegistry, Registry, RegistryError, WorkspaceNotFound, YamlRegistry


def __getattr__(name: str):
    # the control-table registry imports warehouse/ (and its engines): only for those who ask for it
    if name == "BigQueryRegistry":
        from workspaces.bigquery_registry import BigQueryRegistry

        return BigQueryRegistry
    raise AttributeError(name)


__all__ = [
    "BigQueryRegistry",
    "InvalidRegistry",
    "MetaConnection",
    "Registry",
    "RegistryError",
    "Workspace",
    "WorkspaceNotFound",
    "WorkspaceStatus",
    "YamlRegistry",
    "check_workspace_id",
    "default_token_secret",
]
