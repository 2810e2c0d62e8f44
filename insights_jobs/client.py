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
from urllib.parse import parse_qs, urlparse, urlsplit

from facebook_business.api import FacebookAdsApi, FacebookResponse
from facebook_business.exceptions import FacebookRequestError
from facebook_business.session import FacebookSession

from insights_jobs.errors import MalformedResponse, WorkspaceStopped, register_secret

API_VERSION = re.compile(r"v\d+\.\d+")  # fullmatch


class ReadOnlyViolation(RuntimeError):
    """A request that could change something at Meta was about to be sent. It never leaves the process."""


# The read-only guard is an allow-list: a request is sent only if its host, method, path shape and every parameter
# name are in these lists (meta-marketing-api.md sections 3-5 and 8). Anything else is refused before any I/O.
_ID = r"[0-9]{1,32}"
_ACCOUNT = rf"act_{_ID}"
GET_PATHS = (
    re.compile(_ACCOUNT),  # the ad account's fields
    re.compile(rf"{_ACCOUNT}/(?:campaigns|adsets|ads|adcreatives|insights)"),  # its edges, sync insights
    re.compile(_ID),  # an object by id: a creative, an async report run's status
    re.compile(rf"{_ID}/insights"),  # an async report run's result pages
    # Token health (meta-marketing-api.md section 8): what a token is and what it may read.
    re.compile(r"debug_token"),
    re.compile(r"me/(?:permissions|adaccounts)"),
)
ASYNC_INSIGHTS_PATH = re.compile(rf"{_ACCOUNT}/insights")
# The documented parameters of the insights edge (GET, and the POST that starts an async report run).
INSIGHTS_PARAMS = frozenset(
    {
        "action_attribution_windows",
        "action_breakdowns",
        "action_report_time",
        "breakdowns",
        "date_preset",
        "default_summary",
        "fields",
        "filtering",
        "level",
        "limit",
        "sort",
        "summary",
        "summary_action_breakdowns",
        "time_increment",
        "time_range",
        "time_ranges",
        "use_account_attribution_setting",
        "use_unified_attribution_setting",
    }
)
# Reads: the insights parameters plus listing and paging ones.
GET_PARAMS = INSIGHTS_PARAMS | {"after", "before", "effective_status", "date_format", "input_token"}
BATCH_PARAMS = frozenset({"batch", "include_headers"})
BATCH_ITEM_KEYS = frozenset({"method", "relative_url", "name", "omit_response_on_success"})
MAX_BATCH_ITEMS = 50


def _refuse(why: str) -> ReadOnlyViolation:
    return ReadOnlyViolation(f"refused: {why} (SENTRUM is read-only towards Meta)")


def _origin(url: str) -> tuple[str, str]:
    parts = urlparse(url)
    return parts.scheme.lower(), parts.netloc.lower()


def _node(path: Any, graph_url: str) -> str:
    """The node/edge part of a request path (a tuple of tokens, or a full URL on the configured Graph host)."""
    if isinstance(path, str):
        parts = urlparse(path)
        if (parts.scheme.lower(), parts.netloc.lower()) != _origin(graph_url):
            raise _refuse(f"a request to {parts.scheme}://{parts.netloc} (only {graph_url} is allowed)")
        if parts.query or parts.fragment or parts.params:
            raise _refuse("parameters in the URL itself (they bypass the parameter check)")
        segments = parts.path.strip("/").split("/")
        if not segments or not API_VERSION.fullmatch(segments[0]):
            raise _refuse(f"a URL without an API version: {parts.path!r}")
        return "/".join(segments[1:])
    return "/".join(str(p) for p in path).strip("/")


def _check_params(params: Mapping[str, Any], allowed: frozenset[str], what: str) -> None:
    names = {str(k) for k in params}
    if "method" in {n.lower() for n in names}:
        raise _refuse(f"a 'method' parameter on {what} (Meta would treat the call as another method)")
    extra = sorted(names - allowed)
    if extra:
        raise _refuse(f"parameter(s) {extra} on {what}")


