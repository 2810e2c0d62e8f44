"""The OpenAI narrator through the real `openai` SDK over real HTTP to a local Responses API stub: what is sent
(store=false, the strict schema, aggregated metrics only, no token strings, no tenant id), the cache, the budget, and
clean offline fallbacks for invalid output, error statuses, timeouts and a provider that is down."""

from __future__ import annotations

import json
import re
import time

import pytest

from diagnostics import OfflineNarrator, build_narrator, detect, run_diagnostics
from diagnostics.narrative import INSTRUCTIONS, PROMPT_VERSION, Narrative, build_payload
from diagnostics.remote import estimate_tokens
from tests.diagnostics.narration import API_KEY, PAYLOAD_KEYS, TENANT, finding_rows, openai_narrator, write_marts
from tests.diagnostics.synthetic import FAKE_META_TOKEN, NIGHT

pytestmark = pytest.mark.timeout(60)

REF = "diagnostics.diagnostics_findings"
ALLOWED_BODY_KEYS = {"model", "instructions", "input", "text", "store", "max_output_tokens"}


def _numbers_or_none(value) -> bool:
    return value is None or isinstance(value, int | float)


def test_requests_are_structured_private_and_not_stored(wh, stub, monkeypatch):
    # Secrets in the environment must not travel, and the package must not take its settings from there either.
    monkeypatch.setenv("META_ACCESS_TOKEN", FAKE_META_TOKEN)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-must-not-be-used-000000")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    write_marts(wh)

    result = run_diagnostics(wh, TENANT, NIGHT, narrator=openai_narrator(stub))

    assert result.findings == 3 == result.llm_requests == len(stub.requests)
    assert result.providers == {"openai": 3} and result.fallbacks == 0
    for req in stub.requests:
        assert req.path == "/v1/responses"
        assert req.headers["authorization"] == f"Bearer {API_KEY}"
        # no token strings and no tenant id anywhere in what left the process
        assert FAKE_META_TOKEN.encode() not in req.raw and TENANT.encode() not in req.raw
        assert all(FAKE_META_TOKEN not in v for v in req.headers.values())
        body = req.body
        assert set(body) == ALLOWED_BODY_KEYS
        assert body["store"] is False
        assert body["model"] == "gpt-test" and body["instructions"] == INSTRUCTIONS
        # the SDK's structured-output helper derived the strict schema from the Narrative model
        fmt = body["text"]["format"]
        assert fmt["type"] == "json_schema" and fmt["strict"] is True and fmt["name"] == "Narrative"
        schema = fmt["schema"]
        assert schema["additionalProperties"] is False
        assert set(schema["required"]) == set(schema["properties"]) == set(Narrative.model_fields)
        # aggregated metrics only: one finding's window values, no rows, no per-day series
        payload = req.payload
        assert set(payload) == PAYLOAD_KEYS
        assert b"date_day" not in req.raw
        assert 1 <= len(payload["evidence"]) <= 12
        for metric in payload["evidence"]:
            assert set(metric) <= {"metric", "current", "previous", "trailing"}
            assert all(_numbers_or_none(v) for k, v in metric.items() if k != "metric")
        assert set(payload["windows"]) == {"current", "previous", "trailing"}
    sent_names = {r.payload["entity"]["name"] for r in stub.requests}
    assert sent_names == {"Interest: SaaS [redacted]", "Prospecting [redacted]", "Acme Japan"}

    rows = finding_rows(wh)
    assert [r["provider"] for r in rows] == ["openai"] * 3
    for r in rows:
        assert r["model"] == "gpt-test" and r["prompt_version"] == PROMPT_VERSION
        assert r["summary"].endswith(f"{r['finding_type']} needs attention.")  # the stub's narrative, stored
        assert r["llm_input_tokens"] > 0 and r["llm_output_tokens"] == 60 and r["llm_cached"] is False
    assert result.tokens_used == sum(r["llm_input_tokens"] + r["llm_output_tokens"] for r in rows)


def test_redacted_names_and_ids_leave_as_pseudonyms_and_come_back(wh, stub):
    write_marts(wh)
    run_diagnostics(wh, TENANT, NIGHT, narrator=openai_narrator(stub, redact_names=True))
    assert len(stub.requests) == 3
    for req in stub.requests:
        # names, the account id (act_...) and the object ids never leave in clear
        for real in (b"Interest", b"Prospecting", b"Acme", b"act_", b'"s31"', b'"c1"'):
            assert real not in req.raw
        entity = req.payload["entity"]
        assert re.fullmatch(rf"{entity['level']}-[0-9a-f]{{8}}", entity["name"])
        assert re.fullmatch(rf"{entity['level']}-id-[0-9a-f]{{8}}", entity["id"])
    tracking = next(r for r in finding_rows(wh) if r["finding_type"] == "tracking_breakage")
    # the stub's narrative quoted the pseudonyms; the stored one has the real name and id back
    assert tracking["summary"] == "Acme Japan: tracking_breakage needs attention."
    assert json.loads(tracking["likely_causes"]) == ["Something changed in Acme Japan (act_2)."]


