"""Read one workspace's ad accounts: entities, then ad-level daily insights through async report runs.

Each account lands as two batches: "entities" (account, campaigns, adsets, ads) and the insights report for its
window. A batch is committed only after all its pages are written, so a failure part-way leaves nothing visible.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.adobjects.adreportrun import AdReportRun
from facebook_business.apiconfig import ads_api_config
from facebook_business.exceptions import FacebookRequestError
from requests import RequestException

from insights_jobs import normalize as nz
from insights_jobs.client import GuardedAdsApi, make_api
from insights_jobs.errors import Action, ExtractionError, MetaError, ReconnectNeeded, from_exception
from insights_jobs.windows import Window, clamp_window, restatement_window

T = TypeVar("T")

ACCOUNT_FIELDS = [
    "id", "account_id", "name", "currency", "timezone_name", "timezone_offset_hours_utc", "account_status", "business",
]  # fmt: skip
CAMPAIGN_FIELDS = [
    "id", "name", "status", "effective_status", "objective", "buying_type", "bid_strategy", "daily_budget",
    "lifetime_budget", "created_time", "updated_time", "start_time", "stop_time",
]  # fmt: skip
ADSET_FIELDS = [
    "id", "name", "campaign_id", "status", "effective_status", "optimization_goal", "billing_event", "bid_strategy",
    "daily_budget", "lifetime_budget", "created_time", "updated_time", "start_time", "end_time",
]  # fmt: skip
AD_FIELDS = [
    "id", "name", "adset_id", "campaign_id", "status", "effective_status", "creative", "created_time", "updated_time",
]  # fmt: skip
INSIGHTS_FIELDS = [
    "account_id", "account_currency", "campaign_id", "adset_id", "ad_id", "date_start", "date_stop", "spend",
    "impressions", "clicks", "inline_link_clicks", "reach", "frequency", "actions", "action_values",
]  # fmt: skip
# 7d_view and 28d_view are no longer returned by Meta (2026-01-12), so they are not asked for.
ATTRIBUTION_WINDOWS = ["1d_click", "7d_click", "28d_click", "1d_view"]
ACTION_REPORT_TIME = "impression"

# Without an effective_status filter naming them, Meta hides ARCHIVED and DELETED objects; deleted ads still spend.
_COMMON_STATUSES = ["ACTIVE", "PAUSED", "DELETED", "ARCHIVED", "IN_PROCESS", "WITH_ISSUES"]
ALL_STATUSES = {
    "campaign": _COMMON_STATUSES,
    "adset": [*_COMMON_STATUSES, "CAMPAIGN_PAUSED"],
    "ad": [
        *_COMMON_STATUSES, "CAMPAIGN_PAUSED", "ADSET_PAUSED", "PENDING_REVIEW", "DISAPPROVED", "PREAPPROVED",
        "PENDING_BILLING_INFO",
    ],
}  # fmt: skip

JOB_DONE = "Job Completed"
JOB_FAILED = {"Job Failed", "Job Skipped"}


@dataclass(frozen=True)
class ExtractConfig:
    graph_url: str
    api_version: str
    restatement_days: int = 28
    concurrency: int = 8
    page_limit: int = 500
    request_timeout_s: float = 120.0
    job_poll_initial_s: float = 0.5
    job_poll_max_s: float = 10.0
    # A report run can take up to an hour at Meta; past this it is given up (resubmission comes with the job manager).
    job_timeout_s: float = 3600.0
    max_attempts: int = 5
    retry_base_s: float = 1.0
    retry_max_s: float = 60.0


class BatchSink(Protocol):
    def append(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None: ...

    def commit(self) -> Any: ...


class Sink(Protocol):
    """Where extracted rows go (the warehouse, through an adapter in orchestration/)."""

    def open_batch(
        self, workspace_id: str, account_id: str, report: str, window: Window | None, params: Mapping[str, Any]
    ) -> BatchSink: ...


@dataclass
class AccountResult:
    account_id: str
    ok: bool = False
    window: Window | None = None
    rows: dict[str, int] = field(default_factory=dict)
    error: str | None = None
    action: str | None = None  # the error policy's verdict when it failed

    def count(self, table: str, n: int) -> None:
        self.rows[table] = self.rows.get(table, 0) + n


@dataclass
class WorkspaceResult:
    workspace_id: str
    accounts: list[AccountResult] = field(default_factory=list)
    reconnect_needed: bool = False
    api_calls: int = 0
    seconds: float = 0.0

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


class AccountExtractor:
    """Extracts one ad account. Retries transient Meta errors; anything else ends the account with a reason."""

    def __init__(
        self,
        api: GuardedAdsApi,
        workspace_id: str,
        config: ExtractConfig,
        sink: Sink,
        log: logging.Logger | logging.LoggerAdapter,
        stop: threading.Event,
        rng: random.Random,
    ) -> None:
        self.api = api
        self.workspace_id = workspace_id
        self.config = config
        self.sink = sink
        self.log = log
        self.stop = stop
        self.rng = rng

    # -- error handling -----------------------------------------------------------------------------------------
    def _sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise ExtractionError("extraction stopped: another account found the workspace's token unusable")

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except FacebookRequestError as exc:
                err = from_exception(exc)
                self._raise_unless_retryable(what, err, attempt)
                reason = err.describe()
            except RequestException as exc:
                # network trouble (reset, timeout): transient; the message has no URL, so no token
                if attempt >= self.config.max_attempts:
                    raise ExtractionError(f"{what}: network error {type(exc).__name__} (gave up)") from None
                reason = f"network error {type(exc).__name__}"
            delay = min(self.config.retry_max_s, self.config.retry_base_s * 2 ** (attempt - 1))
            delay *= 0.5 + self.rng.random()  # jitter: concurrent accounts must not retry in lockstep
            self.log.warning("%s: %s; retry %d in %.1fs", what, reason, attempt, delay)
            self._sleep(delay)

    def _raise_unless_retryable(self, what: str, err: MetaError, attempt: int) -> None:
        action = err.action
        if action is Action.stop_workspace:
            raise ReconnectNeeded(f"{what}: {err.describe()} (reconnect needed)", err) from None
        if action in (Action.retry, Action.wait) and attempt < self.config.max_attempts:
            return
        if action in (Action.retry, Action.wait):
            raise ExtractionError(f"{what}: {err.describe()} (gave up after {attempt} attempts)", err) from None
        # `from None`: the SDK's exception text carries the request; ours carries only Meta's verdict
        raise ExtractionError(f"{what}: {err.describe()}", err) from None

    def _iterate(self, what: str, cursor: Iterator[Any]) -> Iterator[Any]:
        """Iterate an SDK Cursor, retrying a failed page (a failed page load leaves the cursor where it was)."""
        while True:
            try:
                item = self._call(what, lambda: next(cursor))
            except StopIteration:
                return
            yield item

    def _pages(self, what: str, cursor: Iterator[Any]) -> Iterator[list[dict[str, Any]]]:
        page: list[dict[str, Any]] = []
        for item in self._iterate(what, cursor):
            page.append(item.export_all_data() if hasattr(item, "export_all_data") else dict(item))
            if len(page) >= self.config.page_limit:
                yield page
                page = []
        if page:
            yield page

    # -- entities -----------------------------------------------------------------------------------------------
    def read_entities(self, account_id: str, result: AccountResult) -> dict[str, Any]:
        account = AdAccount(account_id, api=self.api)
        info = self._call(
            f"{account_id} read account", lambda: account.api_get(fields=ACCOUNT_FIELDS).export_all_data()
        )
        currency = info.get("currency") or ""
        now = datetime.now(UTC)
        params = {"api_version": self.api._api_version, "sdk_version": ads_api_config["SDK_VERSION"]}
        batch = self.sink.open_batch(self.workspace_id, account_id, "entities", None, params)
        batch.append(nz.AD_ACCOUNTS, [nz.account_row(info, now)])
        result.count(nz.AD_ACCOUNTS, 1)
        edges: list[tuple[str, str, Callable[..., Any], list[str], Callable[[dict[str, Any]], dict[str, Any]]]] = [
            (nz.CAMPAIGNS, "campaign", account.get_campaigns, CAMPAIGN_FIELDS,
             lambda r: nz.campaign_row(r, currency, now)),
            (nz.ADSETS, "adset", account.get_ad_sets, ADSET_FIELDS, lambda r: nz.adset_row(r, currency, now)),
            (nz.ADS, "ad", account.get_ads, AD_FIELDS, lambda r: nz.ad_row(r, now)),
        ]  # fmt: skip
        for table, level, getter, fields, to_row in edges:
            params_ = {
                "limit": self.config.page_limit,
                "filtering": [{"field": f"{level}.effective_status", "operator": "IN", "value": ALL_STATUSES[level]}],
            }
            cursor = self._call(
                f"{account_id} list {table}", lambda g=getter, f=fields, p=params_: g(fields=f, params=p)
            )
            for page in self._pages(f"{account_id} {table} page", cursor):
                batch.append(table, [to_row(r) for r in page])
                result.count(table, len(page))
        batch.commit()
        return info

    # -- insights -----------------------------------------------------------------------------------------------
    def insights_params(self, window: Window) -> dict[str, Any]:
        return {
            "level": "ad",
            "fields": INSIGHTS_FIELDS,
            "time_range": window.as_time_range(),
            "time_increment": 1,
            "action_attribution_windows": ATTRIBUTION_WINDOWS,
            "action_report_time": ACTION_REPORT_TIME,
            "limit": self.config.page_limit,
        }

    def wait_for_job(self, account_id: str, job: AdReportRun) -> None:
        deadline = time.monotonic() + self.config.job_timeout_s
        delay = self.config.job_poll_initial_s
        fields = [AdReportRun.Field.async_status, AdReportRun.Field.async_percent_completion]
        while True:
            state = self._call(f"{account_id} poll report run", lambda: job.api_get(fields=fields))
            status = state[AdReportRun.Field.async_status]
            pct = state.get(AdReportRun.Field.async_percent_completion)
            if status == JOB_DONE:
                return
            if status in JOB_FAILED:
                raise ExtractionError(f"{account_id}: report run {job['id']} ended with {status!r}")
            if time.monotonic() > deadline:
                raise ExtractionError(
                    f"{account_id}: report run {job['id']} not complete after {self.config.job_timeout_s:.0f}s "
                    f"({status}, {pct}%)"
                )
            self._sleep(delay)
            delay = min(delay * 1.5, self.config.job_poll_max_s)

    def read_insights(self, account_id: str, window: Window, result: AccountResult) -> None:
        report, level = "ad_daily", "ad"
        params = self.insights_params(window)
        lineage = {
            "api_version": self.api._api_version,
            "sdk_version": ads_api_config["SDK_VERSION"],
            **{k: v for k, v in params.items() if k != "limit"},
        }
        account = AdAccount(account_id, api=self.api)
        job = self._call(f"{account_id} submit report run", lambda: account.get_insights(params=params, is_async=True))
        self.wait_for_job(account_id, job)
        batch = self.sink.open_batch(self.workspace_id, account_id, report, window, lineage)
        cursor = self._call(
            f"{account_id} read report run", lambda: job.get_result(params={"limit": self.config.page_limit})
        )
        for page in self._pages(f"{account_id} insights page", cursor):
            rows, actions = nz.normalize_insights(page, report, level)
            batch.append(nz.INSIGHTS, rows)
            batch.append(nz.INSIGHTS_ACTIONS, actions)
            result.count(nz.INSIGHTS, len(rows))
            result.count(nz.INSIGHTS_ACTIONS, len(actions))
        batch.commit()

    def run(self, account_id: str, window: Window | None, now: datetime | None) -> AccountResult:
        result = AccountResult(account_id)
        started = time.monotonic()
        try:
            info = self.read_entities(account_id, result)
            tz = info.get("timezone_name") or "UTC"
            wanted = window or restatement_window(tz, self.config.restatement_days, now)
            result.window = clamp_window(wanted, tz, now)
            if result.window is None:
                self.log.warning("%s: nothing to read in %s..%s", account_id, wanted.start, wanted.end)
            else:
                self.read_insights(account_id, result.window, result)
            result.ok = True
            self.log.info(
                "%s/%s: %s rows in %.1fs (window %s..%s)",
                self.workspace_id, account_id, result.rows, time.monotonic() - started,
                result.window.start if result.window else "-", result.window.end if result.window else "-",
            )  # fmt: skip
        except ReconnectNeeded:
            raise
        except ExtractionError as exc:
            result.error, result.action = str(exc), exc.action.value
            self.log.error("%s/%s failed: %s", self.workspace_id, account_id, exc)
        except nz.NormalizationError as exc:
            result.error, result.action = f"unexpected data from Meta: {exc}", Action.stop_account.value
            self.log.error("%s/%s failed: %s", self.workspace_id, account_id, result.error)
        return result


def extract_workspace(
    workspace_id: str,
    token: str,
    account_ids: Sequence[str],
    sink: Sink,
    config: ExtractConfig,
    window: Window | None = None,
    now: datetime | None = None,
    log: logging.Logger | logging.LoggerAdapter | None = None,
) -> WorkspaceResult:
    """Extract every ad account of one workspace. Accounts fail independently; an unusable token (190) stops
    the workspace and marks it "reconnect needed"."""
    log = log or logging.getLogger(__name__)
    started = time.monotonic()
    api = make_api(token, config.graph_url, config.api_version, timeout=config.request_timeout_s)
    stop = threading.Event()
    out = WorkspaceResult(workspace_id)

    def one(account_id: str, seed: int) -> AccountResult:
        extractor = AccountExtractor(api, workspace_id, config, sink, log, stop, random.Random(seed))
        try:
            return extractor.run(account_id, window, now)
        except ReconnectNeeded as exc:
            stop.set()
            out.reconnect_needed = True
            log.error("%s: %s", workspace_id, exc)
            return AccountResult(account_id, error=str(exc), action=Action.stop_workspace.value)

    with ThreadPoolExecutor(max_workers=max(1, min(config.concurrency, len(account_ids)))) as pool:
        out.accounts = list(pool.map(one, account_ids, range(len(account_ids))))
    out.api_calls = api.total_calls
    out.seconds = time.monotonic() - started
    return out
