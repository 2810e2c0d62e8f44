"""Async report runs in flight, and the one thread that polls them all in batch requests.

Account runners submit report runs and hand them to the `JobPoller`; it polls every run in flight (across accounts
and workspaces, grouped by token) with `POST /` batch requests of up to 50 status reads, paced by the governor per
item, and tells the owning runner when a run completed, failed, got stuck or was lost. Deciding what to do then
(read, split, resubmit) is the runner's job.

A run is "stuck" when its progress has not moved for `job_stuck_s`, when it has sat at 100% without completing for
`job_stuck_at_100_s` (Meta's runs do both), or when it has run longer than `job_timeout_s` in all.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from facebook_business.exceptions import FacebookRequestError
from requests import RequestException

from insights_jobs.client import GuardedAdsApi
from insights_jobs.config import ExtractConfig
from insights_jobs.errors import (
    Action,
    MalformedResponse,
    MetaError,
    WorkspaceStopped,
    from_body,
    from_exception,
    redact,
)
from insights_jobs.governor import RateGovernor

JOB_DONE = "Job Completed"
JOB_FAILED = "Job Failed"
# "Job has expired and skipped. Please resubmit your job and try again." (Meta's Async Job Status table)
JOB_SKIPPED = "Job Skipped"
POLL_FIELDS = "id,async_status,async_percent_completion,error_code,error_subcode,error_message"
MAX_BATCH = 50


@dataclass(eq=False)
class Job:
    """One report run in flight."""

    run_id: str
    workspace_id: str
    account_id: str
    poll_api: GuardedAdsApi
    events: queue.Queue[JobEvent]
    submitted_at: float
    next_poll_at: float
    poll_delay: float
    task: Any = None  # the runner's bookkeeping, passed back with each event
    status: str = "Job Not Started"
    percent: int = 0
    progress_at: float = 0.0
    at_100_since: float | None = None
    polls: int = 0
    done: bool = False


@dataclass
class JobEvent:
    job: Job
    kind: str  # completed | failed | stuck | lost | reconnect | stopped
    detail: str = ""
    error: MetaError | None = None


@dataclass
class PollStats:
    batches: int = 0
    items: int = 0
    throttled: int = 0
    errors: int = 0
    by_workspace: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class JobPoller:
    """Polls every watched report run in batches (<= 50 per request, one token per request)."""

    def __init__(
        self,
        governor: RateGovernor,
        config: ExtractConfig,
        log: logging.Logger | logging.LoggerAdapter,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.governor = governor
        self.config = config
        self.log = log
        self.clock = clock
        self._cond = threading.Condition()
        self._jobs: dict[str, Job] = {}
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="insights-job-poller", daemon=True)
        self.stats = PollStats()
        # Throttled status reads by (workspace, account); account None: the whole batch request was throttled.
        self.throttled_by_account: Counter[tuple[str, str | None]] = Counter()

    def start(self) -> JobPoller:
        self._thread.start()
        return self

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=10)

    def watch(self, job: Job) -> None:
        with self._cond:
            self._jobs[job.run_id] = job
            self._cond.notify_all()

    def forget(self, job: Job) -> None:
        with self._cond:
            self._jobs.pop(job.run_id, None)

    def in_flight(self) -> int:
        with self._cond:
            return len(self._jobs)

    # ---- the loop -----------------------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._cond:
                while not self._closed:
                    now = self.clock()
                    due = [j for j in self._jobs.values() if j.next_poll_at <= now and not j.done]
                    if due:
                        break
                    upcoming = [j.next_poll_at for j in self._jobs.values() if not j.done]
                    self._cond.wait(timeout=min(upcoming) - now if upcoming else 1.0)
                if self._closed:
                    return
            by_api: dict[int, list[Job]] = defaultdict(list)
            for job in sorted(due, key=lambda j: j.next_poll_at):
                by_api[id(job.poll_api)].append(job)
            for jobs in by_api.values():
                for i in range(0, len(jobs), self.config.poll_batch_size):
                    try:
                        self._poll(jobs[i : i + self.config.poll_batch_size])
                    except Exception as exc:  # never let the poller die: runners would wait forever
                        self.log.error("report run poller: %s: %s", type(exc).__name__, redact(str(exc)))
                        for job in jobs[i : i + self.config.poll_batch_size]:
                            self._later(job, self.config.job_poll_max_s)

    def _later(self, job: Job, delay: float) -> None:
        job.next_poll_at = self.clock() + delay

    def _emit(self, job: Job, kind: str, detail: str = "", error: MetaError | None = None) -> None:
        if job.done:
            return
        job.done = True
        self.forget(job)
        job.events.put(JobEvent(job, kind, detail, error))

    def _poll(self, jobs: list[Job]) -> None:
        api = jobs[0].poll_api
        if api.stop.is_set():
            for job in jobs:
                self._emit(job, "stopped", "the workspace's token is unusable")
            return
        # The batch request itself counts against the app and the token: if either must wait, these runs wait
        # (rescheduled) rather than the poller, which serves other workspaces too.
        wait = self.governor.wait_for(self.governor.scopes_for(jobs[0].workspace_id, None, False))
        if wait > 0:
            for job in jobs:
                self._later(job, wait)
            return
        admitted: list[tuple[Job, Any]] = []
        for job in jobs:
            scopes = self.governor.scopes_for(job.workspace_id, job.account_id, False)
            ticket, wait = self.governor.try_acquire(
                scopes, workspace_id=job.workspace_id, account_id=job.account_id, insights=False
            )
            if ticket is None:  # this account (or business) must wait; the others are polled now
                self._later(job, max(wait, 0.05))
                continue
            admitted.append((job, ticket))
        if not admitted:
            return
        batch = api.new_batch()
        for job, ticket in admitted:
            batch.add(
                "GET",
                (job.run_id,),
                params={"fields": POLL_FIELDS},
                success=lambda resp, j=job, t=ticket: self._reply(j, t, resp),
                failure=lambda resp, j=job, t=ticket: self._reply(j, t, resp),
            )
        api.count("batch_items", len(admitted))
        self.stats.batches += 1
        self.stats.items += len(admitted)
        self.stats.by_workspace[jobs[0].workspace_id] += len(admitted)
        try:
            retry = batch.execute()
        except FacebookRequestError as exc:
            self._items_unanswered(admitted)
            err = from_exception(exc)
            self.stats.errors += 1
            self.log.warning("poll %d report run(s): %s", len(admitted), err.describe())
            action = err.action
            if action is Action.wait:
                self.stats.throttled += 1
                self.throttled_by_account[(jobs[0].workspace_id, None)] += 1
                wait = self.governor.on_throttle(getattr(exc, "ticket", None), err.code, err.subcode, err.headers)
                for job, _ in admitted:
                    self._later(job, max(wait, self.config.job_poll_initial_s))
            elif action is Action.stop_workspace:
                for job, _ in admitted:
                    self._emit(job, "reconnect", err.describe(), err)
            else:
                for job, _ in admitted:
                    self._later(job, min(self.config.job_poll_max_s, job.poll_delay * 2))
            return
        except WorkspaceStopped:
            self._items_unanswered(admitted)
            for job, _ in admitted:
                self._emit(job, "stopped", "the workspace's token is unusable")
            return
        except (RequestException, MalformedResponse) as exc:
            self._items_unanswered(admitted)
            self.stats.errors += 1
            self.log.warning("poll %d report run(s): %s; polling again", len(admitted), type(exc).__name__)
            for job, _ in admitted:
                self._later(job, min(self.config.job_poll_max_s, job.poll_delay * 2))
            return
        if retry is not None:  # items Meta answered with null: ask again next round
            for job, ticket in admitted:
                if not job.done and job.next_poll_at <= self.clock():
                    self.governor.observe(ticket, None, ok=False)
                    self._later(job, job.poll_delay)

    def _items_unanswered(self, admitted: list[tuple[Job, Any]]) -> None:
        for _, ticket in admitted:  # no item replies: as far as we know the items counted until now
            self.governor.observe(ticket, None, ok=False)

    # ---- one status reply ---------------------------------------------------------------------------------

    def _reply(self, job: Job, ticket: Any, response: Any) -> None:
        headers = response.headers()
        body = response.json()
        err = from_body(body, response.status(), headers)
        self.governor.observe(ticket, headers, ok=isinstance(body, dict) and err is None)
        now = self.clock()
        job.polls += 1
        if not isinstance(body, dict):
            self._later(job, job.poll_delay)  # garbled item: poll again
            return
        if err is not None:
            action = err.action
            if action is Action.wait:
                self.stats.throttled += 1
                self.throttled_by_account[(job.workspace_id, job.account_id)] += 1
                wait = self.governor.on_throttle(ticket, err.code, err.subcode, headers)
                self._later(job, max(wait, job.poll_delay))
            elif action is Action.retry:
                self._later(job, min(self.config.job_poll_max_s, job.poll_delay * 2))
            elif action is Action.stop_workspace:
                self._emit(job, "reconnect", err.describe(), err)
            else:  # the run is gone or not ours any more: the runner resubmits (and learns why if it fails)
                self._emit(job, "lost", err.describe(), err)
            return
        status = str(body.get("async_status") or "")
        try:
            percent = int(body.get("async_percent_completion") or 0)
        except (TypeError, ValueError):
            percent = job.percent
        if status != job.status or percent != job.percent:
            job.progress_at = now
        job.status, job.percent = status, percent
        if percent >= 100 and status != JOB_DONE:
            job.at_100_since = job.at_100_since or now
        if status == JOB_DONE:
            self._emit(job, "completed")
            return
        if status == JOB_SKIPPED:
            self._emit(job, "skipped", f"report run {job.run_id} ended {status!r}")
            return
        if status == JOB_FAILED:
            code, subcode = body.get("error_code"), body.get("error_subcode")
            failure = None
            if code is not None:
                failure = MetaError(
                    code=_int(code),
                    subcode=_int(subcode),
                    message=str(body.get("error_message") or status),
                    fbtrace_id=None,
                    http_status=None,
                    transient=False,
                )
            self._emit(job, "failed", f"report run {job.run_id} ended {status!r}", failure)
            return
        cfg = self.config
        if now - job.progress_at > cfg.job_stuck_s:
            detail = f"report run {job.run_id} made no progress for {cfg.job_stuck_s:.0f}s ({percent}%)"
            self._emit(job, "stuck", detail)
            return
        if job.at_100_since is not None and now - job.at_100_since > cfg.job_stuck_at_100_s:
            detail = f"report run {job.run_id} at 100% but {status!r} for {cfg.job_stuck_at_100_s:.0f}s"
            self._emit(job, "stuck", detail)
            return
        if now - job.submitted_at > cfg.job_timeout_s:
            self._emit(job, "stuck", f"report run {job.run_id} not complete after {cfg.job_timeout_s:.0f}s")
            return
        job.poll_delay = self._next_delay(job, now)
        self._later(job, job.poll_delay)

    def _next_delay(self, job: Job, now: float) -> float:
        cfg = self.config
        if 0 < job.percent < 100:
            # Meta's percentage roughly tracks time: poll about when the run should be done.
            elapsed = now - job.submitted_at
            eta = elapsed * (100 - job.percent) / job.percent
            return min(cfg.job_poll_max_s, max(cfg.job_poll_min_s, eta * 1.05))
        return min(cfg.job_poll_max_s, max(cfg.job_poll_min_s, job.poll_delay * 1.5))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
