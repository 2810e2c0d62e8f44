"""OpenAI narrator: the Responses API with strict structured output, `store=False`, budgeted, cached, and never
fatal. Anything the provider does wrong (an error status, a timeout, output that does not match the schema, a refusal,
the night's budget spent) turns into the offline narrative for that finding with `provider="offline-fallback"` and
the reason."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import openai
from openai import OpenAI

from diagnostics.findings import Finding
from diagnostics.narrative import (
    INSTRUCTIONS,
    PROMPT_VERSION,
    Narrative,
    build_payload,
    check_narrative,
    input_hash,
    restore_names,
    strict_json_schema,
)
from diagnostics.narrators import CachedNarrative, NarrationOutcome
from diagnostics.offline import OfflineNarrator

log = logging.getLogger(__name__)

SCHEMA_NAME = "finding_narrative"
# Consecutive transport failures (timeouts, 5xx, 429, connection) after which the rest of the night goes offline
# without trying: a provider that is down would otherwise cost timeout x retries per finding.
BREAKER_FAILURES = 2
_REASON_CHARS = 300


class UnusableOutput(Exception):
    """The provider answered, but not with a narrative we can store."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


def estimate_tokens(text: str) -> int:
    """A cautious token estimate before sending (JSON with numbers runs ~3 characters a token)."""
    return len(text) // 3 + 1