def test_unchanged_findings_are_not_sent_again(wh, stub):
    write_marts(wh)
    first = run_diagnostics(wh, TENANT, NIGHT, narrator=openai_narrator(stub))
    assert first.llm_requests == 3
    summaries = {r["finding_id"]: r["summary"] for r in finding_rows(wh)}

    second = run_diagnostics(wh, TENANT, NIGHT, narrator=openai_narrator(stub))
    assert len(stub.requests) == 3  # nothing new was sent
    assert second.cached == 3 and second.llm_requests == 0 and second.tokens_used == 0
    rows = finding_rows(wh)
    assert len(rows) == 3 and {r["finding_id"]: r["summary"] for r in rows} == summaries
    assert all(r["provider"] == "openai" and r["llm_cached"] and r["llm_input_tokens"] == 0 for r in rows)

    # the marts are restated and one finding's numbers change: only that one is sent
    wh.execute("drop schema marts cascade")
    write_marts(wh, cpa_factor=0.7)
    third = run_diagnostics(wh, TENANT, NIGHT, narrator=openai_narrator(stub))
    assert third.llm_requests == 1 and third.cached == 2
    assert stub.requests[-1].payload["finding_type"] == "cpa_increase"

    # another model is another cache key: everything is asked again
    run_diagnostics(wh, TENANT, NIGHT, narrator=openai_narrator(stub, model="gpt-other"))
    assert len(stub.requests) == 3 + 1 + 3


def test_budget_stops_calls_and_the_rest_is_narrated_offline(wh, stub):
    write_marts(wh)
    findings, _ = detect(wh, TENANT, NIGHT)
    assert len(findings) == 3
    first_estimate = estimate_tokens(INSTRUCTIONS + build_payload(findings[0], redact_names=False).to_json()) + 700
    budget = first_estimate + 10  # room for the most severe finding only

    result = run_diagnostics(wh, TENANT, NIGHT, narrator=openai_narrator(stub, budget_tokens=budget))

    assert len(stub.requests) == 1 == result.llm_requests
    assert stub.requests[0].payload["finding_type"] == findings[0].finding_type  # most severe first
    assert 0 < result.tokens_used <= budget
    assert result.fallback_reasons == {"budget_exhausted": 2}
    fallbacks = [r for r in finding_rows(wh) if r["provider"] == "offline-fallback"]
    assert len(fallbacks) == 2
    assert all(r["fallback_reason"].startswith("budget_exhausted") and r["summary"] for r in fallbacks)


def test_zero_budget_sends_nothing(wh, stub):
    write_marts(wh)
    result = run_diagnostics(wh, TENANT, NIGHT, narrator=openai_narrator(stub, budget_tokens=0))
    assert stub.requests == [] and result.fallback_reasons == {"budget_exhausted": 3}


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("invalid_json", "invalid_output"),
        ("wrong_schema", "invalid_output"),
        ("refusal", "refusal"),
        ("incomplete", "incomplete"),
    ],
)
def test_unusable_output_falls_back_to_offline_per_finding(wh, stub, mode, code):
    write_marts(wh)
    stub.default = mode
    result = run_diagnostics(wh, TENANT, NIGHT, narrator=openai_narrator(stub))
    # a bad answer is the model's problem, not the transport's: every finding is still tried
    assert len(stub.requests) == 3 and result.fallback_reasons == {code: 3}
    findings, _ = detect(wh, TENANT, NIGHT)
    offline = {f.finding_id: OfflineNarrator().narrative(f).summary for f in findings}
    for r in finding_rows(wh):
        assert r["provider"] == "offline-fallback" and r["fallback_reason"].startswith(code)
        assert r["summary"] == offline[r["finding_id"]]
        assert r["model"] == "offline-template" and r["llm_input_tokens"] > 0  # the tokens were spent all the same


@pytest.mark.parametrize(
    ("mode", "code"),
    [("http_500", "http_500"), ("slow", "timeout"), ("html", "bad_reply"), ("html_502", "http_502")],
)
def test_failing_or_slow_provider_falls_back_and_stops_being_asked(wh, stub, mode, code):
    write_marts(wh)
    stub.default = mode
    stub.slow_seconds = 60  # far beyond the client's 0.3 s timeout: waiting for the reply would show
    started = time.monotonic()
    result = run_diagnostics(wh, TENANT, NIGHT, narrator=openai_narrator(stub, timeout_s=0.3))
    elapsed = time.monotonic() - started
    # two failures in a row open the breaker: the third finding is not tried
    assert len(stub.requests) == 2
    assert result.fallback_reasons == {code: 2, "provider_unavailable": 1}
    assert result.findings == result.rows_written == 3
    assert {r["provider"] for r in finding_rows(wh)} == {"offline-fallback"}
    assert elapsed < 30  # bounded by the client timeout (2 x 0.3 s), not by the slow provider (2 x 60 s)


def test_sdk_retries_a_server_error_before_falling_back(wh, stub):
    write_marts(wh)
    stub.script.append("http_500")  # the first attempt fails, the retry succeeds
    result = run_diagnostics(wh, TENANT, NIGHT, narrator=openai_narrator(stub, max_retries=1))
    assert len(stub.requests) == 4 and result.providers == {"openai": 3}
    assert stub.requests[0].raw == stub.requests[1].raw  # the same request, retried


def test_build_narrator_validates_its_settings():
    assert build_narrator("offline").kind == "offline"
    with pytest.raises(ValueError, match="API key"):
        build_narrator("openai", api_key=None)
    with pytest.raises(ValueError):
        build_narrator("claude")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ANTHROPIC_API_KEY"):
        build_narrator("anthropic", api_key=None)
    with pytest.raises(ValueError):
        build_narrator("openai", api_key=API_KEY, timeout_s=0)


def test_stored_narratives_are_valid_json_lists(wh, stub):
    write_marts(wh)
    run_diagnostics(wh, TENANT, NIGHT, narrator=openai_narrator(stub))
    for r in finding_rows(wh):
        assert json.loads(r["likely_causes"]) and json.loads(r["recommended_actions"])
