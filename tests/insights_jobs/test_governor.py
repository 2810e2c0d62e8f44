"""The rate-limit governor on its own, with a fake clock: header parsing and pacing decisions."""

from __future__ import annotations

import json
import threading

import pytest
from requests.structures import CaseInsensitiveDict

from insights_jobs.errors import WorkspaceStopped
from insights_jobs.governor import APP, RateGovernor, parse_usage


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float, stop: threading.Event | None) -> bool:
        self.t += seconds
        return bool(stop and stop.is_set())


def _h(**headers: object) -> dict[str, str]:
    return {k.replace("_", "-"): json.dumps(v) for k, v in headers.items()}


def buc(business: str, use_case: str, pct: float, regain_min: float = 0) -> dict[str, list[dict[str, object]]]:
    entry = {"type": use_case, "call_count": pct, "total_cputime": 1, "total_time": 1,
             "estimated_time_to_regain_access": regain_min, "ads_api_access_tier": "standard_access"}  # fmt: skip
    return {business: [entry]}


def make(clock: Clock, **kw) -> RateGovernor:
    return RateGovernor(clock=clock, sleep=clock.sleep, seed=1, **kw)


# ---- headers ----------------------------------------------------------------------------------------------


def test_parses_all_four_usage_headers_case_insensitively() -> None:
    headers = CaseInsensitiveDict(
        {
            "X-App-Usage": json.dumps({"call_count": 28, "total_time": 41, "total_cputime": 25}),
            "X-Ad-Account-Usage": json.dumps({"acc_id_util_pct": 9.67, "reset_time_duration": 0}),
            "X-Business-Use-Case-Usage": json.dumps(buc("555", "ads_insights", 12, 3)),
            "X-FB-Ads-Insights-Throttle": json.dumps({"app_id_util_pct": 3.5, "acc_id_util_pct": 61.2}),
        }
    )
    u = parse_usage(headers)
    assert (u.app, u.account, u.insights_app, u.insights_account) == (41, 9.67, 3.5, 61.2)
    assert u.businesses == {"555": {"ads_insights": (12, 180.0)}}
    assert dict(u.pcts("act_1")) == {
        ("app",): 41,
        ("insights_app",): 3.5,
        ("account", "act_1"): 9.67,
        ("insights_account", "act_1"): 61.2,
        ("buc", "555", "ads_insights"): 12,
    }
    assert u.regain("act_1") == [(("buc", "555", "ads_insights"), 180.0)]


def test_parses_batch_item_headers_and_ignores_garbage() -> None:
    items = [
        {"name": "x-app-usage", "value": json.dumps({"call_count": 5})},
        {"name": "x-ad-account-usage", "value": "{not json"},
        {"name": "Content-Type", "value": "application/json"},
        "nonsense",
    ]
    u = parse_usage(items)
    assert u.app == 5 and u.account is None
    assert not parse_usage(None) and not parse_usage({"x-app-usage": "[]"})
    full = parse_usage(_h(x_ad_account_usage={"acc_id_util_pct": 100.5, "reset_time_duration": 42}))
    assert full.regain("act_9") == [(("account", "act_9"), 42.0)]


# ---- pacing -----------------------------------------------------------------------------------------------


def test_paces_an_account_to_the_target_and_waits_for_its_own_calls_to_leave_the_window() -> None:
    clock = Clock()
    gov = make(clock, target_pct=90, window_s=60)
    scopes = gov.scopes_for("ws", "act_1", False)
    made = []
    # Each call costs 10% of the account's budget (Meta reports it); nine fit under 90%.
    for n in range(1, 20):
        ticket, wait = gov.try_acquire(scopes, workspace_id="ws", account_id="act_1")
        if ticket is None:
            break
        made.append(clock.t)
        gov.observe(ticket, _h(x_ad_account_usage={"acc_id_util_pct": 10 * n}))
        clock.t += 1
    assert len(made) == 9
    # The next call may go when the oldest call has left the window (a window after its reply).
    assert wait == pytest.approx(made[0] + 60 - clock.t, abs=0.01)
    clock.t += wait
    ticket, wait = gov.try_acquire(scopes, workspace_id="ws", account_id="act_1")
    assert ticket is not None and wait == 0
    # Another account is not held back by this one.
    other, _ = gov.try_acquire(gov.scopes_for("ws", "act_2", False), workspace_id="ws", account_id="act_2")
    assert other is not None