def _node_of_relative(url: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or parts.fragment:
        raise _refuse(f"a batch item with an absolute URL {url!r}")
    segments = [s for s in parts.path.split("/") if s]
    if segments and API_VERSION.fullmatch(segments[0]):
        segments = segments[1:]
    return "/".join(segments), parse_qs(parts.query, keep_blank_values=True)


def _check_batch(params: Mapping[str, Any]) -> None:
    _check_params(params, BATCH_PARAMS, "a batch request")
    batch = params.get("batch")
    if isinstance(batch, str):
        try:
            batch = json.loads(batch)
        except ValueError:
            raise _refuse("a batch that is not JSON") from None
    if not isinstance(batch, list) or not batch or len(batch) > MAX_BATCH_ITEMS:
        raise _refuse(f"a batch must be a list of 1..{MAX_BATCH_ITEMS} requests")
    for i, item in enumerate(batch):
        if not isinstance(item, Mapping):
            raise _refuse(f"batch item {i} is not an object")
        extra = sorted(set(item) - BATCH_ITEM_KEYS)
        if extra:
            raise _refuse(f"batch item {i} carries {extra} (a body, files or headers)")
        if str(item.get("method", "GET")).upper() != "GET":
            raise _refuse(f"batch item {i} with method {item.get('method')!r}")
        url = item.get("relative_url")
        if not isinstance(url, str):
            raise _refuse(f"batch item {i} without a relative_url")
        node, query = _node_of_relative(url)
        if not any(p.fullmatch(node) for p in GET_PATHS):
            raise _refuse(f"batch item {i} reads /{node}, which is not a path SENTRUM reads")
        _check_params(query, GET_PARAMS, f"batch item {i}")


def check_read_only(
    method: str,
    path: Any,
    params: Mapping[str, Any] | None,
    *,
    graph_url: str,
    headers: Mapping[str, Any] | None = None,
    files: Mapping[str, Any] | None = None,
    url_override: str | None = None,
) -> str:
    """Raise ReadOnlyViolation unless the request is in the allow-list: a GET of a path SENTRUM reads with read
    parameters, the async insights POST with the documented insights parameters, or a batch POST of such GETs;
    on `graph_url`'s host, with no caller headers (no X-HTTP-Method-Override), no files, no `url_override`.
    Returns the node (path without host and version)."""
    if url_override is not None:
        raise _refuse("url_override (it sends the request to another host)")
    if headers:
        raise _refuse(f"caller-supplied header(s) {sorted(str(h) for h in headers)}")
    if files:
        raise _refuse("file uploads")
    method = str(method).upper()
    node = _node(path, graph_url)
    params = params or {}
    if method == "GET":
        if not any(p.fullmatch(node) for p in GET_PATHS):
            raise _refuse(f"GET /{node}, which is not a path SENTRUM reads")
        _check_params(params, GET_PARAMS, f"GET /{node}")
        return node
    if method == "POST" and ASYNC_INSIGHTS_PATH.fullmatch(node):
        _check_params(params, INSIGHTS_PARAMS, f"POST /{node}")
        return node
    if method == "POST" and node == "":
        _check_batch(params)
        return node
    raise _refuse(f"{method} /{node}")


# before_call(method, node) -> ticket: may block (pacing) or raise.
# on_response(ticket, node, headers or None, ok): every reply, failed ones included (ok False). A FacebookRequestError
# raised by `call` carries the ticket as `exc.ticket`, so the caller can tell the governor which call was throttled.
BeforeCall = Callable[[str, str], Any]
OnResponse = Callable[[Any, str, Mapping[str, Any] | None, bool], None]


class ParsedResponse(FacebookResponse):
    """A reply whose body is parsed once. The SDK's `FacebookResponse.json()` parses the body again on every call,
    and a page of a breakdown report (500 rows, ~0.5 MB) is asked for it twice after the SDK's own check: parsing was
    a quarter of the extractor's CPU. Callers must not change what `json()` returns (nothing here does)."""

    def __init__(self, response: FacebookResponse) -> None:
        super().__init__(
            body=response.body(), http_status=response.status(), headers=response.headers(), call=response._call
        )
        self._parsed = super().json()

    def json(self) -> Any:
        return self._parsed


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
        if api_version is not None and not API_VERSION.fullmatch(str(api_version)):
            raise ReadOnlyViolation(f"refused: API version {api_version!r}")
        node = check_read_only(
            method, path, params, graph_url=self._session.GRAPH, headers=headers, files=files, url_override=url_override
        )
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
        response = ParsedResponse(response)
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
    if not API_VERSION.fullmatch(api_version):
        raise ValueError(f"API version must look like v26.0, got {api_version!r}")
    # From here on every message we build or store is scrubbed of this token, even where Meta echoes it verbatim.
    register_secret(token)
    register_secret(app_secret)
    session = FacebookSession(access_token=token, app_secret=app_secret, timeout=timeout)
    # GRAPH is a class attribute in the SDK; set it on this instance so other sessions keep their own host.
    session.GRAPH = graph_url.rstrip("/")
    return GuardedAdsApi(session, api_version, on_response=on_response, before_call=before_call, stop=stop)
