"""The workspace model: one customer workspace, its status and its Meta connection."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

WORKSPACE_ID = re.compile(r"^[a-z0-9_-]{1,64}$")
AD_ACCOUNT_ID = re.compile(r"^act_[0-9]{1,20}$")


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
        bad = [a for a in v if not AD_ACCOUNT_ID.match(a)]
        if bad:
            raise ValueError(f"ad account ids must look like act_123: {bad}")
        if len(set(v)) != len(v):
            raise ValueError(f"duplicate ad account ids: {v}")
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
        if not WORKSPACE_ID.match(v):
            raise ValueError(f"workspace id {v!r} must match [a-z0-9_-]{{1,64}}")
        return v

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
