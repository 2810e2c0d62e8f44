"""What a Meta access token is worth: valid or not, when it and its data access expire, whether it may read ads
(`ads_read`), and which of a workspace's ad accounts it can read. Read-only calls through the SDK over HTTP:
`GET /debug_token`, `GET /me/permissions`, `GET /me/adaccounts`, `GET act_<id>/`.

Who inspects: Meta documents that debug_token needs "an app access token or an app developer's user access token
for the app associated with the input_token". With an app id and secret (`app_id`, `app_secret`) the app token
`<app id>|<app secret>` asks; without them the token inspects itself (common practice, not documented by Meta). An
endpoint that is not there (another Graph server, an app that may not inspect) leaves that part unknown: the
decisive checks are reading the accounts with the token. The token never appears in a message, log or exception.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from facebook_business.exceptions import FacebookRequestError
from requests import RequestException

from insights_jobs.client import GuardedAdsApi, make_api
from insights_jobs.errors import Action, MalformedResponse, MetaError, from_exception, redact

ADS_READ = "ads_read"
_ACCOUNT_FIELDS = "id,account_id,name,account_status"
_MAX_ACCOUNT_PAGES = 40  # me/adaccounts pages of 500: accounts beyond are read by id instead


class TokenCheckError(RuntimeError):
    """The Graph API could not be asked (network, a server error that persists): nothing can be said."""


@dataclass(frozen=True)
class TokenHealth:
    """debug_token's verdict. `valid` None: debug_token could not be asked (unknown). Expiries are None when the
    token (or its data access) does not expire, or when unknown (`inspected` False)."""

    valid: bool | None
    inspected: bool = False
    kind: str | None = None
    expires_at: datetime | None = None
    data_access_expires_at: datetime | None = None
    scopes: tuple[str, ...] | None = None
    problem: str | None = None

    def reconnect_by(self) -> datetime | None:
        """The earlier of the token's expiry and its data access's expiry (None: neither expires, or unknown)."""
        times = [t for t in (self.expires_at, self.data_access_expires_at) if t is not None]
        return min(times) if times else None

    def days_left(self, now: datetime) -> float | None:
        when = self.reconnect_by()
        return None if when is None else (when - now).total_seconds() / 86400


@dataclass
class TokenCheck:
    """What `workspaces add` needs to know before storing a token."""

    health: TokenHealth
    permissions: dict[str, str] | None = None  # permission -> granted | declined | expired; None: unknown
    readable: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)  # account -> Meta's reason

    @property
    def problems(self) -> list[str]:
        out = []
        if self.health.valid is False:
            out.append(f"the token is not valid: {self.health.problem or 'Meta says is_valid=false'}")
        elif not self.grants_ads_read:
            out.append(f"the token has not been granted {ADS_READ} (needed to read ads and insights)")
        for account, reason in self.unreadable.items():
            out.append(f"the token cannot read ad account {account}: {reason}")
        return out

    @property
    def grants_ads_read(self) -> bool:
        if self.permissions is not None:
            return self.permissions.get(ADS_READ) == "granted"
        if self.health.scopes is not None:
            return ADS_READ in self.health.scopes
        return True  # unknown: the account reads decide

    @property
    def ok(self) -> bool:
        return not self.problems


def _time(value: Any) -> datetime | None:
    """A debug_token unix time (0 or missing: never)."""
    try:
        seconds = int(value or 0)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(seconds, UTC) if seconds > 0 else None


def _scrub(text: str, token: str) -> str:
    return redact(text.replace(token, "[token]") if token else text)


class _Asker:
    """GETs with a few retries of transient errors; Meta's refusals come back as MetaError."""

    def __init__(self, api: GuardedAdsApi, token: str, attempts: int = 3, backoff_s: float = 0.5) -> None:
        self.api, self.token, self.attempts, self.backoff_s = api, token, attempts, backoff_s

    def get(self, path: tuple[str, ...], params: dict[str, Any] | None = None) -> dict[str, Any] | MetaError:
        for attempt in range(self.attempts):
            last = attempt == self.attempts - 1
            try:
                body = self.api.call("GET", path, params=params or {}).json()
            except FacebookRequestError as exc:
                err = from_exception(exc)
                if err.action is Action.retry and not last:
                    time.sleep(self.backoff_s * 2**attempt)
                    continue
                return err
            except (RequestException, MalformedResponse) as exc:
                if last:
                    what = f"the Graph API did not answer GET /{'/'.join(path)}: {type(exc).__name__}"
                    raise TokenCheckError(what) from None
                time.sleep(self.backoff_s * 2**attempt)
                continue
            if isinstance(body, dict):
                return body
            if last:
                raise TokenCheckError(f"the Graph API answered GET /{'/'.join(path)} with something not JSON")
        raise AssertionError("unreachable")

    def describe(self, err: MetaError) -> str:
        return _scrub(err.describe(), self.token)


def _api_factory(graph_url: str, api_version: str, timeout: float) -> Callable[[str], GuardedAdsApi]:
    return lambda token: make_api(token, graph_url, api_version, timeout=timeout)