def test_calls_in_flight_count_before_meta_reports_them() -> None:
    clock = Clock()
    gov = make(clock, target_pct=90, window_s=60)
    scopes = gov.scopes_for("ws", "act_1", False)
    first, _ = gov.try_acquire(scopes, account_id="act_1")
    gov.observe(first, _h(x_ad_account_usage={"acc_id_util_pct": 20}))  # 20% per call
    sent = 0
    while gov.try_acquire(scopes, account_id="act_1")[0] is not None:
        sent += 1  # no replies yet: the governor counts them itself
    assert sent == 3  # 20 + 3 x 20 = 80; a fourth would make 100
    assert gov.predicted(("account", "act_1")) == pytest.approx(80)


def test_usage_that_is_not_ours_is_rechecked_within_a_window() -> None:
    clock = Clock()
    gov = make(clock, target_pct=90, window_s=60)
    scopes = (APP,)
    for n in range(1, 11):  # ten calls at 1% each: the cost of a call is known
        ticket, _ = gov.try_acquire(scopes)
        gov.observe(ticket, _h(x_app_usage={"call_count": n}))
        clock.t += 0.1
    # Then another process of the same app takes usage to 95%: more than our calls could ever make room for.
    ticket, _ = gov.try_acquire(scopes)
    gov.observe(ticket, _h(x_app_usage={"call_count": 95}))
    ticket, wait = gov.try_acquire(scopes)
    assert ticket is None and 0 < wait <= 60  # never longer than a window: then the report is surely stale
    clock.t += wait
    probe, _ = gov.try_acquire(scopes)
    assert probe is not None  # one call to see how things are ...
    assert gov.try_acquire(scopes)[0] is None  # ... not a burst on a stale picture
    gov.observe(probe, _h(x_app_usage={"call_count": 30}))  # the other usage has gone
    assert gov.try_acquire(scopes)[0] is not None


def test_business_use_case_regain_time_blocks_that_use_case_only() -> None:
    clock = Clock()
    gov = make(clock)
    gov.register_business("act_1", "555")
    gov.register_business("act_2", "777")
    mgmt = gov.scopes_for("ws", "act_1", False)
    assert ("buc", "555", "ads_management") in mgmt
    ticket, _ = gov.try_acquire(mgmt, workspace_id="ws", account_id="act_1")
    headers = _h(x_business_use_case_usage=buc("555", "ads_management", 100, regain_min=2))
    gov.observe(ticket, headers)
    waited = gov.on_throttle(ticket, 80004, None, headers)
    assert waited == pytest.approx(120)
    assert gov.try_acquire(mgmt, account_id="act_1")[1] == pytest.approx(120)
    # The same business's insights, and another business, carry on.
    assert gov.try_acquire(gov.scopes_for("ws", "act_1", True), account_id="act_1")[0] is not None
    assert gov.try_acquire(gov.scopes_for("ws", "act_2", False), account_id="act_2")[0] is not None
    clock.t += 120
    assert gov.try_acquire(mgmt, account_id="act_1")[0] is not None
    assert gov.stats.throttle_errors == 1 and gov.stats.throttles_by_code[80004] == 1


@pytest.mark.parametrize(
    ("code", "subcode", "blocked", "free"),
    [
        (17, 2446079, ("account", "act_1"), ("account", "act_2")),
        (613, None, ("account", "act_1"), ("account", "act_2")),
        (17, None, ("workspace", "ws"), ("workspace", "other")),
        (32, None, ("workspace", "ws"), ("workspace", "other")),
        (4, None, ("app",), ("account", "act_2")),
    ],
)
def test_each_throttle_code_blocks_its_own_scope(code, subcode, blocked, free) -> None:
    clock = Clock()
    gov = make(clock, fallback_s=10)
    ticket, _ = gov.try_acquire(gov.scopes_for("ws", "act_1", False), workspace_id="ws", account_id="act_1")
    waited = gov.on_throttle(ticket, code, subcode, None)
    assert 7.5 <= waited <= 12.5  # no hint in the headers: the fallback, with jitter
    assert set(gov.blocked()) == {blocked}
    assert gov.try_acquire([free])[0] is not None
    assert gov.try_acquire([blocked])[0] is None


