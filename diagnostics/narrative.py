"""The narrative schema every narrator returns, and what a finding looks like on its way to a provider.

Privacy (architecture rule 8): a provider receives `build_payload(finding)` and the fixed instructions, nothing else.
The payload holds the finding's aggregated window metrics, the entity's level, id and name, the breakdown cell, the
currency and the window dates: no rows, no workspace id, no tokens. Names are scrubbed of anything token-shaped and,
with `redact_names`, replaced by stable pseudonyms that are mapped back before storage.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from diagnostics.findings import Finding

Confidence = Literal["low", "medium", "high"]


class Narrative(BaseModel):
    """What a media buyer reads next to a finding. The same schema for the model's structured output and the
    offline templates."""

    model_config = ConfigDict(extra="forbid")

    summary: str = Field(description="Two or three sentences: what changed, by how much, for which entity and period.")
    likely_causes: list[str] = Field(
        description="One to four likely causes, most likely first, grounded in the numbers."
    )
    recommended_actions: list[str] = Field(description="One to four concrete actions in Meta Ads Manager, first first.")
    confidence: Confidence = Field(description="How well the numbers given support the causes named.")


# Limits the schema cannot express in strict mode; output outside them is treated as invalid (offline fallback).
MAX_SUMMARY_CHARS = 1200
MAX_ITEM_CHARS = 400
MAX_ITEMS = 6


def check_narrative(narrative: Narrative) -> Narrative:
    if not narrative.summary.strip() or len(narrative.summary) > MAX_SUMMARY_CHARS:
        raise ValueError(f"summary must be 1..{MAX_SUMMARY_CHARS} characters")
    for name in ("likely_causes", "recommended_actions"):
        items = getattr(narrative, name)
        if not 1 <= len(items) <= MAX_ITEMS or any(not i.strip() or len(i) > MAX_ITEM_CHARS for i in items):
            raise ValueError(f"{name} must hold 1..{MAX_ITEMS} non-empty items of at most {MAX_ITEM_CHARS} characters")
    return narrative


def strict_json_schema() -> dict[str, Any]:
    """The Narrative's JSON schema in the shape strict structured output requires: every property required,
    no additional properties, no titles or defaults the API would reject."""
    schema = Narrative.model_json_schema()
    props = {
        name: {k: v for k, v in spec.items() if k not in ("title", "default")}
        for name, spec in schema["properties"].items()
    }
    return {"type": "object", "properties": props, "required": list(props), "additionalProperties": False}


# -- privacy ---------------------------------------------------------------------------------------------------------
_SECRET_PATTERNS = (
    re.compile(r"EAA[A-Za-z0-9]{16,}"),  # Meta user / system-user access tokens
    re.compile(r"\bsk-[A-Za-z0-9_\-]{16,}"),  # OpenAI-style API keys
    # Any other long run of mixed letters and digits (hex secrets, JWT parts); object ids are digits only.
    re.compile(r"(?=[A-Za-z0-9_\-]*[A-Za-z])(?=[A-Za-z0-9_\-]*[0-9])[A-Za-z0-9_\-]{32,}"),
)
REDACTED = "[redacted]"


def scrub(text: str) -> str:
    """`text` with anything shaped like a credential replaced: names are typed by people, and people paste."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(REDACTED, text)
    return text


def pseudonym(workspace_id: str, level: str, object_id: str) -> str:
    """Stable per object (the same name on every night, so the cache still hits), meaningless outside."""
    digest = hashlib.sha256(f"{workspace_id}\x1f{level}\x1f{object_id}".encode()).hexdigest()[:8]
    return f"{level}-{digest}"


@dataclass(frozen=True)
class Payload:
    body: dict[str, Any]
    # pseudonym -> real name, to restore names in the narrative that comes back
    names: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(self.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def build_payload(finding: Finding, *, redact_names: bool) -> Payload:
    names: dict[str, str] = {}
    name = finding.entity.name
    if name is not None:
        if redact_names:
            alias = pseudonym(finding.workspace_id, finding.entity.level, finding.entity.id)
            names[alias] = name
            name = alias
        else:
            name = scrub(name)
    body: dict[str, Any] = {
        "finding_type": finding.finding_type,
        "severity": finding.severity,
        "entity": {"level": finding.entity.level, "id": finding.entity.id, "name": name},
        "breakdown": (
            {k: scrub(v) for k, v in finding.entity.breakdown} if finding.entity.breakdown is not None else None
        ),
        "currency": finding.currency,
        "windows": {
            "current": finding.period.as_list(),
            "previous": finding.previous.as_list() if finding.previous else None,
            "trailing": finding.trailing.as_list() if finding.trailing else None,
        },
        "evidence": finding.evidence_dicts(),
        "context": {k: v for k, v in finding.context},
    }
    return Payload(body, names)


def restore_names(narrative: Narrative, names: dict[str, str]) -> Narrative:
    if not names:
        return narrative

    def put_back(text: str) -> str:
        for alias, real in names.items():
            text = text.replace(alias, real)
        return text

    return Narrative(
        summary=put_back(narrative.summary),
        likely_causes=[put_back(c) for c in narrative.likely_causes],
        recommended_actions=[put_back(a) for a in narrative.recommended_actions],
        confidence=narrative.confidence,
    )


def input_hash(payload_json: str, prompt_version: str, model: str) -> str:
    """Cache key of a narration: the exact input, the prompt version and the model."""
    return hashlib.sha256(f"{prompt_version}\x1f{model}\x1f{payload_json}".encode()).hexdigest()


INSTRUCTIONS = """\
You are a senior Meta Ads media buyer explaining one automatically detected finding to a colleague.
The input is a JSON object: finding_type, severity, the entity (level, id, name), an optional breakdown cell,
the account currency, the windows compared (current, previous, trailing; inclusive dates in the account's timezone)
and evidence metrics with their values per window. Ratios are fractions (0.012 = 1.2%); metrics named *_change*
are signed relative changes (-0.3 = 30% lower than the baseline). Conversion-based findings
compare matured windows: the newest days are left out because their conversions are still arriving.
Use only the numbers given; do not invent figures, dates or causes the numbers cannot support.
Write a short summary (what changed, by how much, where, when), likely causes (most likely first) and concrete
actions in Meta Ads Manager. Set confidence to how well the evidence supports the causes you name.
Refer to the entity by the name given, even when it looks like a code."""

# The prompt version moves with the instructions and the schema by construction: editing either invalidates the cache.
PROMPT_VERSION = (
    "p1-" + hashlib.sha256((INSTRUCTIONS + json.dumps(strict_json_schema(), sort_keys=True)).encode()).hexdigest()[:10]
)
