"""The Meta error policy as one table: what each error code means for the extractor.

Meaning of the codes: meta-marketing-api.md section 6. Messages built here carry code, subcode and fbtrace_id,
never the request URL (the SDK puts the access token in the query string); `redact` scrubs any text that might, of
`access_token=...` parameters and of every token value this process uses (`register_secret`).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import quote

from facebook_business.exceptions import FacebookRequestError


class Action(StrEnum):
    retry = "retry"  # transient: back off with jitter and try again
    wait = "wait"  # throttled: wait for the scope to regain access (the governor), then try again
    split = "split"  # too much data in one call or report run: narrow it (time, then ids, then fields)
    stop_account = "stop_account"  # permission or id problem: report, continue with other accounts
    stop_workspace = "stop_workspace"  # the token is unusable: "reconnect needed"
    config = "config"  # our configuration is wrong (API version, an invalid breakdown set): report, no retry


# Throttling: app (4), user/ad account (17, 17/2446079), page/user (32), "too many calls" (613), business use case
# (80000 ads insights ... 80008). The governor decides which scope waits and for how long.
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, *range(80000, 80009)})

# (code, subcode) -> action; subcode None matches any subcode of that code. Checked most specific first.
POLICY: dict[tuple[int, int | None], Action] = {
    (1, None): Action.retry,  # unknown error
    (2, None): Action.retry,  # service temporarily unavailable
    (960, None): Action.retry,  # an error inside a batch
    (2601, 1815107): Action.retry,  # async results read before the run completed
    (2, 1504038): Action.split,  # report run too large
    (100, 1487534): Action.split,  # too many rows
    (100, 1504018): Action.split,  # the request timed out
    (2, 1504041): Action.config,  # invalid breakdown combination: our report definition is wrong
    (100, 1504041): Action.config,
    **{(code, None): Action.wait for code in RATE_LIMIT_CODES},
    (10, None): Action.stop_account,  # permission
    **{(code, None): Action.stop_account for code in range(200, 300)},  # permission
    (100, None): Action.stop_account,  # invalid parameter, or an object that is not there / not ours (100/33)
    (190, None): Action.stop_workspace,  # token invalid or expired (458, 460, 463, ...)
    (102, None): Action.stop_workspace,  # session key invalid
    (2635, None): Action.config,  # deprecated API version
}


@dataclass(frozen=True)
class MetaError:
    code: int | None
    subcode: int | None
    message: str
    fbtrace_id: str | None
    http_status: int | None
    transient: bool
    headers: Any = None  # the response headers (usage headers of a throttled call), never logged

    @property
    def action(self) -> Action:
        return classify(self.code, self.subcode, self.http_status, self.transient)

    def describe(self) -> str:
        sub = f"/{self.subcode}" if self.subcode else ""
        trace = f", fbtrace_id {self.fbtrace_id}" if self.fbtrace_id else ""
        return f"Meta error {self.code}{sub}: {redact(self.message)}{trace}"


def classify(code: int | None, subcode: int | None, http_status: int | None = None, transient: bool = False) -> Action:
    """The policy's verdict for one error. Unknown codes: HTTP 5xx and Meta's `is_transient` retry, the rest stop
    the account (with the error reported), never the whole run."""
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
    if not isinstance(err, dict):
        err = {}
    return MetaError(
        code=exc.api_error_code(),
        subcode=exc.api_error_subcode(),
        message=str(err.get("message") or exc.api_error_message() or "no message"),
        fbtrace_id=err.get("fbtrace_id"),
        http_status=exc.http_status(),
        transient=bool(exc.api_transient_error()),
        headers=exc.http_headers(),
    )


def from_body(body: Any, http_status: int | None, headers: Any = None) -> MetaError | None:
    """The error of a batch item's reply (a JSON body with "error"), or None when it has none."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None
    err = body["error"]
    return MetaError(
        code=_int(err.get("code")),
        subcode=_int(err.get("error_subcode")),
        message=str(err.get("message") or "no message"),
        fbtrace_id=err.get("fbtrace_id"),
        http_status=http_status,
        transient=bool(err.get("is_transient")),
        headers=headers,
    )


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class MalformedResponse(RuntimeError):
    """Meta answered with a body that is not JSON (truncated, an HTML error page): transient, retried.

    Without this check the SDK would take a truncated page for a successful one: its Cursor looks for "data" in
    whatever text came back and may end the iteration early, silently dropping rows."""


class ExtractionError(RuntimeError):
    """An account or workspace could not be extracted; `error` says why in Meta's terms when Meta said no."""

    def __init__(self, message: str, error: MetaError | None = None, action: Action | None = None) -> None:
        super().__init__(redact(message))
        self.error = error
        self._action = action

    @property
    def action(self) -> Action:
        if self._action is not None:
            return self._action
        return self.error.action if self.error else Action.stop_account


class ReconnectNeeded(ExtractionError):
    """The workspace's token is invalid or expired: nothing more can be read until the customer reconnects."""


class WorkspaceStopped(ExtractionError):
    """Another account of the workspace found its token unusable: this one stops too."""


_SECRET = re.compile(r"((?:access_token|appsecret_proof|input_token|client_secret)=)[^&\s\"'<>]+", re.IGNORECASE)
REDACTED = "[REDACTED]"
# Secret values this process has handed to an API session (tokens, app secrets). Meta may echo a token in plain text
# in an error message, so every string we store or print is scrubbed of these values, not only of `access_token=`.
_KNOWN: set[str] = set()
_KNOWN_LOCK = threading.Lock()
# Shorter values could be common words; Meta tokens are ~200 characters and `workspaces add` refuses short ones.
MIN_SECRET_CHARS = 8


def register_secret(value: str | None) -> None:
    """Remember a secret value (a workspace's token) so that `redact` removes it from any text from now on."""
    if value and len(value) >= MIN_SECRET_CHARS:
        with _KNOWN_LOCK:
            _KNOWN.add(value)


def redact(text: object, *secrets: str | None) -> str:
    """`text` without secrets: the values given, every value registered with `register_secret` (also URL-encoded),
    and anything in URL-like parameters (`access_token=...` and kin: exceptions from `requests` quote the URL)."""
    out = str(text)
    with _KNOWN_LOCK:
        values = set(_KNOWN)
    values.update(v for v in secrets if v and len(v) >= MIN_SECRET_CHARS)
    # longest first, so a token that contains another registered value is removed whole
    for value in sorted(values, key=len, reverse=True):
        if value in out:
            out = out.replace(value, REDACTED)
        encoded = quote(value, safe="")
        if encoded != value and encoded in out:
            out = out.replace(encoded, REDACTED)
    return _SECRET.sub(r"\1REDACTED", out)
