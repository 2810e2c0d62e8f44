"""BigQuery job labels, without the BigQuery client (the retention audit shares the workspace digest).

Labels stay in BigQuery's job history for 180 days, out of reach of the retention sweep, so a label never holds a
workspace's id: `workspace` is its digest, the same digest the retention audit log keys its proof by.
"""

from __future__ import annotations

import hashlib
import re

_LABEL_BAD = re.compile(r"[^a-z0-9_-]")
# Labels that name a workspace; their values are digested. `multiple` marks a job shared by several workspaces.
WORKSPACE_LABEL = "workspace"
SHARED = "multiple"


def label_value(value: str) -> str:
    """A BigQuery label value: lower case letters, digits, `_` and `-`, at most 63 characters."""
    return _LABEL_BAD.sub("_", str(value).lower())[:63]


def workspace_digest(workspace_id: str) -> str:
    """A workspace's name outside the data: the first 32 hex digits of SHA-256 over a fixed prefix and the id.
    Whoever knows the id can find its jobs and its retention proof; a search for the id finds neither."""
    return hashlib.sha256(f"sentrum-workspace:{workspace_id}".encode()).hexdigest()[:32]


def workspace_label(workspace_id: str) -> str:
    """The `workspace` label's value: the digest, or `multiple` for a job shared by several workspaces."""
    return SHARED if workspace_id == SHARED else workspace_digest(workspace_id)
