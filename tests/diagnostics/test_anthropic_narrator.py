"""The Anthropic narrator through the real `anthropic` SDK over real HTTP to a local Messages API stub: the request
(the same schema as structured output, the same instructions and payload, nothing else), privacy, the cache, the
budget, and the same offline fallbacks and breaker as OpenAI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from diagnostics import OfflineNarrator, build_narrator, detect, run_diagnostics
from diagnostics.narrative import INSTRUCTIONS, PROMPT_VERSION, Narrative
from tests.diagnostics.narration import PAYLOAD_KEYS, TENANT, finding_rows, write_marts
from tests.diagnostics.openai_stub import MessagesStub
from tests.diagnostics.synthetic import FAKE_META_TOKEN, NIGHT

pytestmark = pytest.mark.timeout(60)

API_KEY = "sk-ant-test-0000-not-a-real-key"
ALLOWED_BODY_KEYS = {"model", "max_tokens", "system", "messages", "output_config"}


@pytest.fixture
def astub() -> Iterator[MessagesStub]:
    with MessagesStub() as server:
        yield server


def _narrator(stub: MessagesStub, **overrides):
    kwargs = {
        "api_key": API_KEY,
        "base_url": stub.base_url,
        "model": "claude-test",
        "timeout_s": 5.0,
        "max_retries": 0,
        "budget_tokens": 100_000,
        "redact_names": False,
    }
    kwargs.update(overrides)
    return build_narrator("anthropic", **kwargs)


def test_requests_carry_the_schema_and_aggregates_only(wh, astub, monkeypatch):
    monkeypatch.setenv("META_ACCESS_TOKEN", FAKE_META_TOKEN)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env-must-not-be-used")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")
    write_marts(wh)

    result = run_diagnostics(wh, TENANT, NIGHT, narrator=_narrator(astub))

    assert result.findings == 3 == result.llm_requests == len(astub.requests)
    assert result.providers == {"anthropic": 3} and result.fallbacks == 0
    for req in astub.requests:
        assert req.path == "/v1/messages"
        # the key given (never the environment's), in whichever header this SDK version uses
        sent_key = req.headers.get("x-api-key") or req.headers.get("authorization", "").removeprefix("Bearer ")
        assert sent_key == API_KEY and "anthropic-version" in req.headers
        assert FAKE_META_TOKEN.encode() not in req.raw and TENANT.encode() not in req.raw
        body = req.body
        assert set(body) == ALLOWED_BODY_KEYS  # no metadata.user_id, no tools, nothing else
        assert body["model"] == "claude-test" and body["system"] == INSTRUCTIONS and body["max_tokens"] == 700
        [message] = body["messages"]
        assert message["role"] == "user"
        assert set(req.payload) == PAYLOAD_KEYS
        fmt = body["output_config"]["format"]
        assert fmt["type"] == "json_schema"
        assert fmt["schema"]["additionalProperties"] is False
        assert set(fmt["schema"]["required"]) == set(Narrative.model_fields)
    rows = finding_rows(wh)
    assert {r["provider"] for r in rows} == {"anthropic"}
    for r in rows:
        assert r["model"] == "claude-test" and r["prompt_version"] == PROMPT_VERSION
        assert r["summary"].endswith(f"{r['finding_type']} needs attention.")
        assert r["llm_output_tokens"] == 55 and r["llm_input_tokens"] > 0


def test_redaction_cache_and_budget_work_as_for_openai(wh, astub):
    write_marts(wh)
    run_diagnostics(wh, TENANT, NIGHT, narrator=_narrator(astub, redact_names=True))
    for req in astub.requests:
        assert b"act_" not in req.raw and b"Acme" not in req.raw
        assert re.fullmatch(r"\w+-id-[0-9a-f]{8}", req.payload["entity"]["id"])
    tracking = next(r for r in finding_rows(wh) if r["finding_type"] == "tracking_breakage")
    assert json.loads(tracking["likely_causes"]) == ["Something changed in Acme Japan (act_2)."]

    again = run_diagnostics(wh, TENANT, NIGHT, narrator=_narrator(astub, redact_names=True))
    assert again.cached == 3 and again.llm_requests == 0 and len(astub.requests) == 3

    # the OpenAI rows of another provider are never offered as Anthropic's cache, and a zero budget sends nothing
    nothing = run_diagnostics(wh, TENANT, NIGHT, narrator=_narrator(astub, model="claude-other", budget_tokens=0))
    assert nothing.fallback_reasons == {"budget_exhausted": 3} and len(astub.requests) == 3


@pytest.mark.parametrize(
    ("mode", "code", "sent"),
    [
        ("invalid_json", "invalid_output", 3),
        ("wrong_schema", "invalid_output", 3),
        ("refusal", "refusal", 3),
        ("incomplete", "incomplete", 3),
        # transport failures: two in a row open the run's breaker, the third finding is not sent
        ("http_500", "http_500", 2),
        ("html", "bad_reply", 2),
        ("html_502", "http_502", 2),
    ],
)
def test_failures_fall_back_offline_per_finding(wh, astub, mode, code, sent):
    write_marts(wh)
    astub.default = mode
    result = run_diagnostics(wh, TENANT, NIGHT, narrator=_narrator(astub))
    assert len(astub.requests) == sent
    expected = {code: sent, **({"provider_unavailable": 3 - sent} if sent < 3 else {})}
    assert result.fallback_reasons == expected
    findings, _ = detect(wh, TENANT, NIGHT)
    offline = {f.finding_id: OfflineNarrator().narrative(f).summary for f in findings}
    for r in finding_rows(wh):
        assert r["provider"] == "offline-fallback" and r["summary"] == offline[r["finding_id"]]
