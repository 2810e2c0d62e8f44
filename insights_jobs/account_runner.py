"""One ad account's extraction: its entities, then each (report, date chunk) as a slice read with one sync call
when small, else through an async report run; failed slices are resubmitted, split (`split.py`) or, at their
narrowest, recorded; each chunk's batch is committed only when every row of it has been read (README.md, "Batches").
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from facebook_business.adobjects.adaccount import AdAccount
from facebook_business.apiconfig import ads_api_config

from dates import Window
from insights_jobs import normalize as nz
from insights_jobs.calls import AccountCalls, Log, SplitNeeded
from insights_jobs.client import GuardedAdsApi
from insights_jobs.config import ExtractConfig
from insights_jobs.entity_reads import read_entities
from insights_jobs.errors import Action, ExtractionError, MetaError, ReconnectNeeded, WorkspaceStopped, redact
from insights_jobs.governor import RateGovernor, act
from insights_jobs.report_runs import Job, JobEvent, JobPoller
from insights_jobs.reports import ACTION_REPORT_TIME, ATTRIBUTION_WINDOWS, ReportSpec, report
from insights_jobs.results import AccountResult, FailedSlice
from insights_jobs.sink import BatchSink, Sink
from insights_jobs.split import Hierarchy, Slice, split
from insights_jobs.windows import clamp_window, restatement_window

ERRORS_REPORT = "extraction_errors"
# Meta's async error table: "Report Failed: Generating the report failed. Try again later."
REPORT_FAILED_TRY_AGAIN = (-2, 2490547)


@dataclass(frozen=True)
class RunShared:
    """What the account runners of one extraction share: the config, the governor, the sink, the window (None: each
    account's restatement window), the cap on report runs in flight in all, and the poller of those runs."""

    config: ExtractConfig
    governor: RateGovernor
    sink: Sink
    window: Window | None
    now: datetime | None
    job_slots: threading.BoundedSemaphore
    poller: JobPoller


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


class AccountRunner:
    """Extracts one ad account: entities, then its report slices through sync calls and async report runs."""

    def __init__(
        self,
        shared: RunShared,
        api_for: Callable[[str], GuardedAdsApi],
        *,
        workspace_id: str,
        account_id: str,
        stop: threading.Event,
        poll_api: GuardedAdsApi,
        result: AccountResult,
        rng: random.Random,
        log: Log,
    ) -> None:
        self.shared = shared
        self.config = shared.config
        self.stop = stop
        self.poll_api = poll_api
        self.workspace_id = workspace_id
        self.account_id = act(account_id) or account_id
        self.result = result
        self.rng = rng
        self.log = log
        self.api = api_for(self.account_id)
        self.calls = AccountCalls(
            self.api,
            workspace_id=workspace_id,
            account_id=self.account_id,
            config=self.config,
            governor=shared.governor,
            stop=stop,
            result=result,
            rng=rng,
            log=log,
        )
        self.events: queue.Queue[JobEvent] = queue.Queue()
        self.pending: deque[_Task] = deque()
        self.inflight: dict[str, tuple[Job, _Task]] = {}
        self.hierarchy = Hierarchy()
        self.lineage_base = {"api_version": self.config.api_version, "sdk_version": ads_api_config["SDK_VERSION"]}

    # ---- the account --------------------------------------------------------------------------------------

    def run(self) -> None:
        started = time.monotonic()
        try:
            info, self.hierarchy = read_entities(self.calls, self.shared.sink, self.result, self.lineage_base)
            tz = info.get("timezone_name") or "UTC"
            wanted = self.shared.window or restatement_window(tz, self.config.restatement_days, self.shared.now)
            self.result.window = clamp_window(wanted, tz, self.shared.now)
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

    # ---- planning -----------------------------------------------------------------------------------------

    def plan(self, window: Window) -> None:
        chunks = window.chunks(self.config.chunk_days)
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
        filtering = s.filtering()
        if filtering:
            params["filtering"] = filtering
        return params

    # ---- the loop -----------------------------------------------------------------------------------------

    def _check_stop(self) -> None:
        if self.stop.is_set():
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
                if not self.shared.job_slots.acquire(timeout=0.05 if self.inflight else 0.25):
                    break
                self.pending.popleft()
                try:
                    job = self.submit(task)
                except BaseException:
                    self.shared.job_slots.release()
                    raise
                if job is None:
                    self.shared.job_slots.release()
                    continue
                self.inflight[job.run_id] = (job, task)
                self.shared.poller.watch(job)
            if not self.inflight:
                continue
            try:
                event = self.events.get(timeout=0.5)
            except queue.Empty:
                continue
            self.on_event(event)

    def _abandon_inflight(self) -> None:
        for job, _ in self.inflight.values():
            self.shared.poller.forget(job)
            self.shared.job_slots.release()
        self.inflight.clear()

    def submit(self, task: _Task) -> Job | None:
        s = task.slice
        what = f"{s.describe()} submit"
        account = AdAccount(self.account_id, api=self.api)
        try:
            run = self.calls.call(what, lambda: account.get_insights(params=self._params(s), is_async=True))
        except SplitNeeded as exc:
            self.fail(task, exc.error, str(exc), resubmit_first=False)
            return None
        run_id = str(run.get("id") or run.get("report_run_id") or "")
        if not run_id:
            raise ExtractionError(f"{what}: Meta returned no report_run_id")
        self.result.jobs["submitted"] += 1
        now = self.shared.poller.clock()
        return Job(
            run_id=run_id,
            workspace_id=self.workspace_id,
            account_id=self.account_id,
            poll_api=self.poll_api,
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
        self.shared.poller.forget(job)
        self.shared.job_slots.release()
        task: _Task = job.task
        self.result.jobs[event.kind] += 1
        if event.kind == "reconnect":
            self.stop.set()
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
            # -2/2490547 "Report Failed ... Try again later" asks for the same report again; others are too big.
            again = event.error is not None and (event.error.code, event.error.subcode) == REPORT_FAILED_TRY_AGAIN
            self.fail(task, event.error, event.detail, resubmit_first=again)
        else:  # stuck, skipped (expired) or lost: the same request usually goes through when asked again
            self.log.warning("%s/%s: %s; resubmitting", self.workspace_id, task.slice.describe(), event.detail)
            self.fail(task, event.error, event.detail, resubmit_first=True)

    # ---- reading rows -------------------------------------------------------------------------------------

    def read_run(self, job: Job, task: _Task) -> None:
        what = f"{task.slice.describe()} run {job.run_id}"
        try:
            self._read(task, self.calls.pages(what, (job.run_id, "insights"), {"limit": self.config.page_limit}))
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
            for page in self.calls.pages(what, (self.account_id, "insights"), params):
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
            rows = nz.normalize_insights(page, spec.name, spec.level)
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

    def _batch(self, group: _Group) -> BatchSink:
        if group.batch is None:
            params = {
                **self.lineage_base,
                **group.report.lineage(),
                "window": [group.window.start.isoformat(), group.window.end.isoformat()],
            }
            group.batch = self.shared.sink.open_batch(
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
        batch = self.shared.sink.open_batch(self.workspace_id, self.account_id, ERRORS_REPORT, None, self.lineage_base)
        batch.append(nz.EXTRACTION_ERRORS, rows)
        batch.commit()
        self.result.batches += 1
        self.result.count(nz.EXTRACTION_ERRORS, len(rows))
