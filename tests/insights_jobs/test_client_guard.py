import json

import pytest

from insights_jobs.client import ReadOnlyViolation, check_read_only, make_api
from insights_jobs.errors import Action, classify

GRAPH = "https://graph.facebook.com"


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", ("act_1", "campaigns"), {"fields": "id,name", "limit": 500, "filtering": "[]", "after": "x"}),
        ("GET", "https://graph.facebook.com/v26.0/act_1/", None),
        ("GET", ("1234",), {"fields": "id,async_status"}),
        ("GET", ("1234", "insights"), {"limit": 500, "after": "abc"}),
        ("POST", ("act_123", "insights"), {"level": "ad", "fields": ["spend"], "time_range": {"since": "2026-10-01"}}),
        ("POST", "https://graph.facebook.com/v26.0/act_123/insights", None),
        ("POST", (), {"batch": [{"method": "GET", "relative_url": "1/?fields=id"}]}),
        ("POST", (), {"batch": json.dumps([{"method": "GET", "relative_url": "1/"}, {"relative_url": "2/"}])}),
        ("POST", (), {"batch": [{"method": "GET", "relative_url": "v26.0/1234?fields=id%2Casync_status"}]}),
        # token health (meta-marketing-api.md section 8)
        ("GET", ("debug_token",), {"input_token": "x"}),
        ("GET", ("me", "permissions"), None),
        ("GET", ("me", "adaccounts"), {"fields": "id,account_id", "limit": 100, "after": "c"}),
    ],
)
def test_read_only_set_is_allowed(method, path, params):
    check_read_only(method, path, params, graph_url=GRAPH)


