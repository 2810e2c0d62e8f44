"""Read ad accounts of many workspaces at once: entities, then every insights report through async report runs.

`extract_workspaces` interleaves the accounts of all the workspaces it is given under shared caps (accounts at once,
report runs in flight in all and per account) and one rate-limit governor; `extract_workspace` is the one-workspace
form. Each account lands as:

- one "entities" batch (account, campaigns, ad sets, ads, creatives; every status);
- per insights report and date chunk (`chunk_days`), one batch, committed only when every row of that report for
  those days has been read. A chunk whose report run fails is split by time into smaller chunks, each its own
  batch; so when one day stays unreadable, only that day's batch is not committed: the previous night's data for
  that day stays visible, every other day is replaced, and the unreadable slice is written to
  `meta_extraction_errors` (README.md, "Batches");
- one "extraction_errors" batch when some slice could not be read.

Accounts fail independently; an unusable token (190) stops its workspace ("reconnect needed") and no other.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.apiconfig import ads_api_config
from facebook_business.exceptions import FacebookRequestError
from requests import RequestException

from insights_jobs import normalize as nz
from insights_jobs.client import GuardedAdsApi, make_api
from insights_jobs.config import ExtractConfig, WorkspaceJob
from insights_jobs.entities import (
    ACCOUNT_FIELDS,
    AD_FIELDS,
    ADSET_FIELDS,
    CAMPAIGN_FIELDS,
    CREATIVE_FIELDS,
    status_filter,
)
from insights_jobs.errors import (
    Action,
    ExtractionError,
    MalformedResponse,
    MetaError,
    ReconnectNeeded,
    WorkspaceStopped,
    from_exception,
    redact,
)
from insights_jobs.governor import RateGovernor, act
from insights_jobs.report_runs import Job, JobEvent, JobPoller
from insights_jobs.reports import ACTION_REPORT_TIME, ATTRIBUTION_WINDOWS, ReportSpec, report
from insights_jobs.split import Hierarchy, Slice, split
from insights_jobs.windows import Window, chunk_window, clamp_window, restatement_window

T = TypeVar("T")
Log = logging.Logger | logging.LoggerAdapter

ERRORS_REPORT = "extraction_errors"
ENTITIES_REPORT = "entities"


class BatchSink(Protocol):
    def append(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None: ...

    def commit(self) -> Any: ...


class Sink(Protocol):
    """Where extracted rows go (the warehouse, through an adapter in orchestration/). May be called from several
    threads at once."""

    def open_batch(
        self, workspace_id: str, account_id: str, report: str, window: Window | None, params: Mapping[str, Any]
    ) -> BatchSink: ...


@dataclass
class FailedSlice:
    """A slice Meta would not serve at its narrowest (also written to meta_extraction_errors)."""

    report: str
    since: date
    until: date
    object_level: str
    object_ids: list[str]
    fields: list[str]
    error_code: int | None
    error_subcode: int | None
    action: str
    message: str
    fbtrace_id: str | None = None

    def describe(self) -> str:
        ids = ",".join(self.object_ids[:3]) + ("..." if len(self.object_ids) > 3 else "")
        code = f" ({self.error_code}/{self.error_subcode})" if self.error_code is not None else ""
        return (
            f"{self.report} {self.since}..{self.until} {self.object_level} {ids} fields {','.join(self.fields)}: "
            f"{self.message}{code}"
        )


@dataclass
class AccountResult:
    account_id: str
    ok: bool = False
    window: Window | None = None
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    action: str | None = None  # the error policy's verdict when it failed
    throttle_errors: int = 0
    jobs: Counter[str] = field(default_factory=Counter)  # submitted, completed, failed, stuck, split, sync, ...
    batches: int = 0  # committed
    failed_slices: list[FailedSlice] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


@dataclass
class WorkspaceResult:
    workspace_id: str
    accounts: list[AccountResult] = field(default_factory=list)
    reconnect_needed: bool = False
    api_calls: int = 0  # HTTP requests (a batch request counts once; its items are in calls["batch_items"])
    seconds: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)  # by method and kind, plus "batch_items"
    poll_throttle_errors: int = 0  # whole status-poll batches that were throttled

    @property
    def ok(self) -> bool:
        return bool(self.accounts) and all(a.ok for a in self.accounts)

    @property
    def rows(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for a in self.accounts:
            for t, n in a.rows.items():
                total[t] = total.get(t, 0) + n
        return total

    @property
    def errors(self) -> list[str]:
        return [f"{a.account_id}: {a.error}" for a in self.accounts if a.error]

    @property
    def throttle_errors(self) -> int:
        return sum(a.throttle_errors for a in self.accounts) + self.poll_throttle_errors

    @property
    def failed_slices(self) -> list[FailedSlice]:
        return [s for a in self.accounts for s in a.failed_slices]

    @property
    def jobs(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for a in self.accounts:
            total.update(a.jobs)
        return dict(total)


class SplitNeeded(ExtractionError):
    """Meta said the request asks for too much (too many rows, a timeout): narrow it."""


# ---- the run ------------------------------------------------------------------------------------------------


@dataclass
class _Workspace:
    job: WorkspaceJob
    stop: threading.Event
    result: WorkspaceResult
    poll_api: GuardedAdsApi
    apis: list[GuardedAdsApi] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = 0.0
    finished: float = 0.0


class _Engine:
    def __init__(
        self,
        jobs: Sequence[WorkspaceJob],
        sink: Sink,
        config: ExtractConfig,
        governor: RateGovernor,
        window: Window | None,
        now: datetime | None,
        log: Log,
    ) -> None:
        self.sink = sink
        self.config = config
        self.governor = governor
        self.window = window
        self.now = now
        self.log = log
        self.job_slots = threading.BoundedSemaphore(config.max_jobs_in_flight)
        self.poller = JobPoller(governor, config, log)
        self.workspaces = [self._workspace(j) for j in jobs]
        self._seed = random.Random(config.seed)

    def api(self, ws: _Workspace, account_id: str | None) -> GuardedAdsApi:
        """A read-only API for one account of the workspace (or for its polls), paced by the shared governor."""
        governor, ws_id, stop = self.governor, ws.job.workspace_id, ws.stop

        def before_call(method: str, node: str) -> Any:
            return governor.acquire(ws_id, account_id, node.endswith("insights"), stop)

        def on_response(ticket: Any, node: str, headers: Any, ok: bool) -> None:
            governor.observe(ticket, headers, ok=ok)

        api = make_api(
            ws.job.token,
            self.config.graph_url,
            self.config.api_version,
            timeout=self.config.request_timeout_s,
            before_call=before_call,
            on_response=on_response,
            stop=stop,
        )
        with ws.lock:
            ws.apis.append(api)
        return api

    def _workspace(self, job: WorkspaceJob) -> _Workspace:
        stop = threading.Event()
        ws = _Workspace(job, stop, WorkspaceResult(job.workspace_id), poll_api=None)  # type: ignore[arg-type]
        ws.poll_api = self.api(ws, None)
        return ws

    def run(self) -> list[WorkspaceResult]:
        started = time.monotonic()
        for ws in self.workspaces:
            ws.started = started
        order: list[tuple[_Workspace, str, int]] = []
        per_ws = [list(dict.fromkeys(ws.job.account_ids)) for ws in self.workspaces]
        for i in range(max((len(a) for a in per_ws), default=0)):
            # Round robin over workspaces: a workspace with many accounts does not hold back the others.
            for ws, accounts in zip(self.workspaces, per_ws, strict=True):
                if i < len(accounts):
                    order.append((ws, accounts[i], i))
        results: dict[tuple[int, int], AccountResult] = {}
        self.poller.start()
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(self.config.concurrency, len(order) or 1))) as pool:
                futures = {
                    pool.submit(self._account, ws, account_id, self._seed.random()): (id(ws), i)
                    for ws, account_id, i in order
                }
                for future, key in futures.items():
                    results[key] = future.result()
        finally:
            self.poller.close()
        out = []
        for ws, accounts in zip(self.workspaces, per_ws, strict=True):
            r = ws.result
            r.accounts = [results[(id(ws), i)] for i in range(len(accounts))]
            # Status reads of report runs that were throttled count for their account (or the workspace).
            for a in r.accounts:
                a.throttle_errors += self.poller.throttled_by_account.get((ws.job.workspace_id, act(a.account_id)), 0)
            r.poll_throttle_errors = self.poller.throttled_by_account.get((ws.job.workspace_id, None), 0)
            calls: Counter[str] = Counter()
            for api in ws.apis:
                calls.update(api.calls)
            r.calls = dict(calls)
            r.api_calls = sum(api.total_calls for api in ws.apis)
            r.seconds = (ws.finished or time.monotonic()) - ws.started
            out.append(r)
        return out

    def _account(self, ws: _Workspace, account_id: str, seed: float) -> AccountResult:
        result = AccountResult(account_id)
        started = time.monotonic()
        try:
            if ws.stop.is_set():
                raise WorkspaceStopped("not started: the workspace's token is unusable (reconnect needed)")
            _AccountRunner(self, ws, account_id, result, random.Random(seed), self.log).run()
            result.ok = True
        except ReconnectNeeded as exc:
            ws.stop.set()
            ws.result.reconnect_needed = True
            result.error, result.action = str(exc), Action.stop_workspace.value
            self.log.error("%s/%s: %s", ws.job.workspace_id, account_id, exc)
        except WorkspaceStopped as exc:
            result.error, result.action = str(exc), Action.stop_workspace.value
        except ExtractionError as exc:
            result.error, result.action = str(exc), exc.action.value
            self.log.error("%s/%s failed: %s", ws.job.workspace_id, account_id, exc)
        except nz.NormalizationError as exc:
            result.error, result.action = f"unexpected data from Meta: {exc}", Action.stop_account.value
            self.log.error("%s/%s failed: %s", ws.job.workspace_id, account_id, result.error)
        except Exception as exc:  # a bug must not take the other accounts down; the message never has the token
            result.error, result.action = f"internal error: {type(exc).__name__}: {redact(str(exc))}", "error"
            self.log.error("%s/%s failed: %s", ws.job.workspace_id, account_id, result.error)
        result.seconds = time.monotonic() - started
        with ws.lock:
            ws.finished = max(ws.finished, time.monotonic())
        return result


@dataclass(eq=False)
class _Group:
    """One batch: a report's rows for a date range, possibly gathered from several (split) slices."""

    report: ReportSpec
    window: Window
    generation: int = 0
    outstanding: int = 1
    slices: int = 1
    restarts: int = 0
    done: bool = False
    batch: BatchSink | None = None
    failed: list[tuple[Slice, MetaError | None, str]] = field(default_factory=list)
    merged: dict[tuple[Any, ...], dict[str, Any]] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)


