"""Token introspection as Meta documents it: `GET /debug_token?input_token=...` and `GET /me/permissions`.

debug_token (https://developers.facebook.com/docs/graph-api/reference/debug_token) answers inside `data`: app_id,
application, type, expires_at (0: never), data_access_expires_at, is_valid, issued_at, scopes, granular_scopes,
user_id, and for an unusable token `is_valid: false` with an `error` object (code, message, subcode). The caller's
own token (`access_token`) must be an app token (`<app id>|<app secret>`) or a token of the same app: the sandbox is
one app, so any valid token of the scenario may inspect any other, or itself. An unusable caller token is an
ordinary top-level 190 error, like any call.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from graph_sandbox import graph_errors
from graph_sandbox.graph_errors import GraphError
from graph_sandbox.rng import numeric_id
from graph_sandbox.specs import TokenSpec

# The sandbox's one Meta app (fake credentials: an app token is "<APP_ID>|<APP_SECRET>").
APP_ID = "1760000000000001"
APP_SECRET = "sandbox-app-secret"
APP_NAME = "SENTRUM Graph API sandbox"


def app_token() -> str:
    return f"{APP_ID}|{APP_SECRET}"


def is_app_token(token: str) -> bool:
    return token == app_token()


def _day_start(now: datetime) -> datetime:
    return datetime.combine(now.astimezone(UTC).date(), time(0), UTC)


def expires_at(spec: TokenSpec, now: datetime) -> int:
    """Unix time the token expires (0: never)."""
    if spec.expires_in_days is None:
        return 0
    return int((_day_start(now) + timedelta(days=spec.expires_in_days)).timestamp())


def data_access_expires_at(spec: TokenSpec, now: datetime) -> int:
    """Unix time the app's access to the user's data expires (0: does not, as for system users)."""
    if spec.data_access_expires_in_days is None:
        return 0
    return int((_day_start(now) + timedelta(days=spec.data_access_expires_in_days)).timestamp())


def expired_error(spec: TokenSpec, now: datetime) -> GraphError:
    """190/463: what every call with an expired token gets."""
    when = datetime.fromtimestamp(expires_at(spec, now), UTC).strftime("%A, %d-%b-%y %H:%M:%S UTC")
    return GraphError(
        190,
        f"Error validating access token: Session has expired on {when}. The current time is "
        f"{now.astimezone(UTC).strftime('%A, %d-%b-%y %H:%M:%S UTC')}.",
        subcode=463,
    )


def missing_permission() -> GraphError:
    """200: the token lacks ads_read (Meta's insights reference: "200 Permissions error")."""
    return GraphError(200, "(#200) Permissions error: the token has not been granted ads_read")


def user_id(token: str) -> str:
    return numeric_id("10", 16, "sandbox-user", token)


def debug_token(spec: TokenSpec | None, input_token: str, now: datetime) -> dict[str, Any]:
    """The `data` object of debug_token for `input_token` (`spec` None: a token the app never issued)."""
    if spec is None:
        error = graph_errors.invalid_token()
        return {"data": {"error": {"code": error.code, "message": error.message}, "is_valid": False, "scopes": []}}
    data: dict[str, Any] = {
        "app_id": APP_ID,
        "type": spec.kind,
        "application": APP_NAME,
        "data_access_expires_at": data_access_expires_at(spec, now),
        "expires_at": expires_at(spec, now),
        "is_valid": not spec.expired,
        "issued_at": int((_day_start(now) - timedelta(days=30)).timestamp()),
        "scopes": list(spec.scopes),
        "granular_scopes": [{"scope": s} for s in spec.scopes],
        "user_id": user_id(input_token),
    }
    if spec.expired:
        error = expired_error(spec, now)
        data["error"] = {"code": error.code, "message": error.message, "subcode": error.subcode}
    return {"data": data}


def permissions(spec: TokenSpec) -> dict[str, Any]:
    """`GET /me/permissions`: granted and declined permissions."""
    rows = [{"permission": p, "status": "granted"} for p in spec.scopes]
    rows += [{"permission": p, "status": "declined"} for p in spec.declined]
    return {"data": rows}


def token_summary(spec: TokenSpec) -> str:
    """One line for `sentrum sandbox serve`: kind, expiry, scopes, accounts."""
    if spec.expired:
        return f"{spec.kind}, expired {-spec.expires_in_days} day(s) ago"  # type: ignore[operator]
    expiry = "never expires" if spec.expires_in_days is None else f"expires in {spec.expires_in_days} days"
    data = "" if spec.data_access_expires_in_days is None else f", data access {spec.data_access_expires_in_days} days"
    return f"{spec.kind}, {expiry}{data}, scopes {','.join(spec.scopes)}, reads {','.join(spec.account_ids) or '-'}"
