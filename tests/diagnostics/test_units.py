"""Pure units: finding ids, de-duplication across levels, config validation, scrubbing, pseudonyms, offline
narratives for every finding type."""

from __future__ import annotations

import json
from datetime import date

import pytest

from diagnostics import DiagnosticsConfig, Entity, Finding, Metric, OfflineNarrator, Window
from diagnostics.findings import FINDING_TYPES, keep_most_general, keep_most_specific
from diagnostics.narrative import (
    Narrative,
    build_payload,
    check_narrative,
    pseudonym,
    restore_names,
    scrub,
)
from diagnostics.wording import _fmt_money
from tests.diagnostics.synthetic import FAKE_META_TOKEN, NIGHT, PLANTS, WS, Dataset


def _finding(
    finding_type: str = "cpa_increase",
    level: str = "adset",
    entity_id: str = "s1",
    period: Window | None = None,
    severity: str = "high",
    campaign_id: str | None = "c1",
    name: str | None = "Ad set one",
) -> Finding:
    return Finding(
        workspace_id="ws",
        finding_type=finding_type,
        severity=severity,  # type: ignore[arg-type]
        entity=Entity(level, entity_id, name),  # type: ignore[arg-type]
        account_id="act_1",
        currency="USD",
        period=period or Window(date(2026, 11, 13), date(2026, 11, 19)),
        previous=None,
        trailing=None,
        evidence=(Metric("cpa", 20.0, 10.0, 11.0),),
        campaign_id=campaign_id if level in ("adset", "ad") else None,
    )


def test_finding_id_depends_on_workspace_type_entity_and_period_only():
    base = _finding()
    assert base.finding_id == _finding().finding_id
    assert len(base.finding_id) == 24 and int(base.finding_id, 16) >= 0
    # severity, evidence values and names are not identity: a finding that worsens keeps its id
    assert _finding(severity="warning", name="renamed").finding_id == base.finding_id
    for other in (
        _finding(finding_type="roas_decrease"),
        _finding(entity_id="s2"),
        _finding(level="ad"),
        _finding(period=Window(date(2026, 11, 14), date(2026, 11, 20))),
    ):
        assert other.finding_id != base.finding_id


def test_keep_most_specific_and_most_general():
    campaign = _finding(level="campaign", entity_id="c1")
    adset = _finding(level="adset", entity_id="s1", campaign_id="c1")
    elsewhere = _finding(level="campaign", entity_id="c9")
    assert keep_most_specific([campaign, adset, elsewhere]) == [adset, elsewhere]
    assert keep_most_general([campaign, adset, elsewhere]) == [campaign, elsewhere]
    # different types never suppress each other
    ctr = _finding(finding_type="ctr_drop", level="campaign", entity_id="c1")
    assert keep_most_specific([ctr, adset]) == [ctr, adset]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"window_days": 0},
        {"trailing_days": 3},
        {"min_conversions": -1},
        {"cpa_increase_warning": 0.9, "cpa_increase_high": 0.5},
        {"pacing_under_high": 0.7, "pacing_under_warning": 0.6},
        {"breakdown_dimensions": ("age_gender", "region")},
        {"max_findings": 0},
        {"max_findings": 10_000},
    ],
)
def test_config_rejects_inconsistent_values(kwargs):
    with pytest.raises(ValueError):
        DiagnosticsConfig(**kwargs)


def test_config_lookback_covers_the_oldest_matured_baseline_day():
    c = DiagnosticsConfig()
    assert c.lookback_days == 7 + 7 + 28 - 1


def test_scrub_removes_token_shaped_strings_but_keeps_names_and_ids():
    assert FAKE_META_TOKEN not in scrub(f"Promo {FAKE_META_TOKEN} Q4")
    assert scrub("sk-proj-abcdefghijklmnop1234") == "[redacted]"
    assert scrub("a1b2c3d4" * 5) == "[redacted]"  # a hex secret
    for keep in ("Prospecting | Sales 25-54", "120211234567890123", "Lookalike 1% - US - 2026-11"):
        assert scrub(keep) == keep


def test_pseudonyms_are_stable_and_restorable():
    alias = pseudonym("ws", "adset", "s1")
    assert alias == pseudonym("ws", "adset", "s1") != pseudonym("ws", "adset", "s2")
    assert alias != pseudonym("other", "adset", "s1")  # one workspace's alias says nothing about another's
    payload = build_payload(_finding(name="Jane's retargeting"), redact_names=True)
    assert "Jane" not in payload.to_json() and alias in payload.to_json()
    back = restore_names(
        Narrative(summary=f"{alias} is worse", likely_causes=[alias], recommended_actions=["x"], confidence="low"),
        payload.names,
    )
    assert back.summary == "Jane's retargeting is worse" and back.likely_causes == ["Jane's retargeting"]


def test_the_sdk_derives_a_strict_schema_from_the_narrative_model():
    from openai.lib._parsing._responses import type_to_text_format_param

    fmt = type_to_text_format_param(Narrative)
    assert fmt["type"] == "json_schema" and fmt["strict"] is True
    schema = fmt["schema"]
    assert schema["additionalProperties"] is False
    assert set(schema["required"]) == set(schema["properties"]) == set(Narrative.model_fields)
    assert schema["properties"]["confidence"]["enum"] == ["low", "medium", "high"]


def test_check_narrative_limits():
    ok = Narrative(summary="s", likely_causes=["c"], recommended_actions=["a"], confidence="low")
    assert check_narrative(ok) is ok
    for bad in (
        ok.model_copy(update={"summary": " "}),
        ok.model_copy(update={"likely_causes": []}),
        ok.model_copy(update={"recommended_actions": ["a"] * 7}),
        ok.model_copy(update={"summary": "x" * 5000}),
    ):
        with pytest.raises(ValueError):
            check_narrative(bad)


def test_offline_narratives_for_every_finding_type_are_valid_and_deterministic(wh):
    ds = Dataset()
    for apply, _ in PLANTS.values():
        apply(ds)
    ds.write(wh)
    from diagnostics import detect

    findings, _ = detect(wh, WS, NIGHT)
    # every type is covered (the planted data holds one of each)
    assert {f.finding_type for f in findings} == set(FINDING_TYPES)
    narrator = OfflineNarrator()
    first = narrator.narrate(findings)
    assert [o.narrative for o in first] == [o.narrative for o in narrator.narrate(findings)]
    for finding, outcome in zip(findings, first, strict=True):
        check_narrative(outcome.narrative)
        assert outcome.provider == "offline" and outcome.model == "offline-template"
        # the summary names the entity and quotes numbers from the evidence
        assert (finding.entity.name or finding.entity.id) in outcome.narrative.summary
        assert any(ch.isdigit() for ch in outcome.narrative.summary)
    # money reads in the account's currency; zero-decimal currencies without cents
    assert _fmt_money(12345.678, "JPY") == "12,346 JPY" and _fmt_money(12345.678, "USD") == "12,345.68 USD"
    json.dumps([o.narrative.model_dump() for o in first])  # serialisable as stored