@dataclass(eq=False)
class _Task:
    slice: Slice
    group: _Group
    generation: int
    attempt: int = 0
    sync: bool = False


class _AccountRunner:
    """Extracts one ad account: entities, then its report slices through sync calls and async report runs."""

    def __init__(
        self, engine: _Engine, ws: _Workspace, account_id: str, result: AccountResult, rng: random.Random, log: Log
    ) -> None:
        self.engine = engine
        self.config = engine.config
        self.ws = ws
        self.workspace_id = ws.job.workspace_id
        self.account_id = act(account_id) or account_id
        self.result = result
        self.rng = rng
        self.log = log
        self.api = engine.api(ws, self.account_id)
        self.events: queue.Queue[JobEvent] = queue.Queue()
        self.pending: deque[_Task] = deque()
        self.inflight: dict[str, tuple[Job, _Task]] = {}
        self.hierarchy = Hierarchy()
        self.failures: list[FailedSlice] = []
        self.lineage_base = {"api_version": self.config.api_version, "sdk_version": ads_api_config["SDK_VERSION"]}

    # ---- calls --------------------------------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        if self.ws.stop.wait(seconds):
            raise WorkspaceStopped("stopped: the workspace's token is unusable (reconnect needed)")

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """One Meta call under the error policy: retry transient errors with backoff and jitter, wait out throttles
        (the governor decides how long), raise SplitNeeded / ExtractionError / ReconnectNeeded otherwise."""
        attempt = throttled = 0
        while True:
            attempt += 1
            try:
                return fn()
            except FacebookRequestError as exc:
                err = from_exception(exc)
                action = err.action
                self.log.warning("%s/%s: %s: %s", self.workspace_id, what, err.describe(), action.value)
                if action is Action.wait:
                    throttled += 1
                    self.result.throttle_errors += 1
                    self.engine.governor.on_throttle(getattr(exc, "ticket", None), err.code, err.subcode, err.headers)
                    if throttled > self.config.max_throttle_waits:
                        raise ExtractionError(f"{what}: {err.describe()} (still throttled, gave up)", err) from None
                    attempt -= 1  # waiting is not failing: the next attempt waits in the governor
                    continue
                if action is Action.stop_workspace:
                    self.ws.stop.set()
                    raise ReconnectNeeded(f"{what}: {err.describe()} (reconnect needed)", err) from None
                if action is Action.split:
                    raise SplitNeeded(f"{what}: {err.describe()}", err) from None
                if action is not Action.retry:
                    # `from None`: the SDK's exception text carries the request; ours carries only Meta's verdict
                    raise ExtractionError(f"{what}: {err.describe()}", err) from None
                reason = err.describe()
                if attempt >= self.config.max_attempts:
                    raise ExtractionError(f"{what}: {reason} (gave up after {attempt} attempts)", err) from None
            except MalformedResponse as exc:
                reason = str(exc)
                if attempt >= self.config.max_attempts:
                    raise ExtractionError(f"{what}: {reason} (gave up after {attempt} attempts)") from None
            except RequestException as exc:
                # network trouble (reset, timeout): transient; only the type is shown, its text quotes the URL
                reason = f"network error {type(exc).__name__}"
                if attempt >= self.config.max_attempts:
                    raise ExtractionError(f"{what}: {reason} (gave up after {attempt} attempts)") from None
            delay = min(self.config.retry_max_s, self.config.retry_base_s * 2 ** (attempt - 1))
            delay *= 0.5 + self.rng.random()  # jitter: concurrent accounts must not retry in lockstep
            self.log.info("%s/%s: retry %d in %.2fs (%s)", self.workspace_id, what, attempt, delay, reason)
            self._sleep(delay)

    def _pages(self, what: str, path: tuple[str, ...], params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """The pages of a listing. Follows `cursors.after` while `paging.next` is there (Meta's last page has a
        cursor too); a failed page is asked again with the same cursor."""
        params = dict(params)
        page = 0
        while True:
            page += 1
            body = self._call(f"{what} page {page}", lambda p=dict(params): self.api.call("GET", path, params=p).json())
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, list):
                raise ExtractionError(f"{what} page {page}: unexpected reply without a data list")
            if data:
                yield data
            paging = body.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                return
            params["after"] = after

    # ---- the account --------------------------------------------------------------------------------------

    def run(self) -> None:
        started = time.monotonic()
        try:
            info = self.read_entities()
            tz = info.get("timezone_name") or "UTC"
            wanted = self.engine.window or restatement_window(tz, self.config.restatement_days, self.engine.now)
            self.result.window = clamp_window(wanted, tz, self.engine.now)
            if self.result.window is None:
                self.log.warning("%s/%s: nothing to read in %s..%s", self.workspace_id, self.account_id,
                                 wanted.start, wanted.end)  # fmt: skip
                return
            self.plan(self.result.window)
            self.loop()
        finally:
            self._abandon_inflight()
            self.write_errors()
        r = self.result
        self.log.info(
            "%s/%s: %s rows, %d batches, %d report runs, %d throttled, %d failed slices in %.1fs (window %s..%s)",
            self.workspace_id, self.account_id, r.rows, r.batches, r.jobs.get("submitted", 0), r.throttle_errors,
            len(r.failed_slices), time.monotonic() - started, r.window.start if r.window else "-",
            r.window.end if r.window else "-",
        )  # fmt: skip

    def read_entities(self) -> dict[str, Any]:
        acct = self.account_id
        info = self._call(
            f"{acct} read account",
            lambda: self.api.call("GET", (acct,), params={"fields": ",".join(ACCOUNT_FIELDS)}).json(),
        )
        if not isinstance(info, dict):
            raise ExtractionError(f"{acct} read account: unexpected reply")
        business = info.get("business") or {}
        if isinstance(business, dict):
            self.engine.governor.register_business(acct, business.get("id"))
        currency = info.get("currency") or ""
        now = datetime.now(UTC)
        params = {
            **self.lineage_base,
            "fields": {
                "account": ACCOUNT_FIELDS, "campaigns": CAMPAIGN_FIELDS, "adsets": ADSET_FIELDS, "ads": AD_FIELDS,
                "adcreatives": CREATIVE_FIELDS,
            },
            "statuses": "all (effective_status filter naming every status)",
        }  # fmt: skip
        batch = self.engine.sink.open_batch(self.workspace_id, acct, ENTITIES_REPORT, None, params)
        batch.append(nz.AD_ACCOUNTS, [nz.account_row(info, now)])
        self.result.count(nz.AD_ACCOUNTS, 1)
        raw: dict[str, list[dict[str, Any]]] = {}
        edges: list[tuple[str, str, list[str], str | None, Callable[[dict[str, Any]], dict[str, Any]]]] = [
            (nz.CAMPAIGNS, "campaigns", CAMPAIGN_FIELDS, "campaign", lambda r: nz.campaign_row(r, currency, now)),
            (nz.ADSETS, "adsets", ADSET_FIELDS, "adset", lambda r: nz.adset_row(r, currency, now)),
            (nz.ADS, "ads", AD_FIELDS, "ad", lambda r: nz.ad_row(r, now)),
            (nz.AD_CREATIVES, "adcreatives", CREATIVE_FIELDS, None, lambda r: nz.creative_row(r, now)),
        ]
        for table, edge, fields, level, to_row in edges:
            params_: dict[str, Any] = {"fields": ",".join(fields), "limit": self.config.page_limit}
            if level:
                params_["filtering"] = status_filter(level)
            items = raw.setdefault(edge, [])
            for page in self._pages(f"{acct} {edge}", (acct, edge), params_):
                items.extend(page)
                batch.append(table, [to_row(r) for r in page])
                self.result.count(table, len(page))
        # Creatives of ads the edge did not list (deleted with their ad) stay readable by id.
        listed = {str(c.get("id")) for c in raw["adcreatives"]}
        wanted = sorted({str((a.get("creative") or {}).get("id")) for a in raw["ads"] if a.get("creative")} - listed)
        for creative_id in wanted:
            try:
                item = self._call(
                    f"{acct} creative {creative_id}",
                    lambda c=creative_id: self.api.call("GET", (c,), params={"fields": ",".join(CREATIVE_FIELDS)}),
                ).json()
            except ExtractionError as exc:
                if isinstance(exc, ReconnectNeeded):
                    raise
                self.log.warning("%s/%s: creative %s unreadable: %s", self.workspace_id, acct, creative_id, exc)
                continue
            if isinstance(item, dict) and item.get("id"):
                batch.append(nz.AD_CREATIVES, [nz.creative_row(item, now)])
                self.result.count(nz.AD_CREATIVES, 1)
        batch.commit()
        self.result.batches += 1
        self.hierarchy = Hierarchy.from_entities(raw["campaigns"], raw["adsets"], raw["ads"])
        return info

    # ---- planning -----------------------------------------------------------------------------------------

    def plan(self, window: Window) -> None:
        chunks = chunk_window(window, self.config.chunk_days)
        for chunk in chunks:
            for name in self.config.reports:
                spec = report(name)
                s = Slice(self.account_id, spec, chunk.start, chunk.end)
                self.pending.append(_Task(s, _Group(spec, chunk), 0, sync=self._small(s)))

    def _small(self, s: Slice) -> bool:
        """Whether a slice is expected to fit in `sync_max_rows` rows (then one sync call beats a report run)."""
        if self.config.sync_max_rows <= 0:
            return False
        objects = max(1, self.hierarchy.count(s.report.level))
        return objects * s.days * s.report.cells_per_object_day <= self.config.sync_max_rows

    def _params(self, s: Slice) -> dict[str, Any]:
        params: dict[str, Any] = {
            "level": s.report.level,
            "fields": s.fields(),
            "time_range": {"since": s.since.isoformat(), "until": s.until.isoformat()},
            "time_increment": 1,
            "action_attribution_windows": list(ATTRIBUTION_WINDOWS),
            "action_report_time": ACTION_REPORT_TIME,
        }
        if s.report.breakdowns:
            params["breakdowns"] = list(s.report.breakdowns)
        if s.filtering():
            params["filtering"] = s.filtering()
        return params

    # ---- the loop -----------------------------------------------------------------------------------------

    def _check_stop(self) -> None:
        if self.ws.stop.is_set():
            raise WorkspaceStopped("stopped: the workspace's token is unusable (reconnect needed)")

    def loop(self) -> None:
        cfg = self.config
        while self.pending or self.inflight:
            self._check_stop()
            while self.pending and len(self.inflight) < cfg.max_jobs_per_account:
                task = self.pending[0]
                if task.generation != task.group.generation or task.group.done:
                    self.pending.popleft()  # a chunk that was restarted: this task belongs to the old attempt
                    continue
                if task.sync:
                    self.pending.popleft()
                    self.run_sync(task)
                    continue
                # A global cap on report runs: wait briefly for a slot, or for this account's runs to finish.
                if not self.engine.job_slots.acquire(timeout=0.05 if self.inflight else 0.25):
                    break
                self.pending.popleft()
                try:
                    job = self.submit(task)
                except BaseException:
                    self.engine.job_slots.release()
                    raise
                if job is None:
                    self.engine.job_slots.release()
                    continue
                self.inflight[job.run_id] = (job, task)
                self.engine.poller.watch(job)
            if not self.inflight:
                continue
            try:
                event = self.events.get(timeout=0.5)
            except queue.Empty:
                continue
            self.on_event(event)

    def _abandon_inflight(self) -> None:
        for job, _ in self.inflight.values():
            self.engine.poller.forget(job)
            self.engine.job_slots.release()
        self.inflight.clear()

    def submit(self, task: _Task) -> Job | None:
        s = task.slice
        what = f"{s.describe()} submit"
        account = AdAccount(self.account_id, api=self.api)
        try:
            run = self._call(what, lambda: account.get_insights(params=self._params(s), is_async=True))
        except SplitNeeded as exc:
            self.fail(task, exc.error, str(exc), resubmit_first=False)
            return None
        run_id = str(run.get("id") or run.get("report_run_id") or "")
        if not run_id:
            raise ExtractionError(f"{what}: Meta returned no report_run_id")
        self.result.jobs["submitted"] += 1
        now = self.engine.poller.clock()
        return Job(
            run_id=run_id,
            workspace_id=self.workspace_id,
            account_id=self.account_id,
            poll_api=self.ws.poll_api,
            events=self.events,
            submitted_at=now,
            next_poll_at=now + self.config.job_poll_initial_s,
            poll_delay=self.config.job_poll_initial_s,
            task=task,
            progress_at=now,
        )

    def on_event(self, event: JobEvent) -> None:
        job = event.job
        if self.inflight.pop(job.run_id, None) is None:
            return
        self.engine.poller.forget(job)
        self.engine.job_slots.release()
        task: _Task = job.task
        self.result.jobs[event.kind] += 1
        if event.kind == "reconnect":
            self.ws.stop.set()
            raise ReconnectNeeded(f"{task.slice.describe()} poll: {event.detail} (reconnect needed)", event.error)
        if event.kind == "stopped":
            raise WorkspaceStopped("stopped: the workspace's token is unusable (reconnect needed)")
        if task.generation != task.group.generation or task.group.done:
            return
        if event.kind == "completed":
            self.read_run(job, task)
        elif event.kind == "failed":
            why = f" ({event.error.describe()})" if event.error else ""
            self.log.warning("%s/%s: %s%s", self.workspace_id, task.slice.describe(), event.detail, why)
            self.fail(task, event.error, event.detail, resubmit_first=False)
        else:  # stuck or lost: the same request usually goes through when asked again
            self.log.warning("%s/%s: %s; resubmitting", self.workspace_id, task.slice.describe(), event.detail)
            self.fail(task, event.error, event.detail, resubmit_first=True)

    # ---- reading rows -------------------------------------------------------------------------------------

    def read_run(self, job: Job, task: _Task) -> None:
        what = f"{task.slice.describe()} run {job.run_id}"
        try:
            self._read(task, self._pages(what, (job.run_id, "insights"), {"limit": self.config.page_limit}))
        except (ReconnectNeeded, WorkspaceStopped):
            raise
        except nz.NormalizationError as exc:
            self._give_up(task, None, f"unexpected data from Meta: {exc}")
            return
        except ExtractionError as exc:
            # Rows of this run may already be in the chunk's batch: the chunk starts over with a new batch.
            self.restart(task.group, f"{what}: {exc}")
            return
        self.result.jobs["read"] += 1
        self._leaf_done(task)

    def run_sync(self, task: _Task) -> None:
        s = task.slice
        what = f"{s.describe()} sync"
        params = self._params(s)
        params["fields"] = ",".join(params["fields"])
        params["limit"] = self.config.page_limit
        self.result.jobs["sync"] += 1
        read = [0]

        def counted() -> Iterator[list[dict[str, Any]]]:
            for page in self._pages(what, (self.account_id, "insights"), params):
                read[0] += 1
                yield page

        try:
            self._read(task, counted())
        except SplitNeeded:
            if read[0] == 0:
                # "Too many rows" (or a timeout) on a sync call: the same slice as an async report run.
                self.result.jobs["sync_to_async"] += 1
                task.sync = False
                self.pending.appendleft(task)
                return
            self.restart(task.group, f"{what}: split needed after {read[0]} page(s)")
            return
        except nz.NormalizationError as exc:
            self._give_up(task, None, f"unexpected data from Meta: {exc}")
            return
        self._leaf_done(task)

    def _read(self, task: _Task, pages: Iterator[list[dict[str, Any]]]) -> None:
        group, spec = task.group, task.group.report
        for page in pages:
            rows, actions = nz.normalize_insights(page, spec.name, spec.level)
            if task.slice.field_split:
                # The halves of a field split come back as rows of their own: merged into one row per key.
                for row in rows:
                    key = nz.row_key(row)
                    if key in group.merged:
                        nz.merge_rows(group.merged[key], row)
                    else:
                        group.merged[key] = row
            elif rows:
                self._batch(group).append(nz.INSIGHTS, rows)
                group.counts[nz.INSIGHTS] += len(rows)
            if actions:
                self._batch(group).append(nz.INSIGHTS_ACTIONS, actions)
                group.counts[nz.INSIGHTS_ACTIONS] += len(actions)

    def _batch(self, group: _Group) -> BatchSink:
        if group.batch is None:
            params = {
                **self.lineage_base,
                **group.report.lineage(),
                "window": [group.window.start.isoformat(), group.window.end.isoformat()],
            }
            group.batch = self.engine.sink.open_batch(
                self.workspace_id, self.account_id, group.report.name, group.window, params
            )
        return group.batch

    def _leaf_done(self, task: _Task) -> None:
        task.group.outstanding -= 1
        self._finish(task.group)

    def _finish(self, group: _Group) -> None:
        if group.outstanding > 0 or group.done:
            return
        group.done = True
        if group.failed:
            for s, err, reason in group.failed:
                self._record(s, err, reason)
            self.log.warning(
                "%s/%s: %s %s..%s not committed (%d unreadable slice(s)); the previous data for those days stays",
                self.workspace_id, self.account_id, group.report.name, group.window.start, group.window.end,
                len(group.failed),
            )  # fmt: skip
            return
        batch = self._batch(group)
        if group.merged:
            batch.append(nz.INSIGHTS, list(group.merged.values()))
            group.counts[nz.INSIGHTS] += len(group.merged)
        batch.commit()
        self.result.batches += 1
        for table, n in group.counts.items():
            self.result.count(table, n)

    # ---- failures -----------------------------------------------------------------------------------------

    def fail(self, task: _Task, err: MetaError | None, reason: str, *, resubmit_first: bool) -> None:
        """A slice's run failed (or got stuck, or vanished): resubmit, split, or give up on it."""
        cfg, group = self.config, task.group
        if resubmit_first and task.attempt < cfg.max_resubmits:
            self.result.jobs["resubmitted"] += 1
            self.pending.appendleft(_Task(task.slice, group, task.generation, task.attempt + 1))
            return
        children = split(task.slice, self.hierarchy)
        if children and group.slices + len(children) <= cfg.max_slices_per_group:
            self.result.jobs["split"] += 1
            self.log.info("%s/%s: split into %d", self.workspace_id, task.slice.describe(), len(children))
            s = task.slice
            if children[0].until != s.until and group.outstanding == 1 and group.batch is None:
                # Split by time: each part is a chunk (a batch) of its own, so a day that stays unreadable
                # holds back only that day.
                group.done = True
                for child in reversed(children):
                    sub = _Group(group.report, Window(child.since, child.until), slices=group.slices + len(children))
                    self.pending.appendleft(_Task(child, sub, 0))
                return
            group.slices += len(children)
            group.outstanding += len(children) - 1
            for child in reversed(children):
                self.pending.appendleft(_Task(child, group, task.generation))
            return
        if task.attempt < cfg.max_resubmits:
            self.result.jobs["resubmitted"] += 1
            self.pending.appendleft(_Task(task.slice, group, task.generation, task.attempt + 1))
            return
        self._give_up(task, err, reason)

    def _give_up(self, task: _Task, err: MetaError | None, reason: str) -> None:
        task.group.failed.append((task.slice, err, reason))
        self._leaf_done(task)

    def restart(self, group: _Group, reason: str) -> None:
        """Start a chunk over with a new batch (the old one is never committed, so it never shows)."""
        if group.done:
            return
        if group.restarts >= self.config.max_group_restarts:
            root = Slice(self.account_id, group.report, group.window.start, group.window.end)
            group.failed.append((root, None, f"gave up after {group.restarts} restarts: {reason}"))
            group.outstanding = 0
            self._finish(group)
            return
        self.log.warning("%s/%s: restarting %s %s..%s: %s", self.workspace_id, self.account_id, group.report.name,
                         group.window.start, group.window.end, reason)  # fmt: skip
        self.result.jobs["restarts"] += 1
        group.generation += 1
        group.restarts += 1
        group.batch = None
        group.merged.clear()
        group.counts.clear()
        group.failed.clear()
        group.outstanding = 1
        group.slices = 1
        root = Slice(self.account_id, group.report, group.window.start, group.window.end)
        self.pending.appendleft(_Task(root, group, group.generation))

    def _record(self, s: Slice, err: MetaError | None, reason: str) -> None:
        if s.ids is not None:
            level, ids = s.id_level or "account", list(s.ids)
            if s.exclude:
                reason = f"{reason} (objects other than these)"
        else:
            level, ids = "account", [self.account_id]
        failed = FailedSlice(
            report=s.report.name,
            since=s.since,
            until=s.until,
            object_level=level,
            object_ids=ids,
            fields=list(s.metrics),
            error_code=err.code if err else None,
            error_subcode=err.subcode if err else None,
            action=err.action.value if err else Action.split.value,
            message=redact(err.message if err and err.message else reason),
            fbtrace_id=err.fbtrace_id if err else None,
        )
        self.result.failed_slices.append(failed)
        self.log.error("%s/%s: unreadable slice: %s", self.workspace_id, self.account_id, failed.describe())

    def write_errors(self) -> None:
        if not self.result.failed_slices:
            return
        now = datetime.now(UTC)
        rows = [
            nz.error_row(
                report=f.report,
                date_start=f.since,
                date_end=f.until,
                object_level=f.object_level,
                object_ids=f.object_ids,
                fields=f.fields,
                error_code=f.error_code,
                error_subcode=f.error_subcode,
                error_action=f.action,
                message=f.message,
                fbtrace_id=f.fbtrace_id,
                recorded_at=now,
            )
            for f in self.result.failed_slices
        ]
        batch = self.engine.sink.open_batch(self.workspace_id, self.account_id, ERRORS_REPORT, None, self.lineage_base)
        batch.append(nz.EXTRACTION_ERRORS, rows)
        batch.commit()
        self.result.batches += 1
        self.result.count(nz.EXTRACTION_ERRORS, len(rows))


