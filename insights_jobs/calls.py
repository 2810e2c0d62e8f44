"""One ad account's calls to Meta under the error policy (`errors.py`), and the pages of its listings.

Transient errors are retried with a jittered exponential backoff; throttles wait in the governor (which knows how
long) without counting as attempts; "too much data" raises `SplitNeeded`; an unusable token stops the workspace
(`ReconnectNeeded`); anything else is an `ExtractionError` naming Meta's verdict, never the request (its URL carries
the token).
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from facebook_business.exceptions import FacebookRequestError
from requests import RequestException

from insights_jobs.client import GuardedAdsApi
from insights_jobs.config import ExtractConfig
from insights_jobs.errors import (
    Action,
    ExtractionError,
    MalformedResponse,
    ReconnectNeeded,
    WorkspaceStopped,
    from_exception,
)
from insights_jobs.governor import RateGovernor
from insights_jobs.results import AccountResult

T = TypeVar("T")
Log = logging.Logger | logging.LoggerAdapter


class SplitNeeded(ExtractionError):
    """Meta said the request asks for too much (too many rows, a timeout): narrow it."""


class AccountCalls:
    """The calls of one ad account of one workspace: its read-only API, paced by the shared governor; throttles are
    counted in `result.throttle_errors`; a set `stop` (the workspace's token is unusable) ends every wait."""

    def __init__(
        self,
        api: GuardedAdsApi,
        *,
        workspace_id: str,
        account_id: str,
        config: ExtractConfig,
        governor: RateGovernor,
        stop: threading.Event,
        result: AccountResult,
        rng: random.Random,
        log: Log,
    ) -> None:
        self.api = api
        self.workspace_id = workspace_id
        self.account_id = account_id
        self.config = config
        self.governor = governor
        self.stop = stop
        self.result = result
        self.rng = rng
        self.log = log

    def sleep(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise WorkspaceStopped("stopped: the workspace's token is unusable (reconnect needed)")

    def call(self, what: str, fn: Callable[[], T]) -> T:
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
                    self.governor.on_throttle(getattr(exc, "ticket", None), err.code, err.subcode, err.headers)
                    if throttled > self.config.max_throttle_waits:
                        raise ExtractionError(f"{what}: {err.describe()} (still throttled, gave up)", err) from None
                    attempt -= 1  # waiting is not failing: the next attempt waits in the governor
                    continue
                if action is Action.stop_workspace:
                    self.stop.set()
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
            self.sleep(delay)

    def pages(self, what: str, path: tuple[str, ...], params: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """The pages of a listing. Follows `cursors.after` while `paging.next` is there (Meta's last page has a
        cursor too); a failed page is asked again with the same cursor."""
        params = dict(params)
        page = 0
        while True:
            page += 1
            body = self.call(f"{what} page {page}", lambda p=dict(params): self.api.call("GET", path, params=p).json())
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
