"""The workspace registry: workspaces, their statuses and their Meta connections."""

from workspaces.model import MetaConnection, Workspace, WorkspaceStatus, default_token_secret
from workspaces.registry import Registry, RegistryError, WorkspaceNotFound, YamlRegistry

__all__ = [
    "MetaConnection",
    "Registry",
    "RegistryError",
    "Workspace",
    "WorkspaceNotFound",
    "WorkspaceStatus",
    "YamlRegistry",
    "default_token_secret",
]
