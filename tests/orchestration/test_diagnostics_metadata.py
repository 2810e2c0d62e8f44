"""The diagnostics asset's metadata: a markdown table of the night's findings with the most severe charts inline,
and the run-wide LLM settings (provider, concurrency, slot) reaching the narrator."""

from __future__ import annotations

import base64

from orchestration.assets.diagnostics import findings_markdown
from orchestration.resources import llm_resource
from orchestration.settings import Settings


def _row(i: int, severity: str = "high") -> dict:
    return {
        "severity": severity,
        "finding_type": "cpa_increase",
        "entity_level": "adset",
        "entity_id": f"s{i}",
        "entity_name": f"Ad set | {i}",
        "summary": f"CPA rose {i}.",
        "chart_svg": f'<svg xmlns="http://www.w3.org/2000/svg"><title>chart {i}</title></svg>',
    }


def test_markdown_table_with_the_first_charts_inline():
    md = findings_markdown([_row(i) for i in range(5)], charts=3)
    lines = md.splitlines()
    assert lines[0] == "| severity | finding | entity | summary |"
    assert sum(1 for line in lines if line.startswith("| high |")) == 5
    assert "Ad set / 0" in md  # a pipe in a name cannot break the table
    images = [line for line in lines if line.startswith("![")]
    assert len(images) == 3
    encoded = images[0].split("base64,", 1)[1].rstrip(")")
    assert base64.b64decode(encoded).decode() == _row(0)["chart_svg"]
    assert findings_markdown([]) == "No findings this night."


def test_llm_resource_from_settings(tmp_path):
    settings = Settings(
        home=tmp_path, llm="anthropic", anthropic_api_key="sk-ant-x", llm_concurrency=6, llm_slot_seconds=900
    )
    llm = llm_resource(settings)
    assert (llm.kind, llm.model, llm.api_key, llm.concurrency, llm.slot_seconds) == (
        "anthropic",
        "claude-haiku-4-5",
        "sk-ant-x",
        6,
        900.0,
    )
    narrator = llm.narrator()
    assert narrator.kind == "anthropic" and narrator.breaker.refusal() is None
    assert llm_resource(Settings(home=tmp_path)).narrator().kind == "offline"
