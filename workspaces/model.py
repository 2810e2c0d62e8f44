"""The workspace model: one customer workspace, its status and its Meta connection."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Checked with fullmatch everywhere: `$` would also match before a trailing newline ("acme\n").
WORKSPACE_ID = re.compile(r"[a-z0-9_-]{1,64}")
AD_ACCOUNT_ID = re.compile(r"act_[0-9]{1,20}")
# A name in the secret store (the intersection of what the local store and Secret Manager accept).
TOKEN_SECRET = re.compile(r"[A-Za-z0-9_-]{1,255}")


def check_workspace_id(value: object) -> str:
    """`value` if it is a workspace id (`[a-z0-9_-]{1,64}`, nothing else: no trailing newline); else ValueError."""
    if not isinstance(value, str) or not WORKSPACE_ID.fullmatch(value):
        raise ValueError(f"workspace id {value!r} must match [a-z0-9_-]{{1,64}}")
    return value


class WorkspaceStatus(StrEnum):
    active = "active"
    disconnected = "disconnected"
    deletion_requested = "deletion_requested"


class MetaConnection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ad_accounts: list[str] = Field(default_factory=list)
    # A name in the secret store. Tokens never live in the registry or the warehouse.
    token_secret: str

    @field_validator("ad_accounts")
    @classmethod
    def _accounts(cls, v: list[str]) -> list[str]:
        bad = [a for a in v if not AD_ACCOUNT_ID.fullmatch(a)]
        if bad:
            raise ValueError(f"ad account ids must look like act_123: {bad}")
        if len(set(v)) != len(v):
            raise ValueError(f"duplicate ad account ids: {v}")
        return v

    @field_validator("token_secret")
    @classmethod
    def _secret_name(cls, v: str) -> str:
        if not TOKEN_SECRET.fullmatch(v):
            raise ValueError(f"token secret name {v!r} must match [A-Za-z0-9_-]{{1,255}}")
        return v


class Workspace(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str
    status: WorkspaceStatus = WorkspaceStatus.active
    deletion_requested_at: datetime | None = None
    meta: MetaConnection

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        return check_workspace_id(v)

    @model_validator(mode="after")
    def _deletion_timestamp(self) -> Workspace:
        if self.status is WorkspaceStatus.deletion_requested and self.deletion_requested_at is None:
            raise ValueError(f"workspace {self.id}: status deletion_requested needs deletion_requested_at")
        return self

    @property
    def extractable(self) -> bool:
        """Only active workspaces are extracted; disconnected and deleting ones are skipped from that moment."""
        return self.status is WorkspaceStatus.active and bool(self.meta.ad_accounts)


def default_token_secret(workspace_id: str) -> str:
    return f"meta-token-{workspace_id}"
