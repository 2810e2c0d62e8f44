"""The narrative schema every narrator returns, and what a finding looks like on its way to a provider.

Privacy (architecture rule 8): a provider receives `build_payload(finding)` and the fixed instructions, nothing else.
The payload holds the finding's aggregated window metrics, the entity's level, id and name, the breakdown cell, the
currency and the window dates: no rows, no workspace id, no tokens. Names are scrubbed of anything token-shaped and,
with `redact_names`, names and ids are replaced by stable pseudonyms that are mapped back before storage.
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


def pseudonym(workspace_id: str, level: str, object_id: str, kind: str = "name") -> str:
    """Stable per object (the same alias on every night, so the cache still hits), meaningless outside. `kind`
    "name" gives `adset-3fa2b1c9`, "id" gives `adset-id-3fa2b1c9` (never a substring of the name's alias)."""
    digest = hashlib.sha256(f"{workspace_id}\x1f{level}\x1f{object_id}".encode()).hexdigest()[:8]
    return f"{level}-{digest}" if kind == "name" else f"{level}-{kind}-{digest}"


@dataclass(frozen=True)
class Payload:
    body: dict[str, Any]
    # pseudonym -> real name or id, to restore them in the narrative that comes back
    names: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(self.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def build_payload(finding: Finding, *, redact_names: bool) -> Payload:
    """What a provider receives for `finding`. With `redact_names`, the entity's name AND its id (an ad account's
    `act_...` included) leave as pseudonyms, and any of the finding's ids found in a context string is replaced too."""
    names: dict[str, str] = {}
    entity = finding.entity
    name, entity_id = entity.name, entity.id
    if redact_names:
        id_alias = pseudonym(finding.workspace_id, entity.level, entity.id, "id")
        names[id_alias] = entity.id
        entity_id = id_alias
        if name is not None:
            alias = pseudonym(finding.workspace_id, entity.level, entity.id)
            names[alias] = name
            name = alias
    elif name is not None:
        name = scrub(name)
    context = {k: v for k, v in finding.context}
    if redact_names:
        ids = {finding.account_id, finding.campaign_id, finding.adset_id, entity.id} - {None, ""}
        context = {k: _without_ids(v, ids) for k, v in context.items()}
    body: dict[str, Any] = {
        "finding_type": finding.finding_type,
        "severity": finding.severity,
        "entity": {"level": entity.level, "id": entity_id, "name": name},
        "breakdown": ({k: scrub(v) for k, v in entity.breakdown} if entity.breakdown is not None else None),
        "currency": finding.currency,
        "windows": {
            "current": finding.period.as_list(),
            "previous": finding.previous.as_list() if finding.previous else None,
            "trailing": finding.trailing.as_list() if finding.trailing else None,
        },
        "evidence": finding.evidence_dicts(),
        "context": context,
    }
    return Payload(body, names)


def _without_ids(value: Any, ids: set[str]) -> Any:
    if not isinstance(value, str):
        return value
    for object_id in sorted(ids, key=len, reverse=True):
        value = value.replace(object_id, "[id]")
    return value


def restore_names(narrative: Narrative, names: dict[str, str]) -> Narrative:
    if not names:
        return narrative
    # longest alias first, so an alias that is a prefix of another never clips it
    ordered = sorted(names.items(), key=lambda kv: len(kv[0]), reverse=True)

    def put_back(text: str) -> str:
        for alias, real in ordered:
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
Refer to the entity by the name and id given, even when they look like codes (they may be pseudonyms)."""

# The prompt version moves with the instructions and the schema by construction: editing either invalidates the cache.
# The providers' SDKs derive the request schema from the same pydantic model (`text_format` / `output_format`).
PROMPT_VERSION = (
    "p1-"
    + hashlib.sha256((INSTRUCTIONS + json.dumps(Narrative.model_json_schema(), sort_keys=True)).encode()).hexdigest()[
        :10
    ]
)
