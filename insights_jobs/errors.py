"""The Meta error policy as one table: what each error code means for the extractor.

Meaning of the codes: meta-marketing-api.md section 6. Messages built here carry code, subcode and fbtrace_id,
never the request URL (the SDK puts the access token in the query string).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from facebook_business.exceptions import FacebookRequestError


class Action(StrEnum):
    retry = "retry"  # transient: back off with jitter and try again
    wait = "wait"  # throttled: wait for the scope to regain access
    split = "split"  # too much data in one call: narrow it
    stop_account = "stop_account"  # permission or id problem: report, continue with other accounts
    stop_workspace = "stop_workspace"  # the token is unusable: "reconnect needed"
    config = "config"  # our configuration is wrong (API version)


RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80009)})

# (code, subcode) -> action; subcode None matches any subcode of that code. Checked most specific first.
POLICY: dict[tuple[int, int | None], Action] = {
    (1, None): Action.retry,
    (2, None): Action.retry,
    (960, None): Action.retry,
    (2601, 1815107): Action.retry,
    (2, 1504038): Action.split,
    (100, 1487534): Action.split,
    (100, 1504018): Action.split,
    **{(code, None): Action.wait for code in RATE_LIMIT_CODES},
    (10, None): Action.stop_account,
    **{(code, None): Action.stop_account for code in range(200, 300)},
    (100, None): Action.stop_account,
    (190, None): Action.stop_workspace,
    (102, None): Action.stop_workspace,
    (2635, None): Action.config,
}


@dataclass(frozen=True)
class MetaError:
    code: int | None
    subcode: int | None
    message: str
    fbtrace_id: str | None
    http_status: int | None
    transient: bool

    @property
    def action(self) -> Action:
        return classify(self.code, self.subcode, self.http_status, self.transient)

    def describe(self) -> str:
        sub = f"/{self.subcode}" if self.subcode else ""
        trace = f", fbtrace_id {self.fbtrace_id}" if self.fbtrace_id else ""
        return f"Meta error {self.code}{sub}: {self.message}{trace}"


def classify(code: int | None, subcode: int | None, http_status: int | None = None, transient: bool = False) -> Action:
    if code is not None:
        if (code, subcode) in POLICY:
            return POLICY[(code, subcode)]
        if (code, None) in POLICY:
            return POLICY[(code, None)]
    if http_status is not None and http_status >= 500:
        return Action.retry
    if transient:
        return Action.retry
    return Action.stop_account


def from_exception(exc: FacebookRequestError) -> MetaError:
    body = exc.body() if isinstance(exc.body(), dict) else {}
    err = body.get("error", {}) if isinstance(body, dict) else {}
    return MetaError(
        code=exc.api_error_code(),
        subcode=exc.api_error_subcode(),
        message=str(err.get("message") or exc.api_error_message() or "no message"),
        fbtrace_id=err.get("fbtrace_id"),
        http_status=exc.http_status(),
        transient=bool(exc.api_transient_error()),
    )


class ExtractionError(RuntimeError):
    """An account or workspace could not be extracted; `error` says why in Meta's terms when Meta said no."""

    def __init__(self, message: str, error: MetaError | None = None) -> None:
        super().__init__(message)
        self.error = error

    @property
    def action(self) -> Action:
        return self.error.action if self.error else Action.stop_account


class ReconnectNeeded(ExtractionError):
    """The workspace's token is invalid or expired: nothing more can be read until the customer reconnects."""
