"""Fixtures for the Graph API sandbox tests: a fixed clock, the demo scenario, a running server and `graph`,
a raw HTTP caller. (Fixtures rather than importable helpers: other conftest modules may appear in tests/.)"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from graph_sandbox import SandboxServer, Scenario

# A fixed "now" so the tests do not depend on the machine's date (data exists up to the account's today).
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
VERSION = "v26.0"
ACME = "sandbox-token-acme"


def fixed_clock() -> datetime:
    return NOW


@pytest.fixture(scope="session")
def demo() -> Scenario:
    return Scenario("demo", 42, clock=fixed_clock)


@pytest.fixture
def server(demo: Scenario) -> Iterator[SandboxServer]:
    with SandboxServer(demo, job_seconds=0.3) as srv:
        yield srv


@dataclass
class Reply:
    status: int
    body: Any
    headers: Any

    @property
    def error(self) -> dict[str, Any]:
        return self.body["error"]


def call(
    server: SandboxServer,
    method: str,
    path: str,
    token: str | None = ACME,
    session: requests.Session | None = None,
    **params: Any,
) -> Reply:
    """One raw Graph call: token in the query string (every method), params JSON-encoded like the SDK."""
    encoded = {
        k: json.dumps(v, separators=(",", ":")) if isinstance(v, (list, dict, bool)) else str(v)
        for k, v in params.items()
    }
    query = {"access_token": token} if token is not None else {}
    url = f"{server.url}/{VERSION}/{path}" if not path.startswith("/") else f"{server.url}{path}"
    http = session or requests
    if method == "GET":
        resp = http.request(method, url, params={**query, **encoded}, timeout=10)
    else:
        resp = http.request(method, url, params=query, data=encoded, timeout=10)
    assert resp.headers["Content-Type"] == "application/json"
    return Reply(resp.status_code, resp.json(), resp.headers)


@pytest.fixture
def graph(server: SandboxServer) -> Callable[..., Reply]:
    """call(method, path, token=ACME, server=<the fixture's>, session=None, **params) -> Reply."""

    def _call(method: str, path: str, token: str | None = ACME, *, server: SandboxServer = server, **kw: Any):
        return call(server, method, path, token, **kw)

    return _call