def inspect_token(
    graph_url: str,
    api_version: str,
    token: str,
    *,
    app_id: str | None = None,
    app_secret: str | None = None,
    timeout: float = 30.0,
) -> TokenHealth:
    """`GET /debug_token?input_token=<token>`, asked with the app token when `app_id`/`app_secret` are given, else
    with the token itself. Raises TokenCheckError only when the Graph API cannot be reached."""
    api_for = _api_factory(graph_url, api_version, timeout)
    inspector = f"{app_id}|{app_secret}" if app_id and app_secret else token
    asker = _Asker(api_for(inspector), token)
    reply = asker.get(("debug_token",), {"input_token": token})
    if isinstance(reply, MetaError):
        if reply.action is Action.stop_workspace and inspector == token:
            # Self-inspection with a dead token: Meta refuses the call itself (190).
            return TokenHealth(valid=False, inspected=True, problem=asker.describe(reply))
        return TokenHealth(valid=None, problem=f"debug_token unavailable: {asker.describe(reply)}")
    data = reply.get("data") if isinstance(reply.get("data"), dict) else {}
    error = data.get("error") if isinstance(data.get("error"), dict) else None
    problem = None
    if error is not None:
        sub = f"/{error['subcode']}" if error.get("subcode") else ""
        problem = _scrub(f"Meta error {error.get('code')}{sub}: {error.get('message') or 'no message'}", token)
    scopes = data.get("scopes")
    return TokenHealth(
        valid=bool(data.get("is_valid")),
        inspected=True,
        kind=str(data["type"]) if data.get("type") else None,
        expires_at=_time(data.get("expires_at")),
        data_access_expires_at=_time(data.get("data_access_expires_at")),
        scopes=tuple(str(s) for s in scopes) if isinstance(scopes, list) else None,
        problem=problem,
    )


def check_token(
    graph_url: str,
    api_version: str,
    token: str,
    accounts: Sequence[str],
    *,
    app_id: str | None = None,
    app_secret: str | None = None,
    timeout: float = 30.0,
) -> TokenCheck:
    """Everything `workspaces add` verifies: debug_token, `ads_read` among the granted permissions, and each account
    readable (listed by me/adaccounts, else read by id: accounts reached through a business may not be listed)."""
    health = inspect_token(graph_url, api_version, token, app_id=app_id, app_secret=app_secret, timeout=timeout)
    check = TokenCheck(health)
    if health.valid is False:
        return check
    asker = _Asker(_api_factory(graph_url, api_version, timeout)(token), token)
    perms = asker.get(("me", "permissions"))
    if isinstance(perms, MetaError):
        if perms.action is Action.stop_workspace:
            check.health = TokenHealth(valid=False, inspected=True, problem=asker.describe(perms))
            return check
    elif isinstance(perms.get("data"), list):
        check.permissions = {
            str(p.get("permission")): str(p.get("status")) for p in perms["data"] if isinstance(p, dict)
        }
    if not check.grants_ads_read:
        return check
    listed = _listed_accounts(asker)
    for account in accounts:
        if account in listed:
            check.readable.append(account)
            continue
        node = asker.get((account,), {"fields": _ACCOUNT_FIELDS})
        if not isinstance(node, MetaError):
            check.readable.append(account)
        elif node.action is Action.stop_workspace:
            check.health = TokenHealth(valid=False, inspected=True, problem=asker.describe(node))
            return check
        else:
            check.unreadable[account] = asker.describe(node)
    return check


def _listed_accounts(asker: _Asker) -> set[str]:
    """The accounts `me/adaccounts` lists (empty when it cannot be read: every account is then read by id)."""
    listed: set[str] = set()
    params: dict[str, Any] = {"fields": _ACCOUNT_FIELDS, "limit": 500}
    for _ in range(_MAX_ACCOUNT_PAGES):
        page = asker.get(("me", "adaccounts"), params)
        if isinstance(page, MetaError) or not isinstance(page.get("data"), list):
            return listed
        for item in page["data"]:
            if isinstance(item, dict) and item.get("id"):
                listed.add(str(item["id"]))
        paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
        after = (paging.get("cursors") or {}).get("after") if isinstance(paging.get("cursors"), dict) else None
        if "next" not in paging or not after:  # only the absence of `next` ends the list (Meta's paging rule)
            return listed
        params = {**params, "after": after}
    return listed


def inspect_tokens(
    graph_url: str,
    api_version: str,
    tokens: Mapping[str, str],
    *,
    app_id: str | None = None,
    app_secret: str | None = None,
    timeout: float = 30.0,
    concurrency: int = 8,
) -> dict[str, TokenHealth]:
    """`inspect_token` for many tokens (key -> token), a few at a time; what cannot be inspected is unknown
    (`valid` None), never an exception: the nightly's extraction must not depend on it."""

    def one(token: str) -> TokenHealth:
        try:
            return inspect_token(graph_url, api_version, token, app_id=app_id, app_secret=app_secret, timeout=timeout)
        except Exception as exc:  # noqa: BLE001 - health is advisory: any failure is "unknown"
            return TokenHealth(valid=None, problem=_scrub(f"{type(exc).__name__}: {exc}", token))

    if not tokens:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(tokens)))) as pool:
        futures = {key: pool.submit(one, token) for key, token in tokens.items()}
        return {key: f.result() for key, f in futures.items()}
