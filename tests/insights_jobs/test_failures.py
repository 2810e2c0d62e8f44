"""Failures that must stay contained: an expired token stops its workspace only; an unreadable slice is recorded
and leaves the previous night's numbers for its day visible; a re-pull replaces restated numbers."""

from __future__ import annotations

import json
from datetime import date, timedelta

from graph_sandbox import SandboxServer, Scenario
from insights_jobs import Window
from tests.insights_jobs.conftest import fast_config, governor
from tests.insights_jobs.memsink import MemorySink
from tests.insights_jobs.truth import diff

NIGHT_1 = date(2026, 11, 20)
# Three nights later (the nights between skipped): in the demo scenario most conversions arrive within a day, so one
# night apart restates too few ad-days to tell the nights apart reliably (a sandbox change left none).
NIGHT_2 = NIGHT_1 + timedelta(days=3)
# The nightly window of night 2 (29 days ending the day before), as the orchestrator would ask for it.
RESTATED = Window(NIGHT_2 - timedelta(days=29), NIGHT_2 - timedelta(days=1))


def test_expired_token_marks_its_workspace_reconnect_needed_and_no_other(demo: Scenario, extract) -> None:
    with SandboxServer(demo, job_seconds=0.2, faults="expired_token=act_1002") as server:
        run = extract(server, demo, fast_config(server.url, reports=("account_daily", "ad_daily")))
        acme_calls = [r for r in server.requests if r.account_id in ("act_1001", "act_1002")]
    acme, globex, initech = run.results
    assert acme.reconnect_needed and not acme.ok
    assert all(a.action == "stop_workspace" for a in acme.accounts)
    assert any("190/463" in e and "reconnect needed" in e for e in acme.errors)
    assert not globex.reconnect_needed and globex.ok and initech.ok
    # Once the token proved unusable, the workspace sent (almost) nothing more: only calls already in flight.
    assert len(acme_calls) <= 12
    for w in ("globex", "initech"):
        for account_id in next(x for x in demo.workspaces() if x.workspace_id == w).account_ids:
            assert diff(run.sink, demo, w, account_id, date(2026, 10, 1), date(2026, 10, 31), ["ad_daily"]) == {}
    # No token in any log line or error.
    tokens = [w.token for w in demo.workspaces()]
    for line in run.logs + [e for r in run.results for e in r.errors]:
        assert not any(t in line for t in tokens), line


def _restating_day(demo: Scenario, account_id: str) -> date:
    for back in range(20):
        day = NIGHT_1 - timedelta(days=back)  # a day both nights read: its numbers changed in between
        demo.as_of = NIGHT_1
        first = demo.truth("account", account_id, day, day)
        demo.as_of = NIGHT_2
        if first != demo.truth("account", account_id, day, day):
            return day
    raise AssertionError("no day restates between the nights")


def _night(demo: Scenario, extract, sink: MemorySink, as_of: date, faults: str | None = None, reports=("ad_daily",)):
    demo.as_of = as_of
    with SandboxServer(demo, job_seconds=0.1, faults=faults) as server:
        config = fast_config(server.url, reports=reports, max_resubmits=1)
        return extract(server, demo, config, window=RESTATED, only=["globex"], sink=sink)


def test_re_pull_replaces_restated_numbers(demo: Scenario, extract) -> None:
    sink = MemorySink()
    _night(demo, extract, sink, NIGHT_1)
    demo.as_of = NIGHT_1
    night_1 = demo.truth("ad", "act_2001", RESTATED.start, RESTATED.end)
    run = _night(demo, extract, sink, NIGHT_2)
    assert run.results[0].ok
    night_2 = demo.truth("ad", "act_2001", RESTATED.start, RESTATED.end)
    # Conversions of recent days arrived in between: the numbers restated...
    assert night_1 != night_2
    # ... and what is visible now is night 2's truth, not a sum or a mix.
    assert diff(sink, demo, "globex", "act_2001", RESTATED.start, RESTATED.end, ["ad_daily"]) == {}