# ---- entry points -------------------------------------------------------------------------------------------


def make_governor(config: ExtractConfig) -> RateGovernor:
    """The governor for one run, from the config's defaults (the orchestrator may build its own and pass it)."""
    return RateGovernor(
        target_pct=config.usage_target_pct,
        window_s=config.usage_window_s,
        fallback_s=config.throttle_fallback_s,
        seed=config.seed,
    )


def extract_workspaces(
    jobs: Sequence[WorkspaceJob],
    sink: Sink,
    config: ExtractConfig,
    governor: RateGovernor | None = None,
    window: Window | None = None,
    now: datetime | None = None,
    log: Log | None = None,
) -> list[WorkspaceResult]:
    """Extract the ad accounts of every workspace in `jobs`, interleaved under the config's caps and one governor
    (pass the process's shared one; one is made from the config otherwise). Results come back in `jobs` order.

    `window`: an explicit date window (a backfill; clamped to Meta's 37 months); None: each account's restatement
    window ending yesterday in its own timezone. One workspace's failure never stops another; a 190 stops that
    workspace and marks it `reconnect_needed`."""
    if not jobs:
        return []
    engine = _Engine(
        jobs, sink, config, governor or make_governor(config), window, now, log or logging.getLogger(__name__)
    )
    return engine.run()


def extract_workspace(
    workspace_id: str,
    token: str,
    account_ids: Sequence[str],
    sink: Sink,
    config: ExtractConfig,
    window: Window | None = None,
    now: datetime | None = None,
    log: Log | None = None,
    governor: RateGovernor | None = None,
) -> WorkspaceResult:
    """Extract every ad account of one workspace (`extract_workspaces` with one job)."""
    return extract_workspaces(
        [WorkspaceJob(workspace_id, token, tuple(account_ids))], sink, config, governor, window, now, log
    )[0]
