"""The Meta client: a `facebook-business` SDK session per workspace token, read-only by construction.

No `FacebookAdsApi.init`: that sets a process-global default API (shared by every workspace) and installs a crash
hook that posts tracebacks to Meta. Each workspace gets its own session and API instance instead.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

from facebook_business.api import FacebookAdsApi, FacebookResponse
from facebook_business.session import FacebookSession

API_VERSION = re.compile(r"^v\d+\.\d+$")


class ReadOnlyViolation(RuntimeError):
    """A request that could change something at Meta was about to be sent. It never leaves the process."""


def _path_of(path: Any) -> str:
    """The node/edge part of a request path, whatever form the SDK passed it in."""
    if isinstance(path, str):
        # a full URL: drop scheme, host and the version segment
        parts = urlparse(path).path.strip("/").split("/")
        if parts and API_VERSION.match(parts[0]):
            parts = parts[1:]
        return "/".join(parts)
    return "/".join(str(p) for p in path).strip("/")


def _is_async_insights_post(path: str) -> bool:
    # POST act_<id>/insights creates an async report run: the only write-shaped call a reader needs.
    return re.fullmatch(r"act_\d+/insights", path) is not None


def _batch_is_read_only(params: Mapping[str, Any]) -> bool:
    batch = params.get("batch")
    if isinstance(batch, str):
        try:
            batch = json.loads(batch)
        except ValueError:
            return False
    if not isinstance(batch, list) or not batch:
        return False
    return all(isinstance(item, Mapping) and str(item.get("method", "GET")).upper() == "GET" for item in batch)


def check_read_only(method: str, path: Any, params: Mapping[str, Any] | None) -> None:
    """Raise ReadOnlyViolation unless the request is a GET, the async insights POST, or a batch of GETs."""
    method = method.upper()
    node = _path_of(path)
    if method == "GET":
        return
    if method == "POST" and _is_async_insights_post(node):
        return
    if method == "POST" and node == "" and params and _batch_is_read_only(params):
        return
    raise ReadOnlyViolation(f"refused {method} /{node}: SENTRUM is read-only towards Meta")


class GuardedAdsApi(FacebookAdsApi):
    """A FacebookAdsApi that refuses writes and counts calls; every response's headers go to `on_response`."""

    def __init__(
        self,
        session: FacebookSession,
        api_version: str,
        on_response: Callable[[str, FacebookResponse | None], None] | None = None,
    ) -> None:
        super().__init__(session, api_version=api_version)
        self._on_response = on_response
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def call(self, method, path, params=None, headers=None, files=None, url_override=None, api_version=None):
        check_read_only(method, path, params)
        node = _path_of(path)
        kind = "batch" if node == "" else ("insights" if node.endswith("insights") else "object")
        with self._lock:
            self.calls[f"{method.upper()} {kind}"] += 1
        try:
            response = super().call(method, path, params, headers, files, url_override, api_version)
        except Exception:
            if self._on_response:
                self._on_response(node, None)
            raise
        if self._on_response:
            self._on_response(node, response)
        return response

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())


def make_api(
    token: str,
    graph_url: str,
    api_version: str,
    timeout: float = 120.0,
    app_secret: str | None = None,
    on_response: Callable[[str, FacebookResponse | None], None] | None = None,
) -> GuardedAdsApi:
    """A read-only API instance for one token, talking to `graph_url` (Meta, or the sandbox)."""
    if not API_VERSION.match(api_version):
        raise ValueError(f"API version must look like v26.0, got {api_version!r}")
    session = FacebookSession(access_token=token, app_secret=app_secret, timeout=timeout)
    # GRAPH is a class attribute in the SDK; set it on this instance so other sessions keep their own host.
    session.GRAPH = graph_url.rstrip("/")
    return GuardedAdsApi(session, api_version=api_version, on_response=on_response)
