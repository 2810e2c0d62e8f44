"""What the router records and shows of a call: the request log's records (never a token), the fault hook's view
of a call, and the answer handed to the HTTP server or the batch."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graph_sandbox.graph_errors import GraphError

REDACTED_PARAMS = frozenset({"access_token", "appsecret_proof"})
_SECRET_IN_VALUE = re.compile(r"(access_token|appsecret_proof)=[^&\"\\\s]*")


@dataclass(frozen=True)
class RequestRecord:
    """One answered call, for tests. Tokens and appsecret proofs are never kept."""

    method: str
    path: str
    params: dict[str, str]
    status: int
    kind: str
    error_code: int | None
    error_subcode: int | None
    in_batch: bool
    account_id: str | None
    timestamp: float


@dataclass
class GraphResponse:
    status: int
    body: Any
    headers: dict[str, str]
    # When set, sent instead of the JSON of `body` (a malformed reply injected by the `badjson` fault).
    raw: str | None = None


@dataclass
class CallInfo:
    """What the router knows about a call; passed to the fault hook before the call runs."""

    method: str
    path: str
    params: dict[str, str]  # redacted
    in_batch: bool
    kind: str = "invalid"
    account_id: str | None = None  # "act_<n>"
    insights: bool = False


FaultHook = Callable[[CallInfo], GraphError | None]


def redact(params: Mapping[str, str]) -> dict[str, str]:
    """Parameters without secrets, also inside values (batch items carry their own tokens in URLs)."""
    kept = sorted((k, v) for k, v in params.items() if k not in REDACTED_PARAMS)
    return {k: _SECRET_IN_VALUE.sub(r"\1=REDACTED", v) for k, v in kept}
