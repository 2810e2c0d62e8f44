"""The engine of one extraction: the accounts of all the workspaces it is given, interleaved round robin (a workspace
with many accounts does not hold back the others) on `concurrency` threads, under one governor and one poller of
report runs. Accounts fail independently; an unusable token (190) stops its workspace ("reconnect needed") and no
other; a bug in one account is reported as its error, never raised.
"""

from __future__ import annotations

import functools
import random
import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from insights_jobs import normalize as nz
from insights_jobs.account_runner import AccountRunner, RunShared
from insights_jobs.calls import Log
from insights_jobs.client import GuardedAdsApi, make_api
from insights_jobs.config import ExtractConfig, WorkspaceJob
from insights_jobs.errors import Action, ExtractionError, ReconnectNeeded, WorkspaceStopped, redact
from insights_jobs.governor import RateGovernor, act
from insights_jobs.report_runs import JobPoller
from insights_jobs.results import AccountResult, WorkspaceResult
from insights_jobs.sink import Sink
from insights_jobs.windows import Window


@dataclass
class _Workspace:
    """One workspace during the run: its stop signal (set when its token is unusable), its result, the API that
    polls its report runs and every API made for it (their call counts go into the result)."""

    job: WorkspaceJob
    stop: threading.Event
    result: WorkspaceResult
    poll_api: GuardedAdsApi
    apis: list[GuardedAdsApi] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = 0.0
    finished: float = 0.0


class Engine:
    """One extraction: the accounts of every workspace interleaved under the config's caps, one governor, one poller
    of report runs."""

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
        self.config = config
        self.governor = governor
        self.log = log
        self.poller = JobPoller(governor, config, log)
        job_slots = threading.BoundedSemaphore(config.max_jobs_in_flight)
        self.shared = RunShared(config, governor, sink, window, now, job_slots, self.poller)
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
            AccountRunner(
                self.shared,
                functools.partial(self.api, ws),
                workspace_id=ws.job.workspace_id,
                account_id=account_id,
                stop=ws.stop,
                poll_api=ws.poll_api,
                result=result,
                rng=random.Random(seed),
                log=self.log,
            ).run()
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