HOSTILE = {
    "a write to an edge": dict(method="POST", path=("act_1", "campaigns"), params={"name": "x"}),
    "an object update": dict(method="POST", path=("123",), params={"status": "PAUSED"}),
    "DELETE": dict(method="DELETE", path=("123",), params=None),
    "PUT": dict(method="PUT", path=("act_1", "insights"), params=None),
    "method=delete on a GET": dict(method="GET", path=("123",), params={"method": "delete"}),
    "method=post on a GET": dict(method="GET", path=("act_1", "campaigns"), params={"METHOD": "post", "name": "x"}),
    "method=delete on the insights POST": dict(method="POST", path=("act_1", "insights"), params={"method": "delete"}),
    "an insights POST with write params": dict(
        method="POST", path=("act_1", "insights"), params={"level": "ad", "status": "PAUSED", "name": "x"}
    ),
    "an unknown GET param": dict(method="GET", path=("act_1",), params={"fields": "id", "redirect": "x"}),
    "a GET of an edge we never read": dict(method="GET", path=("act_1", "users"), params=None),
    "a GET of me/accounts (pages, not ad accounts)": dict(method="GET", path=("me", "accounts"), params=None),
    "a POST to me/permissions (a revoke)": dict(method="POST", path=("me", "permissions"), params=None),
    "a DELETE of me/permissions": dict(method="DELETE", path=("me", "permissions"), params=None),
    "debug_token with an unknown param": dict(
        method="GET", path=("debug_token",), params={"input_token": "x", "method": "delete"}
    ),
    "an insights POST on a report run": dict(method="POST", path=("1234", "insights"), params=None),
    "a lookalike of the insights edge": dict(method="POST", path=("act_1", "insights_extra"), params=None),
    "X-HTTP-Method-Override": dict(
        method="GET", path=("123",), params=None, headers={"X-HTTP-Method-Override": "DELETE"}
    ),
    "any caller header": dict(method="GET", path=("123",), params=None, headers={"Accept": "*/*"}),
    "file uploads": dict(method="POST", path=("act_1", "insights"), params=None, files={"f": b"x"}),
    "url_override": dict(method="GET", path=("123",), params=None, url_override="http://127.0.0.1:9"),
    "another host": dict(method="GET", path="https://evil.example/v26.0/act_1", params=None),
    "another scheme": dict(method="GET", path="http://graph.facebook.com/v26.0/act_1", params=None),
    "params in the URL": dict(method="GET", path="https://graph.facebook.com/v26.0/123?method=delete", params=None),
    "a URL without a version": dict(method="GET", path="https://graph.facebook.com/act_1", params=None),
    "an empty batch": dict(method="POST", path=(), params={"batch": []}),
    "a batch that is not JSON": dict(method="POST", path=(), params={"batch": "not json"}),
    "a batch with a POST": dict(
        method="POST",
        path=(),
        params={"batch": [{"method": "GET", "relative_url": "1/"}, {"method": "POST", "relative_url": "2/"}]},
    ),
    "a batch item with a body": dict(
        method="POST", path=(), params={"batch": [{"method": "GET", "relative_url": "1/", "body": "status=PAUSED"}]}
    ),
    "a batch item with method= in its URL": dict(
        method="POST", path=(), params={"batch": [{"method": "GET", "relative_url": "1/?method=delete"}]}
    ),
    "a batch item with headers": dict(
        method="POST",
        path=(),
        params={"batch": [{"relative_url": "1/", "headers": [{"name": "X-HTTP-Method-Override", "value": "DELETE"}]}]},
    ),
    "a batch item on another host": dict(
        method="POST", path=(), params={"batch": [{"relative_url": "https://evil.example/v26.0/1/"}]}
    ),
    "a batch item on an edge we never read": dict(
        method="POST", path=(), params={"batch": [{"relative_url": "act_1/adimages"}]}
    ),
    "a batch with other params": dict(
        method="POST", path=(), params={"batch": [{"relative_url": "1/"}], "method": "delete"}
    ),
    "a batch of 51 items": dict(method="POST", path=(), params={"batch": [{"relative_url": "1/"}] * 51}),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_writes_and_escapes_are_refused(case):
    request = dict(HOSTILE[case])
    with pytest.raises(ReadOnlyViolation):
        check_read_only(request.pop("method"), request.pop("path"), request.pop("params"), graph_url=GRAPH, **request)


class _Listener:
    """A loopback socket that counts connections: a request that got past the guard would arrive here."""

    def __init__(self) -> None:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        # A request sent before connections() is called is already queued: no waiting needed to see it.
        self.sock.setblocking(False)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def connections(self) -> int:
        n = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return n
            conn.close()
            n += 1

    def close(self) -> None:
        self.sock.close()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_the_guard_refuses_before_any_network_io(case):
    listener = _Listener()
    try:
        # The API talks to the listener: anything the guard let through would connect to it.
        api = make_api("EAAB-guard-test-token", listener.url, "v26.0", timeout=0.5)
        request = dict(HOSTILE[case])
        path = request.pop("path")
        if isinstance(path, str):  # the same URL, on the listener's host unless the case is about the host
            path = path.replace(GRAPH, listener.url) if "graph.facebook.com" in path else path
        if "url_override" in request:
            request["url_override"] = listener.url + "/other"
        with pytest.raises(ReadOnlyViolation):
            api.call(request.pop("method"), path, params=request.pop("params"), **request)
        assert api.total_calls == 0
        assert listener.connections() == 0
    finally:
        listener.close()


def test_a_read_reaches_the_configured_host_and_nothing_else():
    listener = _Listener()
    try:
        api = make_api("EAAB-guard-test-token", listener.url, "v26.0", timeout=0.5)
        with pytest.raises(Exception) as raised:  # the listener never answers: the read times out
            api.call("GET", ("act_1",), params={"fields": "id"})
        assert not isinstance(raised.value, ReadOnlyViolation)
        assert listener.connections() == 1  # the allowed read did go out, to the configured host
    finally:
        listener.close()


def test_guard_stops_a_write_before_any_network_io():
    # Port 9 on loopback: nothing listens; a request that got past the guard would fail with a connection error.
    api = make_api("tok", "http://127.0.0.1:9", "v26.0")
    with pytest.raises(ReadOnlyViolation):
        api.call("POST", ("act_1", "ads"), params={"name": "new"})
    assert api.total_calls == 0


def test_bad_api_version_is_refused():
    with pytest.raises(ValueError):
        make_api("tok", "http://127.0.0.1:9", "26")


@pytest.mark.parametrize(
    ("code", "subcode", "http", "action"),
    [
        (1, None, 500, Action.retry),
        (2, None, 400, Action.retry),
        (2601, 1815107, 400, Action.retry),
        (100, 1487534, 400, Action.split),
        (2, 1504038, 400, Action.split),
        (17, 2446079, 400, Action.wait),
        (80004, None, 400, Action.wait),
        (190, 463, 400, Action.stop_workspace),
        (200, None, 400, Action.stop_account),
        (100, 33, 400, Action.stop_account),
        (2635, None, 400, Action.config),
        (None, None, 503, Action.retry),
    ],
)
def test_error_policy(code, subcode, http, action):
    assert classify(code, subcode, http) is action


def test_hooks_see_every_call_and_failed_replies_headers():
    from facebook_business.exceptions import FacebookRequestError

    from graph_sandbox import SandboxServer, Scenario

    seen = []
    with SandboxServer(Scenario("small", 7), job_seconds=0) as server:
        api = make_api(
            "sandbox-token-small-b",
            server.url,
            "v26.0",
            before_call=lambda method, node: seen.append(("before", method, node)) or len(seen),
            on_response=lambda ticket, node, headers, ok: seen.append(
                ("after", ticket, node, ok, "x-app-usage" in headers)
            ),
        )
        api.call("GET", ("act_1201",), params={"fields": "name"})
        with pytest.raises(FacebookRequestError) as raised:
            api.call("GET", ("act_9999",), params={"fields": "name"})
    assert raised.value.ticket == 3  # the failed call's ticket rides on the error (the governor needs it)
    assert seen == [
        ("before", "GET", "act_1201"),
        ("after", 1, "act_1201", True, True),
        ("before", "GET", "act_9999"),
        ("after", 3, "act_9999", False, True),
    ]


def test_a_garbled_reply_is_an_error_not_data():
    from graph_sandbox import SandboxServer, Scenario
    from insights_jobs.errors import MalformedResponse

    with SandboxServer(Scenario("small", 7), faults="badjson=1.0") as server:
        api = make_api("sandbox-token-small-b", server.url, "v26.0")
        with pytest.raises(MalformedResponse):
            api.call("GET", ("act_1201", "ads"), params={"fields": "name"})


def test_a_reply_is_parsed_once_whatever_reads_it(monkeypatch):
    """A report page is ~0.5 MB of JSON: after the SDK's own check, the guard parses it once and every json() call
    hands back that parse (the SDK's FacebookResponse parses again on each)."""
    import facebook_business.api as sdk

    from graph_sandbox import SandboxServer, Scenario

    parses = []
    real_loads = json.loads

    def counting_loads(text, *args, **kwargs):
        parses.append(len(text))
        return real_loads(text, *args, **kwargs)

    with SandboxServer(Scenario("small", 7)) as server:
        api = make_api("sandbox-token-small-b", server.url, "v26.0")
        monkeypatch.setattr(sdk.json, "loads", counting_loads)
        response = api.call("GET", ("act_1201", "ads"), params={"fields": "name"})
        after_call = len(parses)
        first, second = response.json(), response.json()
    assert after_call == 2  # the SDK's success check, then the guard's
    assert len(parses) == after_call  # reading the reply parses nothing more
    assert first is second and [ad["name"] for ad in first["data"]]


def test_nothing_is_sent_once_the_workspace_is_stopped():
    import threading

    from insights_jobs.errors import WorkspaceStopped

    stop = threading.Event()
    stop.set()
    api = make_api("tok", "http://127.0.0.1:9", "v26.0", stop=stop)
    with pytest.raises(WorkspaceStopped):
        api.call("GET", ("act_1",))
    assert api.total_calls == 0


def test_a_token_value_is_redacted_wherever_it_appears():
    from urllib.parse import quote

    from insights_jobs.errors import ExtractionError, MetaError, redact

    token = "EAABunitRedactionToken+/=0123456789"
    make_api(token, "http://127.0.0.1:9", "v26.0")  # a session for the token: from now on it is redacted
    echoed = MetaError(190, 463, f"Error validating access token {token}: session expired", "trace", 400, False)
    assert token not in echoed.describe() and "[REDACTED]" in echoed.describe()
    assert token not in str(ExtractionError(f"act_1 read account: {echoed.message}"))
    assert redact(f"GET /v26.0/act_1?access_token={quote(token, safe='')}&fields=id") == (
        "GET /v26.0/act_1?access_token=REDACTED&fields=id"
    )
    assert redact(f"url-encoded {quote(token, safe='')} too") == "url-encoded [REDACTED] too"
    assert redact("a secret given by the caller: s3cr3t-value-42", "s3cr3t-value-42").endswith("[REDACTED]")
    assert redact("tok is too short to be a token") == "tok is too short to be a token"  # short values never register