class OpenAINarrator:
    kind = "openai"
    uses_cache = True
    prompt_version = PROMPT_VERSION

    def __init__(
        self,
        client: OpenAI,
        *,
        model: str,
        budget_tokens: int,
        redact_names: bool,
        max_output_tokens: int = 700,
        breaker_failures: int = BREAKER_FAILURES,
    ) -> None:
        self._client = client
        self.model = model
        self.budget_tokens = budget_tokens
        self.redact_names = redact_names
        self.max_output_tokens = max_output_tokens
        self.breaker_failures = breaker_failures
        self._offline = OfflineNarrator()
        self._format: dict[str, Any] = {
            "type": "json_schema",
            "name": SCHEMA_NAME,
            "strict": True,
            "schema": strict_json_schema(),
        }

    def narrative(self, finding: Finding) -> Narrative:
        return self._offline.narrative(finding)

    def narrate(
        self, findings: Sequence[Finding], cache: Mapping[str, CachedNarrative] | None = None
    ) -> list[NarrationOutcome]:
        cache = cache or {}
        used = 0
        exhausted = False  # once the budget stops one request, the rest of the night is offline
        failures_in_a_row = 0
        outcomes: dict[int, NarrationOutcome] = {}
        # Spend the budget on the most severe findings first; outcomes go back in the callers' order.
        order = sorted(range(len(findings)), key=lambda i: findings[i].sort_key())
        for i in order:
            finding = findings[i]
            payload = build_payload(finding, redact_names=self.redact_names)
            text = payload.to_json()
            key = input_hash(text, self.prompt_version, self.model)
            hit = cache.get(key)
            if hit is not None:
                outcomes[i] = NarrationOutcome(
                    narrative=hit.narrative,
                    provider="openai",
                    model=hit.model,
                    prompt_version=hit.prompt_version,
                    input_hash=key,
                    cached=True,
                )
                continue
            if failures_in_a_row >= self.breaker_failures:
                outcomes[i] = self._fallback(
                    finding, key, f"provider_unavailable: {failures_in_a_row} failures in a row"
                )
                continue
            estimate = estimate_tokens(INSTRUCTIONS + text) + self.max_output_tokens
            if exhausted or used + estimate > self.budget_tokens:
                exhausted = True
                outcomes[i] = self._fallback(
                    finding,
                    key,
                    f"budget_exhausted: {used} of {self.budget_tokens} tokens used, next needs ~{estimate}",
                )
                continue
            outcome, transport_failure = self._call(finding, text, key, payload.names, estimate)
            used += outcome.input_tokens + outcome.output_tokens
            failures_in_a_row = failures_in_a_row + 1 if transport_failure else 0
            outcomes[i] = outcome
        return [outcomes[i] for i in range(len(findings))]

    def _call(
        self, finding: Finding, text: str, key: str, names: dict[str, str], estimate: int
    ) -> tuple[NarrationOutcome, bool]:
        """One request. Returns the outcome and whether the failure (if any) was the transport's."""
        prompt_tokens = estimate - self.max_output_tokens
        try:
            response = self._client.responses.create(
                model=self.model,
                instructions=INSTRUCTIONS,
                input=text,
                text={"format": self._format},  # type: ignore[typeddict-item]
                store=False,  # not kept by the provider (rule 8: not for training or storage)
                max_output_tokens=self.max_output_tokens,
            )
        except openai.APITimeoutError:
            # The provider may have processed (and billed) the prompt: count it against the budget.
            return self._fallback(finding, key, "timeout", requested=True, input_tokens=prompt_tokens), True
        except openai.APIConnectionError as exc:
            return self._fallback(finding, key, f"connection_error: {exc}", requested=True), True
        except openai.APIStatusError as exc:
            transport = exc.status_code >= 500 or exc.status_code in (408, 409, 429)
            reason = f"http_{exc.status_code}: {exc.message}"
            return self._fallback(finding, key, reason, requested=True), transport
        except Exception as exc:  # noqa: BLE001 - a provider problem must never fail the night
            log.warning("openai narrator: unexpected %s", type(exc).__name__, exc_info=True)
            return self._fallback(finding, key, f"unexpected: {type(exc).__name__}: {exc}", requested=True), True

        usage = getattr(response, "usage", None)
        in_tok = int(getattr(usage, "input_tokens", 0) or 0) if usage else prompt_tokens
        out_tok = int(getattr(usage, "output_tokens", 0) or 0) if usage else self.max_output_tokens
        try:
            narrative = self._parse(response)
        except UnusableOutput as exc:
            reason = f"{exc.code}: {exc.detail}"
        except Exception as exc:  # noqa: BLE001 - an answer of an unexpected shape is unusable, not fatal
            reason = f"invalid_output: {type(exc).__name__}: {exc}"
        else:
            return (
                NarrationOutcome(
                    narrative=restore_names(narrative, names),
                    provider="openai",
                    model=getattr(response, "model", None) or self.model,
                    prompt_version=self.prompt_version,
                    input_hash=key,
                    requested=True,
                    input_tokens=in_tok,
                    output_tokens=out_tok,
                ),
                False,
            )
        return self._fallback(finding, key, reason, requested=True, input_tokens=in_tok, output_tokens=out_tok), False

    @staticmethod
    def _parse(response: Any) -> Narrative:
        """The narrative in a completed response, checked against the schema and the length limits."""
        if getattr(response, "status", None) == "incomplete":
            details = getattr(response, "incomplete_details", None)
            raise UnusableOutput("incomplete", getattr(details, "reason", None) or "unknown reason")
        for item in response.output or []:
            for content in getattr(item, "content", None) or []:
                if getattr(content, "type", None) == "refusal":
                    raise UnusableOutput("refusal", getattr(content, "refusal", "") or "")
        text = response.output_text
        if not text:
            raise UnusableOutput("invalid_output", "no output text")
        try:
            return check_narrative(Narrative.model_validate_json(text))
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            raise UnusableOutput("invalid_output", str(exc)) from exc

    def _fallback(
        self,
        finding: Finding,
        key: str,
        reason: str,
        *,
        requested: bool = False,
        input_tokens: int = 0,
        output_tokens: int = 0,
    ) -> NarrationOutcome:
        reason = " ".join(reason.split())[:_REASON_CHARS]
        log.info("openai narrator: finding %s narrated offline (%s)", finding.finding_id, reason)
        return NarrationOutcome(
            narrative=self._offline.narrative(finding),
            provider="offline-fallback",
            model=self._offline.model,
            prompt_version=self._offline.prompt_version,
            input_hash=key,
            fallback_reason=reason,
            requested=requested,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )
