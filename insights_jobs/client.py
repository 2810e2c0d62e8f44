"""The Meta client: a `facebook-business` SDK session per workspace token, read-only by construction.

No `FacebookAdsApi.init`: that sets a process-global default API (shared by every workspace) and installs a crash
hook that posts tracebacks to Meta. Each workspace (and each of its ad accounts) gets its own API instance instead.

Every call goes through `GuardedAdsApi.call`, which is where the cross-cutting rules live: the read-only guard,
the workspace's stop flag (after a 190 nothing more is sent with that token), the rate-limit governor's pacing
(`before_call`) and its view of the usage headers (`on_response`, also for failed calls), and the check that a
reply is JSON at all.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlparse

from facebook_business.api import FacebookAdsApi
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from insights_jobs.errors import MalformedResponse, WorkspaceStopped

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


# before_call(method, node) -> ticket: may block (pacing) or raise.
# on_response(ticket, node, headers or None, ok): every reply, failed ones included (ok False). A FacebookRequestError
# raised by `call` carries the ticket as `exc.ticket`, so the caller can tell the governor which call was throttled.
BeforeCall = Callable[[str, str], Any]
OnResponse = Callable[[Any, str, Mapping[str, Any] | None, bool], None]


class GuardedAdsApi(FacebookAdsApi):
    """A FacebookAdsApi that refuses writes, counts calls, paces them (`before_call`) and shows every reply's
    headers to `on_response`. After `stop` is set (the workspace's token proved unusable) it sends nothing."""

    def __init__(
        self,
        session: FacebookSession,
        api_version: str,
        on_response: OnResponse | None = None,
        before_call: BeforeCall | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        super().__init__(session, api_version=api_version)
        self._on_response = on_response
        self._before_call = before_call
        self.stop = stop or threading.Event()
        self._lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def count(self, kind: str, n: int = 1) -> None:
        with self._lock:
            self.calls[kind] += n

    def call(self, method, path, params=None, headers=None, files=None, url_override=None, api_version=None):
        check_read_only(method, path, params)
        node = _path_of(path)
        if self.stop.is_set():
            raise WorkspaceStopped("not sent: the workspace's token is unusable (reconnect needed)")
        ticket = self._before_call(method.upper(), node) if self._before_call is not None else None
        kind = "batch" if node == "" else ("insights" if node.endswith("insights") else "object")
        self.count(f"{method.upper()} {kind}")
        try:
            response = super().call(method, path, params, headers, files, url_override, api_version)
        except FacebookRequestError as exc:
            exc.ticket = ticket
            if self._on_response:
                self._on_response(ticket, node, exc.http_headers(), False)
            raise
        except Exception:
            if self._on_response:
                self._on_response(ticket, node, None, False)
            raise
        if self._on_response:
            self._on_response(ticket, node, response.headers(), True)
        if isinstance(response.json(), str):
            # Not JSON (the SDK hands back the raw text then): a truncated or garbled reply, never data.
            raise MalformedResponse(f"malformed reply from Meta ({len(response.body() or '')} bytes, not JSON)")
        return response

    @property
    def total_calls(self) -> int:
        """HTTP requests sent (a batch is one; its items are counted under "batch_items")."""
        with self._lock:
            return sum(n for k, n in self.calls.items() if k != "batch_items")


def make_api(
    token: str,
    graph_url: str,
    api_version: str,
    timeout: float = 120.0,
    app_secret: str | None = None,
    on_response: OnResponse | None = None,
    before_call: BeforeCall | None = None,
    stop: threading.Event | None = None,
) -> GuardedAdsApi:
    """A read-only API instance for one token, talking to `graph_url` (Meta, or the sandbox)."""
    if not API_VERSION.match(api_version):
        raise ValueError(f"API version must look like v26.0, got {api_version!r}")
    session = FacebookSession(access_token=token, app_secret=app_secret, timeout=timeout)
    # GRAPH is a class attribute in the SDK; set it on this instance so other sessions keep their own host.
    session.GRAPH = graph_url.rstrip("/")
    return GuardedAdsApi(session, api_version, on_response=on_response, before_call=before_call, stop=stop)