def test_an_unreadable_slice_is_recorded_and_keeps_the_previous_nights_data(demo: Scenario, extract) -> None:
    sink = MemorySink()
    _night(demo, extract, sink, NIGHT_1, reports=("ad_daily", "account_daily"))
    demo.as_of = NIGHT_1
    before = {
        r: diff(sink, demo, "globex", "act_2001", RESTATED.start, RESTATED.end, [r])
        for r in ("ad_daily", "account_daily")
    }
    assert before == {"ad_daily": {}, "account_daily": {}}

    # Night 2: one ad's actions on one day cannot be read, however the request is split. The day is one whose
    # numbers restate between the nights, so the test can tell which night's numbers are visible.
    poisoned_day = _restating_day(demo, "act_2001")
    demo.as_of = NIGHT_1
    ad = next(a for a in demo.ads("act_2001") if demo.ad_day(a, poisoned_day) is not None)
    run = _night(demo, extract, sink, NIGHT_2, f"poison={ad.id}@{poisoned_day}:actions", ("ad_daily", "account_daily"))
    (globex,) = run.results
    assert globex.ok  # the account landed; the unreadable slices are reported, not fatal
    failed = {(f.report, f.object_level, tuple(f.object_ids), tuple(f.fields), f.since, f.until)
              for f in globex.failed_slices}  # fmt: skip
    assert failed == {
        ("ad_daily", "ad", (ad.id,), ("actions",), poisoned_day, poisoned_day),
        # Account rows cannot be rebuilt from parts: the account-day itself is the narrowest slice.
        ("account_daily", "account", ("act_2001",), ("actions",), poisoned_day, poisoned_day),
    }
    assert globex.jobs["split"] > 0
    errors = sink.all_rows("meta_extraction_errors")
    assert {(e["report"], e["date_start"], e["date_end"], e["object_level"]) for e in errors} == {
        ("ad_daily", poisoned_day, poisoned_day, "ad"),
        ("account_daily", poisoned_day, poisoned_day, "account"),
    }
    for e in errors:
        assert json.loads(e["fields"]) == ["actions"] and e["error_code"] == 2 and e["error_subcode"] == 1504038
        assert e["error_action"] == "split" and e["message"] and e["recorded_at"]
    assert [b.report for b in sink.committed(workspace_id="globex") if b.report == "extraction_errors"] == [
        "extraction_errors"
    ]

    # Every other day shows night 2's numbers; the poisoned day still shows night 1's, whole and consistent.
    demo.as_of = NIGHT_2
    for r in ("ad_daily", "account_daily"):
        assert diff(sink, demo, "globex", "act_2001", RESTATED.start, poisoned_day - timedelta(days=1), [r]) == {}
        assert diff(sink, demo, "globex", "act_2001", poisoned_day + timedelta(days=1), RESTATED.end, [r]) == {}
        assert diff(sink, demo, "globex", "act_2001", poisoned_day, poisoned_day, [r]) != {}  # night 2 differs...
    demo.as_of = NIGHT_1
    for r in ("ad_daily", "account_daily"):
        assert diff(sink, demo, "globex", "act_2001", poisoned_day, poisoned_day, [r]) == {}  # ... night 1 it is


def test_a_throttled_account_waits_alone_while_the_others_go_on(demo: Scenario, extract) -> None:
    from graph_sandbox import GraphError

    throttled = []

    def hook(info):
        # act_1001's first three calls are refused (no usage headers: the governor falls back to its own backoff).
        if info.account_id == "act_1001" and len(throttled) < 3:
            throttled.append(info.path)
            return GraphError(17, "(#17) User request limit reached", subcode=2446079, transient=True)
        return None

    with SandboxServer(demo, job_seconds=0.1, fault_hook=hook) as server:
        run = extract(server, demo, fast_config(server.url, reports=("account_daily",)), gov=governor(fallback_s=0.6))
        records = list(server.requests)
    acme, globex, initech = run.results
    assert all(r.ok for r in run.results)
    by_account = {a.account_id: a for r in run.results for a in r.accounts}
    assert by_account["act_1001"].throttle_errors == 3 and run.governor.stats.throttle_errors == 3
    waited = by_account["act_1001"].seconds
    assert waited >= 0.6 * 0.75 * (1 + 2 + 4)  # 0.6, 1.2, 2.4 s, each +-25%
    # Never held back by act_1001's wait: the others were served while act_1001 still waited out its backoff (its
    # last refused call comes after two backoffs, >= 0.45 + 0.9 s; ordered by the sandbox's clock, not timed here).
    last_refused = max(r.timestamp for r in records if r.account_id == "act_1001" and r.error_code == 17)
    for other in ("act_1002", "act_2001", "act_3001"):
        assert by_account[other].throttle_errors == 0
        assert min(r.timestamp for r in records if r.account_id == other) < last_refused, other


def test_skipped_report_runs_are_resubmitted_not_split(demo: Scenario, extract) -> None:
    # Meta: "Job Skipped: Job has expired and skipped. Please resubmit your job and try again."
    with SandboxServer(demo, job_seconds=0.05, faults="jobskip=0.5,seed=1") as server:
        config = fast_config(server.url, sync_max_rows=0, reports=("ad_daily", "campaign_daily"), max_resubmits=6)
        run = extract(server, demo, config, only=["initech"])
        skipped = server.stats().get("fault_jobskip", 0)
    (initech,) = run.results
    assert initech.ok and skipped > 0
    assert initech.jobs["skipped"] == skipped and initech.jobs["resubmitted"] >= skipped
    assert initech.jobs.get("split", 0) == 0
    assert diff(run.sink, demo, "initech", "act_3001", date(2026, 10, 1), date(2026, 10, 31),
                ["ad_daily", "campaign_daily"]) == {}  # fmt: skip
