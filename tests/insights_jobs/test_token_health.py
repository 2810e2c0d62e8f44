"""insights_jobs.token_health against the sandbox through the SDK: every kind of token, with the token inspecting
itself or the app token asking, and a Graph server without debug_token (the account reads then decide)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from graph_sandbox import GraphError, SandboxServer, Scenario
from graph_sandbox.tokens import APP_ID, APP_SECRET
from insights_jobs.token_health import TokenCheckError, check_token, inspect_token, inspect_tokens
from tests.insights_jobs.conftest import NOW, VERSION, fixed_clock

ACME = ("act_1001", "act_1002")


@pytest.fixture(scope="module")
def server():
    with SandboxServer(Scenario("demo", 42, clock=fixed_clock)) as srv:
        yield srv


@pytest.mark.parametrize("app", [False, True], ids=["self-inspection", "app-token"])
def test_each_kind_of_token(server, app: bool) -> None:
    creds = {"app_id": APP_ID, "app_secret": APP_SECRET} if app else {}
    day = datetime.combine(NOW.date(), datetime.min.time(), UTC)

    def check(token: str, accounts=ACME):
        return check_token(server.url, VERSION, token, accounts, **creds)

    system = check("sandbox-token-acme")
    assert system.ok and system.readable == list(ACME) and system.health.kind == "SYSTEM_USER"
    assert system.health.reconnect_by() is None and system.permissions["ads_read"] == "granted"

    user = check("sandbox-token-acme-user")
    assert user.ok and user.health.expires_at == day + timedelta(days=10)
    assert user.health.reconnect_by() == day + timedelta(days=10)
    data = check("sandbox-token-acme-data-access")
    assert data.ok and data.health.reconnect_by() == data.health.data_access_expires_at == day + timedelta(days=5)

    for token, problem in (
        ("sandbox-token-acme-expired", "the token is not valid: Meta error 190/463"),
        ("no-such-token", "the token is not valid: Meta error 190"),
        ("sandbox-token-acme-no-ads-read", "has not been granted ads_read"),
        ("sandbox-token-acme-partial", "cannot read ad account act_1002: Meta error 100/33"),
    ):
        result = check(token)
        assert not result.ok and any(problem in p for p in result.problems), (token, result.problems)
        assert not any(token in p for p in result.problems)
    assert check("sandbox-token-acme", ("act_1001", "act_2001")).unreadable.keys() == {"act_2001"}


def test_a_graph_server_without_debug_token_leaves_expiry_unknown(demo) -> None:
    def no_debug_token(info):
        if info.kind == "debug_token":
            return GraphError(2500, "Unknown path components: /debug_token")
        return None

    with SandboxServer(demo, fault_hook=no_debug_token) as srv:
        health = inspect_token(srv.url, VERSION, "sandbox-token-acme-user")
        assert health.valid is None and not health.inspected and health.reconnect_by() is None
        # what decides then: permissions and the accounts themselves
        assert check_token(srv.url, VERSION, "sandbox-token-acme-user", ACME).ok
        partial = check_token(srv.url, VERSION, "sandbox-token-acme-partial", ACME)
        assert list(partial.unreadable) == ["act_1002"]
        assert not check_token(srv.url, VERSION, "no-such-token", ACME).ok  # 190 on the reads


def test_many_tokens_at_once_and_an_unreachable_graph(server) -> None:
    found = inspect_tokens(server.url, VERSION, {"a": "sandbox-token-acme", "b": "sandbox-token-acme-expired"})
    assert found["a"].valid is True and found["b"].valid is False
    # nobody listens here: inspect_tokens says "unknown", check_token says it could not check
    dead = "http://127.0.0.1:9"
    assert inspect_tokens(dead, VERSION, {"a": "sandbox-token-acme"}, timeout=2)["a"].valid is None
    with pytest.raises(TokenCheckError):
        check_token(dead, VERSION, "sandbox-token-acme", ACME, timeout=2)