def test_fallback_backoff_doubles_per_throttle_and_resets_after_a_good_reply() -> None:
    clock = Clock()
    gov = make(clock, fallback_s=10, max_wait_s=100)
    scopes = gov.scopes_for("ws", "act_1", False)
    waits = []
    for _ in range(5):
        ticket, _ = gov.try_acquire(scopes, workspace_id="ws", account_id="act_1")
        assert ticket is not None
        waits.append(gov.on_throttle(ticket, 17, 2446079, None))
        clock.t += waits[-1]
    assert [round(w / b, 1) for w, b in zip(waits, (10, 20, 40, 80, 100), strict=True)] == pytest.approx(
        [1.0] * 5, abs=0.26
    )  # 10, 20, 40, 80, then capped at 100 (each +-25% jitter)
    # A throttled reply's own headers (low usage, say) do not end the streak; a successful reply does.
    ticket, _ = gov.try_acquire(scopes, workspace_id="ws", account_id="act_1")
    gov.observe(ticket, _h(x_ad_account_usage={"acc_id_util_pct": 5}), ok=False)
    assert gov.on_throttle(ticket, 17, 2446079, None) == pytest.approx(100, rel=0.26)
    clock.t += 200
    ticket, _ = gov.try_acquire(scopes, workspace_id="ws", account_id="act_1")
    gov.observe(ticket, _h(x_ad_account_usage={"acc_id_util_pct": 5}))
    assert 7.5 <= gov.on_throttle(ticket, 17, 2446079, None) <= 12.5


def test_ad_account_reset_time_is_used_when_given() -> None:
    clock = Clock()
    gov = make(clock)
    ticket, _ = gov.try_acquire(gov.scopes_for("ws", "act_1", False), account_id="act_1")
    headers = _h(x_ad_account_usage={"acc_id_util_pct": 104, "reset_time_duration": 37})
    gov.observe(ticket, headers)
    assert gov.on_throttle(ticket, 17, 2446079, headers) == pytest.approx(37)


def test_acquire_blocks_then_goes_and_stops_when_told() -> None:
    clock = Clock()
    gov = make(clock)
    ticket = gov.acquire("ws", "act_1", False)
    gov.on_throttle(ticket, 613, None, _h(x_ad_account_usage={"acc_id_util_pct": 100, "reset_time_duration": 30}))
    started = clock.t
    gov.acquire("ws", "act_1", False)
    assert clock.t - started == pytest.approx(30, abs=1.01)
    assert gov.stats.waits == 1
    stop = threading.Event()
    stop.set()
    gov.on_throttle(gov.acquire("ws", "act_2", False), 613, None, None)
    with pytest.raises(WorkspaceStopped):
        gov.acquire("ws", "act_2", False, stop)


def test_business_is_learned_from_headers() -> None:
    clock = Clock()
    gov = make(clock)
    ticket, _ = gov.try_acquire(gov.scopes_for("ws", "act_1", True), account_id="act_1", insights=True)
    gov.observe(ticket, _h(x_business_use_case_usage=buc("999", "ads_insights", 3)))
    assert ("buc", "999", "ads_insights") in gov.scopes_for("ws", "act_1", True)
    assert ("buc", "999", "ads_management") in gov.scopes_for("ws", "1", False)  # ids with or without act_


def test_wait_for_peeks_without_admitting() -> None:
    clock = Clock()
    gov = make(clock)
    ticket, _ = gov.try_acquire(gov.scopes_for("ws", None, False), workspace_id="ws")
    gov.on_throttle(ticket, 17, None, None)  # the token (workspace) must wait
    assert gov.wait_for(gov.scopes_for("ws", None, False)) > 0
    assert gov.wait_for(gov.scopes_for("other", None, False)) == 0
    assert gov.wait_for([APP]) == 0 and gov.try_acquire([APP])[0] is not None
