"""The narrator interface and what a narration yields (`build_narrator`, in providers.py, makes one).

A narrator turns findings into `Narrative`s. It is given the whole night's findings of one workspace at once, so the
workspace's token budget lives in one call and never leaks across workspaces; one narrator serves a whole run, so its
circuit breaker is shared by every workspace of the run (a dead provider is found out once, not once per workspace).
`narrate` may be called from several threads at once (one workspace each). It must never
raise for a provider's sake: every finding comes back with a narrative, the model's or the offline one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from diagnostics.narrative import Narrative

if TYPE_CHECKING:
    from diagnostics.findings import Finding

Provider = Literal["offline", "openai", "anthropic", "offline-fallback"]


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
