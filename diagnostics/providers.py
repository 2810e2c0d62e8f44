"""`build_narrator`: the orchestrator's one way to a narrator (offline, OpenAI or Anthropic), built once per run."""

from __future__ import annotations

from typing import Literal

from diagnostics.narrators import Narrator

DEFAULT_OPENAI_BASE_URL = "https://api.openai.com/v1"
DEFAULT_ANTHROPIC_BASE_URL = "https://api.anthropic.com"
DEFAULT_MODELS = {"openai": "gpt-4.1-mini", "anthropic": "claude-haiku-4-5"}
KINDS = ("offline", "openai", "anthropic")


def build_narrator(
    kind: Literal["offline", "openai", "anthropic"] = "offline",
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    model: str | None = None,
    timeout_s: float = 30.0,
    max_retries: int = 2,
    budget_tokens: int = 50_000,
    redact_names: bool = False,
    max_output_tokens: int = 700,
    breaker_failures: int = 2,
    deadline_s: float | None = None,
) -> Narrator:
    """The narrator for `SENTRUM_LLM`, built once per run. The orchestrator reads the settings and passes the values;
    this package never reads the environment (so `base_url` is always given to the SDK explicitly, and a missing key
    is an error here rather than the SDK quietly picking one up from the environment).

    `budget_tokens`: tokens (input + output) one `narrate` call (one workspace, one night) may spend; findings beyond
    it are narrated offline. `redact_names`: object names and ids leave the process as stable pseudonyms.
    `breaker_failures`: transport failures in a row, across every workspace of the run, after which the rest of the
    run is narrated offline. `deadline_s`: the run's narration slot, from now; past it nothing more is sent."""
    from diagnostics.offline import OfflineNarrator

    if kind == "offline":
        return OfflineNarrator()
    if kind not in KINDS:
        raise ValueError(f"unknown narrator kind {kind!r}: one of {', '.join(KINDS)}")
    if not api_key:
        env = "OPENAI_API_KEY" if kind == "openai" else "ANTHROPIC_API_KEY"
        raise ValueError(f"the {kind} narrator needs an API key ({env}); use kind='offline' without one")
    if timeout_s <= 0 or max_retries < 0 or budget_tokens < 0 or max_output_tokens <= 0:
        raise ValueError("timeout_s > 0, max_retries >= 0, budget_tokens >= 0 and max_output_tokens > 0")

    from diagnostics.breaker import CircuitBreaker

    breaker = CircuitBreaker(breaker_failures, deadline_s=deadline_s)
    common = {
        "model": model or DEFAULT_MODELS[kind],
        "budget_tokens": budget_tokens,
        "redact_names": redact_names,
        "max_output_tokens": max_output_tokens,
        "breaker": breaker,
    }
    # SDKs imported here: each costs a second of import time that offline runs do not need.
    if kind == "openai":
        from openai import OpenAI

        from diagnostics.openai_narrator import OpenAINarrator

        client = OpenAI(
            api_key=api_key, base_url=base_url or DEFAULT_OPENAI_BASE_URL, timeout=timeout_s, max_retries=max_retries
        )
        return OpenAINarrator(client, **common)  # type: ignore[arg-type]

    from anthropic import Anthropic

    from diagnostics.anthropic_narrator import AnthropicNarrator

    aclient = Anthropic(
        api_key=api_key, base_url=base_url or DEFAULT_ANTHROPIC_BASE_URL, timeout=timeout_s, max_retries=max_retries
    )
    return AnthropicNarrator(aclient, **common)  # type: ignore[arg-type]
