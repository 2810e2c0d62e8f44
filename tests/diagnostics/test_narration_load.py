"""A night of many workspaces against a provider that hangs, fails or is slow: one circuit breaker for the whole run
(not one per workspace), bounded concurrency across workspaces, the run's slot respected, every finding still
narrated (offline, marked so). Event-driven: the assertions count requests and outcomes, never seconds."""

from __future__ import annotations

import itertools
import threading
from datetime import date

import pytest
from openai import OpenAI

from diagnostics import Entity, Finding, Metric, Window, narrate_workspaces, run_night
from diagnostics.breaker import CircuitBreaker
from diagnostics.openai_narrator import OpenAINarrator
from tests.diagnostics.narration import API_KEY, openai_narrator, write_marts
from tests.diagnostics.openai_stub import ResponsesStub
from tests.diagnostics.synthetic import NIGHT

pytestmark = pytest.mark.timeout(120)


def _findings(workspace_id: str, n: int = 2) -> list[Finding]:
    return [
        Finding(
            workspace_id=workspace_id,
            finding_type="cpa_increase",
            severity="high",
            entity=Entity("adset", f"s{i}", f"Ad set {i}"),
            account_id="act_1",
            currency="USD",
            period=Window(date(2026, 11, 13), date(2026, 11, 19)),
            previous=Window(date(2026, 11, 6), date(2026, 11, 12)),
            trailing=None,
            evidence=(Metric("cpa", 30.0 + i, 15.0, 15.5), Metric("conversions", 40, 42, 160)),
            campaign_id="c1",
        )
        for i in range(n)
    ]


def test_a_thousand_workspaces_against_a_hanging_provider_cost_a_few_timeouts_not_a_thousand():
    concurrency = 8
    workspaces = [f"ws{i:04d}" for i in range(1000)]
    done: dict[str, list] = {}
    with ResponsesStub(default="hang") as stub:
        # one narrator for the run, as the Dagster asset builds it: its breaker is shared by every workspace
        narrator = openai_narrator(stub, timeout_s=0.3, max_retries=0)
        narrate_workspaces(
            narrator,
            ((ws, _findings(ws), {}) for ws in workspaces),
            concurrency=concurrency,
            on_done=lambda ws, outcomes: done.__setitem__(ws, outcomes),
        )
        sent = len(stub.requests)
    assert set(done) == set(workspaces)
    outcomes = [o for ws in workspaces for o in done[ws]]
    assert len(outcomes) == 2000
    assert {o.provider for o in outcomes} == {"offline-fallback"}
    codes = {}
    for o in outcomes:
        code = (o.fallback_reason or "").split(":", 1)[0]
        codes[code] = codes.get(code, 0) + 1
    # the hung provider cost at most two rounds of the workers' timeouts, whatever the number of workspaces. A request
    # the client gave up on before the stub had read it counts as a timeout but not as sent (seen on a loaded machine),
    # so the stub's count is a lower bound of the timeouts, not their exact number.
    timeouts = codes.get("timeout", 0)
    assert 1 <= sent <= timeouts <= 2 * concurrency
    assert codes["provider_unavailable"] == 2000 - timeouts


def test_narration_runs_exactly_concurrency_workspaces_at_once():
    """Requests are held at the stub until `concurrency` of them are in flight together: a narration that ran fewer
    workspaces at once would break the barrier, one that ran more would show a higher peak."""
    concurrency = 4
    barrier = threading.Barrier(concurrency, timeout=20)
    with ResponsesStub() as stub:
        stub.on_request = lambda _request: barrier.wait()
        done: dict[str, list] = {}
        narrate_workspaces(
            openai_narrator(stub, max_retries=0),
            ((f"ws{i}", _findings(f"ws{i}", 1), {}) for i in range(40)),
            concurrency=concurrency,
            on_done=lambda ws, outcomes: done.__setitem__(ws, outcomes),
        )
        peak = stub.peak_in_flight
    assert peak == concurrency
    assert {o.provider for outcomes in done.values() for o in outcomes} == {"openai"} and len(done) == 40


def test_the_runs_slot_stops_new_requests_and_the_rest_is_narrated_offline():
    ticks = itertools.count()
    clock_value = [0.0]
    with ResponsesStub() as stub:

        def advance(_request) -> None:  # every request the provider receives costs 10 "seconds" of the slot
            next(ticks)
            clock_value[0] += 10.0

        stub.on_request = advance
        breaker = CircuitBreaker(2, deadline_s=25.0, clock=lambda: clock_value[0])
        client = OpenAI(api_key=API_KEY, base_url=stub.base_url, timeout=5.0, max_retries=0)
        narrator = OpenAINarrator(client, model="gpt-test", budget_tokens=100_000, redact_names=False, breaker=breaker)
        done: dict[str, list] = {}
        narrate_workspaces(
            narrator,
            ((f"ws{i}", _findings(f"ws{i}"), {}) for i in range(5)),
            concurrency=1,
            on_done=lambda ws, outcomes: done.__setitem__(ws, outcomes),
        )
        sent = len(stub.requests)
    outcomes = [o for i in range(5) for o in done[f"ws{i}"]]
    assert sent == 3  # 0, 10, 20 are inside the 25 s slot; at 30 it is over
    assert [o.provider for o in outcomes].count("openai") == 3
    late = [o for o in outcomes if o.provider == "offline-fallback"]
    assert len(late) == 7 and all(o.fallback_reason.startswith("deadline_exceeded") for o in late)


def test_run_night_shares_one_breaker_across_workspaces_and_stores_every_one(wh):
    write_marts(wh)  # workspace tenant_q7x2 with three high findings
    workspaces = ["tenant_q7x2", *(f"copy{i}" for i in range(5))]
    marts = wh.query("select table_name from information_schema.tables where table_schema = 'marts'")
    for table in (r["table_name"] for r in marts):
        for ws in workspaces[1:]:
            wh.execute(
                f"insert into marts.{table} select * replace (@ws as workspace_id) "
                "from marts." + table + " where workspace_id = 'tenant_q7x2'",
                {"ws": ws},
            )
    stored: list[str] = []
    with ResponsesStub(default="http_500") as stub:
        results = run_night(
            wh,
            workspaces,
            NIGHT,
            openai_narrator(stub, max_retries=0),
            concurrency=3,
            on_result=lambda ws, result: stored.append(ws),
        )
        sent = len(stub.requests)
    assert sorted(stored) == sorted(workspaces) and set(results) == set(workspaces)
    assert all(not isinstance(r, Exception) and r.rows_written == 3 for r in results.values())
    # one breaker for the run: a few requests in all, not two per workspace
    assert sent <= 2 * 3 < 2 * len(workspaces)
    reasons: dict[str, int] = {}
    for r in results.values():
        for code, n in r.fallback_reasons.items():
            reasons[code] = reasons.get(code, 0) + n
    assert reasons == {"http_500": sent, "provider_unavailable": 3 * len(workspaces) - sent}
    rows = wh.query("select workspace_id, provider, chart_svg from diagnostics.diagnostics_findings")
    assert len(rows) == 18 and {r["provider"] for r in rows} == {"offline-fallback"}
    assert all(r["chart_svg"].startswith("<svg") for r in rows)
