"""The Graph API's behaviour, independent of HTTP: routing, auth, nodes, edges, insights, report runs, batch.

`GraphApp.handle(method, path, params)` answers one request (status, JSON body, headers); the HTTP server and
batch items both go through it, so every call is authenticated, counted and logged the same way.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter, OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from graph_sandbox import graph_errors, insights, objects, paging, tokens
from graph_sandbox.async_report_runs import (
    COMPLETED,
    DEFAULT_REPORT_RUN_FIELDS,
    FAILED,
    REPORT_RUN_FIELDS,
    SKIPPED,
    ReportRun,
    ReportRunStore,
)
from graph_sandbox.call_records import CallInfo, FaultHook, GraphResponse, RequestRecord, redact
from graph_sandbox.faults import FaultInjector, FaultSpec
from graph_sandbox.graph_errors import GraphError
from graph_sandbox.model import Account, Ad, AdSet, Campaign, Creative, TruthRow
from graph_sandbox.params import (
    Filter,
    parse_fields,
    parse_filtering,
    parse_json,
    parse_limit,
    parse_list,
    parse_summary,
)
from graph_sandbox.scenario import Scenario
from graph_sandbox.specs import TokenSpec
from graph_sandbox.usage import CallScope, UsageTracker

log = logging.getLogger(__name__)

VERSION_RE = re.compile(r"v(\d+)\.(\d+)")
MAX_BATCH = 50

# Edges each node type serves.
_EDGES: dict[str, frozenset[str]] = {
    "AdAccount": frozenset({"campaigns", "adsets", "ads", "adcreatives", "insights"}),
    "Campaign": frozenset({"adsets", "ads", "insights"}),
    "AdSet": frozenset({"ads", "insights"}),
    "Ad": frozenset({"adcreatives", "insights"}),
    "AdCreative": frozenset(),
    "User": frozenset({"adaccounts", "permissions"}),
    "AdReportRun": frozenset({"insights"}),
}
_EDGE_KIND = {"campaigns": "Campaign", "adsets": "AdSet", "ads": "Ad", "adcreatives": "AdCreative"}
_NODE_LEVEL = {"AdAccount": "account", "Campaign": "campaign", "AdSet": "adset", "Ad": "ad"}


def _version_tuple(version: str) -> tuple[int, int]:
    m = VERSION_RE.fullmatch(version)
    if not m:
        raise ValueError(f"not a Graph API version: {version!r}")
    return int(m.group(1)), int(m.group(2))


@dataclass
class _Call:
    method: str
    path: str
    params: dict[str, str]
    base_url: str
    in_batch: bool
    version: str = ""
    token: str | None = None
    token_spec: TokenSpec | None = None
    accounts: frozenset[str] = frozenset()
    kind: str = "invalid"
    account: Account | None = None
    insights: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class GraphApp:
    """The sandbox's Graph API. Thread-safe; one instance per server."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        job_seconds: float = 0.5,
        page_limit_default: int = 25,
        page_limit_max: int = 500,
        sync_row_cap: int = 5000,
        async_row_cap: int | None = None,
        calls_per_minute: int = 6000,
        insights_calls_per_minute: int | None = None,
        app_calls_per_minute: int | None = None,
        window_seconds: float = 60.0,
        throttle: bool = True,
        min_api_version: str = "v23.0",
        latest_api_version: str = "v26.0",
        max_log: int = 100_000,
        fault_hook: FaultHook | None = None,
        faults: FaultSpec | str | None = None,
    ) -> None:
        self.scenario = scenario
        self.page_limit_default = page_limit_default
        self.page_limit_max = page_limit_max
        self.sync_row_cap = sync_row_cap
        self.async_row_cap = async_row_cap
        self.min_api_version = _version_tuple(min_api_version)
        self.latest_api_version = latest_api_version
        self.fault_hook = fault_hook
        spec = faults if isinstance(faults, FaultSpec) else FaultSpec.parse(faults)
        self.faults = FaultInjector(spec)
        self.jobs = ReportRunStore(job_seconds)
        businesses = Counter(a.business_id for a in scenario.accounts())
        self.usage = UsageTracker(
            calls_per_minute,
            insights_calls_per_minute=insights_calls_per_minute,
            app_calls_per_minute=app_calls_per_minute,
            accounts=len(scenario.accounts()),
            business_accounts=businesses,
            window_seconds=window_seconds,
            throttle=throttle,
        )
        self._lock = threading.Lock()
        self._log: deque[RequestRecord] = deque(maxlen=max_log)
        self._stats: Counter[str] = Counter()
        self._rows_cache: OrderedDict[tuple[Any, ...], list[TruthRow]] = OrderedDict()

    # ---- bookkeeping --------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot of the request log (oldest first)."""
        with self._lock:
            return list(self._log)

    def stats(self) -> dict[str, int]:
        """Calls by kind, plus "total", "errors" and "batch_items"; "throttled_<scope>" for calls refused past a
        budget, "fault_<kind>" for injected faults."""
        with self._lock:
            out = dict(self._stats)
        out.update({f"throttled_{k}": n for k, n in self.usage.throttled.items()})
        out.update({f"fault_{k}": n for k, n in self.faults.injected.items()})
        return out

    def reset(self) -> None:
        """Forget logged requests, counters, usage windows and report runs."""
        with self._lock:
            self._log.clear()
            self._stats.clear()
            self._rows_cache.clear()
        self.usage.reset()
        self.jobs.clear()
        self.faults.injected.clear()

    def _record(self, call: _Call, status: int, error: GraphError | None) -> None:
        record = RequestRecord(
            method=call.method,
            path=call.path,
            params=redact(call.params),
            status=status,
            kind=call.kind,
            error_code=error.code if error else None,
            error_subcode=error.subcode if error else None,
            in_batch=call.in_batch,
            account_id=call.account.id if call.account else None,
            timestamp=time.time(),
        )
        with self._lock:
            self._log.append(record)
            self._stats["total"] += 1
            self._stats[call.kind] += 1
            if error is not None:
                self._stats["errors"] += 1
            if call.in_batch:
                self._stats["batch_items"] += 1

    # ---- entry point --------------------------------------------------------------------------------------

    def handle(
        self,
        method: str,
        path: str,
        params: Mapping[str, str],
        *,
        base_url: str,
        in_batch: bool = False,
    ) -> GraphResponse:
        """Answer one call. Never raises: errors come back as Meta-shaped bodies."""
        call = _Call(method.upper(), path, dict(params), base_url.rstrip("/"), in_batch)
        error: GraphError | None = None
        headers: dict[str, str] | None = None
        extra_headers: dict[str, str] = {}
        raw: str | None = None
        try:
            run = self._route(call)
            account = call.account
            expired = self.faults.expired(account.id if account else None)
            if expired is not None:
                raise expired
            headers, throttled = self.usage.admit(self._scope(call))
            if throttled is not None:
                raise throttled
            fault = self.faults.for_call(
                call.method,
                call.path,
                redact(call.params),
                insights=call.insights,
                business_id=account.business_id if account else None,
            )
            if fault is not None and fault.error is not None:
                extra_headers = fault.extra_headers
                raise fault.error
            if self.fault_hook is not None:
                injected = self.fault_hook(
                    CallInfo(
                        call.method,
                        call.path,
                        redact(call.params),
                        call.in_batch,
                        call.kind,
                        call.account.id if call.account else None,
                        call.insights,
                    )
                )
                if injected is not None:
                    raise injected
            body = run()
            status = 200
            # A batch's items are garbled one by one (each is its own answer); the batch reply itself stays whole,
            # so every item's verdict (a throttle, say) reaches the client.
            if fault is not None and fault.kind == "badjson" and call.kind != "batch":
                text = json.dumps(body, separators=(",", ":"))
                raw = text[: max(1, len(text) // 2)]
        except GraphError as e:
            error, status, body = e, e.http_status, e.body()
        except Exception:
            log.exception("sandbox failed on %s %s", call.method, call.path)
            error = graph_errors.internal_error()
            status, body = error.http_status, error.body()
        if headers is None:  # refused before admission (bad token, unknown path, expired session): still counted
            headers = self.usage.record(self._scope(call))
        headers.update(extra_headers)
        self._record(call, status, error)
        return GraphResponse(status, body, headers, raw)

    @staticmethod
    def _scope(call: _Call) -> CallScope:
        account = call.account
        return CallScope(
            account_id=account.account_id if account else None,
            business_id=account.business_id if account else None,
            insights=call.insights,
        )

    # ---- routing ------------------------------------------------------------------------------------------

    def _route(self, call: _Call) -> Callable[[], Any]:
        segments = [unquote(s) for s in call.path.split("/") if s]
        if not segments or not VERSION_RE.fullmatch(segments[0]):
            raise graph_errors.unknown_path(call.path)
        call.version = segments[0]
        if _version_tuple(call.version) < self.min_api_version:
            raise graph_errors.deprecated_version(call.version, self.latest_api_version)
        rest = segments[1:]
        if len(rest) > 2:
            raise graph_errors.unknown_path(call.path)

        if call.method not in ("GET", "POST"):
            call.kind = "write_attempt"
            raise graph_errors.write_refused()
        if call.method == "POST":
            if not rest and "batch" in call.params and not call.in_batch:
                call.kind = "batch"
                self._authenticate(call)
                return lambda: self._batch(call)
            if len(rest) == 2 and rest[1] == "insights":
                call.kind = "insights_async"
                call.insights = True
            else:
                call.kind = "write_attempt"
                raise graph_errors.write_refused()

        if rest == ["debug_token"] and call.method == "GET":
            call.kind = "debug_token"
            self._authenticate_inspector(call)
            return lambda: self._debug_token(call)
        self._authenticate(call)
        if not rest:
            raise graph_errors.unknown_path(call.path)
        node_id = rest[0]
        edge = rest[1] if len(rest) == 2 else None
        node_kind, node = self._resolve(call, node_id)
        if (call.account is not None or edge == "adaccounts") and not self._reads_ads(call):
            raise tokens.missing_permission()
        if edge is None:
            call.kind = {"AdAccount": "account", "AdReportRun": "report_run", "User": "user"}.get(
                node_kind, node_kind.lower()
            )
            return lambda: self._read_node(call, node_kind, node)
        if edge not in _EDGES[node_kind]:
            raise graph_errors.unknown_path(f"/{node_id}/{edge}")
        if edge == "insights":
            call.insights = True
            if node_kind == "AdReportRun":
                if call.method == "POST":
                    call.kind = "write_attempt"
                    raise graph_errors.write_refused()
                call.kind = "report_run_insights"
                return lambda: self._report_run_rows(call, node)
            if call.method == "POST":
                return lambda: self._insights_async(call, node_kind, node)
            call.kind = "insights"
            return lambda: self._insights_sync(call, node_kind, node)
        call.kind = edge
        return lambda: self._list_edge(call, node_kind, node, edge)

    def _authenticate(self, call: _Call) -> None:
        token = call.params.get("access_token")
        if not token:
            raise graph_errors.missing_token()
        spec = self.scenario.token_spec(token)
        if spec is None:
            raise graph_errors.invalid_token()
        if spec.expired:
            raise tokens.expired_error(spec, self.scenario.now())
        call.token, call.token_spec = token, spec
        call.accounts = frozenset(self.scenario.accounts_for_token(token))

    def _authenticate_inspector(self, call: _Call) -> None:
        """debug_token's caller: the app's token, or any valid token of the app (itself included)."""
        if tokens.is_app_token(call.params.get("access_token") or ""):
            return
        self._authenticate(call)

    @staticmethod
    def _reads_ads(call: _Call) -> bool:
        return call.token_spec is not None and "ads_read" in call.token_spec.scopes

    def _debug_token(self, call: _Call) -> dict[str, Any]:
        input_token = call.params.get("input_token")
        if not input_token:
            raise graph_errors.invalid_param("The parameter input_token is required")
        return tokens.debug_token(self.scenario.token_spec(input_token), input_token, self.scenario.now())

    def _resolve(self, call: _Call, node_id: str) -> tuple[str, Any]:
        method = call.method.lower()
        if node_id == "me":
            return "User", None
        if node_id.startswith("act_"):
            if node_id not in call.accounts or not self.scenario.has_account(node_id):
                raise graph_errors.object_not_found(node_id, method)
            call.account = self.scenario.account(node_id)
            return "AdAccount", call.account
        run = self.jobs.get(node_id)
        if run is not None:
            if run.account.id not in call.accounts:
                raise graph_errors.object_not_found(node_id, method)
            call.account = run.account
            return "AdReportRun", run
        obj = self.scenario.get_object(node_id)
        if obj is None or isinstance(obj, Account):
            raise graph_errors.object_not_found(node_id, method)
        account = self.scenario.account(obj.account_id)
        if account.id not in call.accounts:
            raise graph_errors.object_not_found(node_id, method)
        call.account = account
        return objects.node_type(obj), obj

    # ---- nodes and edges ----------------------------------------------------------------------------------

    def _user_id(self, call: _Call) -> str:
        return tokens.user_id(call.token or "")

    def _read_node(self, call: _Call, node_kind: str, node: Any) -> dict[str, Any]:
        fields = parse_fields(call.params.get("fields"))
        if node_kind == "User":
            user = {"id": self._user_id(call), "name": "Sandbox User"}
            out = {}
            for spec in fields or []:
                if spec.name not in user:
                    raise graph_errors.nonexisting_field(spec.name, "User")
                out[spec.name] = user[spec.name]
            out.setdefault("id", user["id"])
            return out if fields else {"name": user["name"], "id": user["id"]}
        if node_kind == "AdReportRun":
            return self._report_run_node(node, fields)
        return objects.render(node_kind, node, fields, self.scenario)

    def _report_run_node(self, run: ReportRun, fields: list[Any] | None) -> dict[str, Any]:
        full = run.node(self.jobs.clock())
        if fields is None:
            return {k: full[k] for k in DEFAULT_REPORT_RUN_FIELDS if full[k] is not None}
        out: dict[str, Any] = {}
        for spec in fields:
            if spec.name not in REPORT_RUN_FIELDS:
                raise graph_errors.nonexisting_field(spec.name, "AdReportRun")
            if full[spec.name] is not None:  # Meta leaves null fields out
                out[spec.name] = full[spec.name]
        out.setdefault("id", run.id)
        return out

    def _url_for(self, call: _Call) -> Callable[[dict[str, str]], str]:
        def url_for(params: dict[str, str]) -> str:
            return f"{call.base_url}/{call.path.lstrip('/')}?{urlencode(params)}"

        return url_for

    def _page(
        self, call: _Call, items: list[Any], render: Callable[[list[Any]], list[Any]], fp: str | None = None
    ) -> dict[str, Any]:
        limit = parse_limit(call.params.get("limit"), self.page_limit_default, self.page_limit_max)
        return paging.page(
            items,
            params=call.params,
            fp=fp or paging.fingerprint(call.path.rstrip("/"), call.params),
            limit=limit,
            render=render,
            url_for=self._url_for(call),
            insights=call.insights,
        )

    def _list_edge(self, call: _Call, node_kind: str, node: Any, edge: str) -> dict[str, Any]:
        fields = parse_fields(call.params.get("fields"))
        if node_kind == "User" and edge == "permissions":
            assert call.token_spec is not None
            return tokens.permissions(call.token_spec)
        if node_kind == "User":
            accounts = [self.scenario.account(a) for a in sorted(call.accounts)]
            return self._page(
                call,
                accounts,
                lambda chunk: [objects.render("AdAccount", a, fields, self.scenario, ("account_id",)) for a in chunk],
            )
        kind = _EDGE_KIND[edge]
        account = call.account
        assert account is not None
        candidates: list[Any] = {
            "campaigns": self.scenario.campaigns,
            "adsets": self.scenario.adsets,
            "ads": self.scenario.ads,
            "adcreatives": self.scenario.creatives,
        }[edge](account.id)
        if node_kind != "AdAccount":
            candidates = [o for o in candidates if self._under(o, node)]
        filters = parse_filtering(call.params.get("filtering"))
        statuses = parse_list("effective_status", call.params.get("effective_status"))
        level = {"Campaign": "campaign", "AdSet": "adset", "Ad": "ad"}.get(kind)
        if statuses is not None and level:
            filters.append(Filter("effective_status", "IN", statuses))
        updated_since = call.params.get("updated_since")
        if updated_since and level:
            filters.append(Filter("updated_time", "GREATER_THAN_OR_EQUAL", updated_since))
        selected = objects.list_edge(kind, candidates, filters, self.scenario)
        result = self._page(
            call, selected, lambda chunk: [objects.render(kind, o, fields, self.scenario) for o in chunk]
        )
        if parse_summary(call.params.get("summary")):
            result["summary"] = {"total_count": len(selected)}
        return result

    @staticmethod
    def _under(obj: Any, parent: Any) -> bool:
        if isinstance(parent, Campaign):
            return getattr(obj, "campaign_id", None) == parent.id
        if isinstance(parent, AdSet):
            return getattr(obj, "adset_id", None) == parent.id
        if isinstance(parent, Ad):
            return isinstance(obj, Creative) and obj.id == parent.creative_id
        return False

    # ---- insights -----------------------------------------------------------------------------------------

    def _scope_ads(self, node_kind: str, node: Any, account: Account) -> list[Ad]:
        ads = self.scenario.ads(account.id)
        if node_kind == "AdAccount":
            return ads
        return [ad for ad in ads if ad.id == node.id or self._under(ad, node)]

    def _query_rows(self, call: _Call, node_kind: str, node: Any) -> tuple[insights.InsightsQuery, list[TruthRow]]:
        account = call.account
        assert account is not None
        today = self.scenario.today(account.id)
        query = insights.parse_query(call.params, node_level=_NODE_LEVEL[node_kind], today=today)
        as_of = self.scenario.as_of_for(account.id)
        key = (node.id, paging.fingerprint(call.path.rstrip("/"), call.params), today, as_of)
        with self._lock:
            cached = self._rows_cache.get(key)
            if cached is not None:
                self._rows_cache.move_to_end(key)
        if cached is None:
            cached = insights.compute_rows(
                self.scenario, account, self._scope_ads(node_kind, node, account), query, getattr(node, "id", None)
            )
            with self._lock:
                self._rows_cache[key] = cached
                while len(self._rows_cache) > 64:
                    self._rows_cache.popitem(last=False)
        return query, cached

    def _poisoned(self, call: _Call, node_kind: str, node: Any, query: insights.InsightsQuery) -> bool:
        if not self.faults.spec.poison:
            return False
        assert call.account is not None
        ads = insights.select_ads(
            self.scenario, self._scope_ads(node_kind, node, call.account), query, getattr(node, "id", None)
        )
        return self.faults.poisoned({a.id for a in ads}, query.date_start, query.date_stop, query.fields) is not None

    def _insights_sync(self, call: _Call, node_kind: str, node: Any) -> dict[str, Any]:
        query, rows = self._query_rows(call, node_kind, node)
        if self._poisoned(call, node_kind, node, query):
            raise graph_errors.request_timed_out()
        if len(rows) > self.sync_row_cap:
            raise graph_errors.too_many_rows()
        assert call.account is not None
        renderer = insights.RowRenderer(self.scenario, call.account, query)
        return self._page(call, rows, renderer.render)

    def _insights_async(self, call: _Call, node_kind: str, node: Any) -> dict[str, Any]:
        query, rows = self._query_rows(call, node_kind, node)
        assert call.account is not None
        run = self.jobs.create(call.account, query, rows)
        fp = f"{call.account.id}:{paging.fingerprint(call.path.rstrip('/'), call.params)}"
        too_big = self.async_row_cap is not None and len(rows) > self.async_row_cap
        fault = self.faults.for_report_run(fp)
        if too_big or fault == "fail" or self._poisoned(call, node_kind, node, query):
            run.fail = True
            run.failure = (2, 1504038, "Please reduce the amount of data you're asking for, then retry your request")
        elif fault == "stuck":
            run.stuck_at = self.faults.stuck_percent(f"{fp}:{run.id}")
        elif fault == "skip":
            run.skip = True
        return {"report_run_id": run.id}

    def _report_run_rows(self, call: _Call, run: ReportRun) -> dict[str, Any]:
        status, _ = run.progress(self.jobs.clock())
        if status in (FAILED, SKIPPED):
            raise graph_errors.report_failed(run.id)
        if status != COMPLETED:
            raise graph_errors.report_not_ready()
        renderer = insights.RowRenderer(self.scenario, run.account, run.query)
        return self._page(call, run.rows, renderer.render, fp=paging.fingerprint(run.id, {}))

    # ---- batch --------------------------------------------------------------------------------------------

    def _batch(self, call: _Call) -> list[dict[str, Any] | None]:
        items = parse_json("batch", call.params.get("batch"), list)
        if len(items) > MAX_BATCH:
            raise graph_errors.invalid_param(f"Too many requests in batch message. Maximum batch size is {MAX_BATCH}")
        include_headers = call.params.get("include_headers", "true").lower() != "false"
        replies: list[dict[str, Any] | None] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("relative_url"), str):
                bad = graph_errors.invalid_param("Each batch item needs a method and a relative_url")
                replies.append({"code": 400, "headers": [], "body": json.dumps(bad.body())})
                continue
            method = str(item.get("method") or "GET").upper()
            relative, _, query = item["relative_url"].lstrip("/").partition("?")
            params = dict(parse_qsl(query, keep_blank_values=True))
            if isinstance(item.get("body"), str):
                params.update(parse_qsl(item["body"], keep_blank_values=True))
            params.setdefault("access_token", call.token or "")
            first = relative.split("/", 1)[0]
            if not VERSION_RE.fullmatch(first):
                relative = f"{call.version}/{relative}"
            response = self.handle(method, "/" + relative, params, base_url=call.base_url, in_batch=True)
            headers = [{"name": "Content-Type", "value": "application/json"}]
            headers += [{"name": k, "value": v} for k, v in response.headers.items()]
            body_text = response.raw if response.raw is not None else json.dumps(response.body)
            reply: dict[str, Any] = {"code": response.status, "body": body_text}
            if include_headers:
                reply["headers"] = headers
            replies.append(reply)
        return replies
