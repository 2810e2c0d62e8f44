import json

import pytest

from insights_jobs.client import ReadOnlyViolation, check_read_only, make_api
from insights_jobs.errors import Action, classify


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("GET", ("act_1", "campaigns"), None),
        ("GET", "http://127.0.0.1:1/v26.0/act_1/", None),
        ("POST", ("act_123", "insights"), {"level": "ad"}),
        ("POST", "https://graph.facebook.com/v26.0/act_123/insights", None),
        ("POST", (), {"batch": [{"method": "GET", "relative_url": "1/?fields=id"}]}),
        ("POST", (), {"batch": json.dumps([{"method": "GET", "relative_url": "1/"}, {"relative_url": "2/"}])}),
    ],
)
def test_read_only_set_is_allowed(method, path, params):
    check_read_only(method, path, params)


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("POST", ("act_1", "campaigns"), {"name": "x"}),
        ("POST", ("123",), {"status": "PAUSED"}),
        ("DELETE", ("123",), None),
        ("POST", (), {"batch": [{"method": "GET", "relative_url": "1/"}, {"method": "POST", "relative_url": "2/"}]}),
        ("POST", (), {"batch": []}),
        ("POST", (), {"batch": "not json"}),
        ("POST", ("act_1", "insights_extra"), None),
        ("PUT", ("act_1", "insights"), None),
    ],
)
def test_writes_are_refused(method, path, params):
    with pytest.raises(ReadOnlyViolation):
        check_read_only(method, path, params)


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


def test_nothing_is_sent_once_the_workspace_is_stopped():
    import threading

    from insights_jobs.errors import WorkspaceStopped

    stop = threading.Event()
    stop.set()
    api = make_api("tok", "http://127.0.0.1:9", "v26.0", stop=stop)
    with pytest.raises(WorkspaceStopped):
        api.call("GET", ("act_1",))
    assert api.total_calls == 0
