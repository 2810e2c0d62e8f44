"""The narrator interface, what a narration yields, and `build_narrator` (the orchestrator's one way in).

A narrator turns findings into `Narrative`s. It is given the whole night's findings of one workspace at once, so
per-night limits (the token budget, the circuit breaker) live in one call and never leak across workspaces, and it
must never raise for a provider's sake: every finding comes back with a narrative, the model's or the offline one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from diagnostics.narrative import Narrative

if TYPE_CHECKING:
    from diagnostics.findings import Finding

Provider = Literal["offline", "openai", "offline-fallback"]


@dataclass(frozen=True)
class NarrationOutcome:
    narrative: Narrative
    provider: Provider
    model: str
    prompt_version: str
    # the cache key: hash of the exact narrator input + prompt version + model (for a fallback: of the request the
    # provider did not answer, so the row shows what was attempted)
    input_hash: str
    fallback_reason: str | None = None
    cached: bool = False  # reused from an earlier stored narrative: nothing was sent
    requested: bool = False  # a request left the process for this finding
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class CachedNarrative:
    narrative: Narrative
    model: str
    prompt_version: str


class Narrator(Protocol):
    kind: str
    model: str
    prompt_version: str
    # True when earlier stored narratives should be offered as a cache (remote narrators: they cost tokens)
    uses_cache: bool

    def narrate(
        self, findings: Sequence[Finding], cache: Mapping[str, CachedNarrative] | None = None
    ) -> list[NarrationOutcome]:
        """One outcome per finding, in order. Never raises because of the provider."""
        ...

    def narrative(self, finding: Finding) -> Narrative:
        """The offline narrative of `finding` (what a fallback stores)."""
        ...


DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"


def build_narrator(
    kind: Literal["offline", "openai"] = "offline",
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    model: str = "gpt-4.1-mini",
    timeout_s: float = 30.0,
    max_retries: int = 2,
    budget_tokens: int = 50_000,
    redact_names: bool = False,
    max_output_tokens: int = 700,
) -> Narrator:
    """The narrator for `SENTRUM_LLM`. The orchestrator reads the settings and passes the values; this package never
    reads the environment (so `base_url` is always given to the SDK explicitly, and a missing key is an error here
    rather than the SDK quietly picking one up from the environment).

    `budget_tokens`: tokens (input + output) one `narrate` call (one workspace, one night) may spend; findings beyond
    it are narrated offline. `redact_names`: object names leave the process as stable pseudonyms."""
    from diagnostics.offline import OfflineNarrator

    if kind == "offline":
        return OfflineNarrator()
    if kind != "openai":
        raise ValueError(f"unknown narrator kind {kind!r}: 'offline' or 'openai'")
    if not api_key:
        raise ValueError("the openai narrator needs an API key (OPENAI_API_KEY); use kind='offline' without one")
    if timeout_s <= 0 or max_retries < 0 or budget_tokens < 0 or max_output_tokens <= 0:
        raise ValueError("timeout_s > 0, max_retries >= 0, budget_tokens >= 0 and max_output_tokens > 0")

    # Imported here: the SDK costs a second of import time that offline runs do not need.
    from openai import OpenAI

    from diagnostics.openai_narrator import OpenAINarrator

    client = OpenAI(
        api_key=api_key, base_url=base_url or DEFAULT_OPENAI_BASE_URL, timeout=timeout_s, max_retries=max_retries
    )
    return OpenAINarrator(
        client,
        model=model,
        budget_tokens=budget_tokens,
        redact_names=redact_names,
        max_output_tokens=max_output_tokens,
    )
