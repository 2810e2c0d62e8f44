"""What every provider-backed narrator shares: the night's token budget, the cache, redaction, the run's circuit
breaker and the per-finding offline fallback. A provider subclass only sends one request (`_send`) and says what
came back: a `Reply`, or a `ProviderFailure` with its code and whether it was the transport's fault.

Never fatal: anything the provider does wrong (an error status, a timeout, an HTML page instead of JSON, output that
does not match the schema, a refusal, the night's budget spent, the breaker open) turns into the offline narrative for
that finding with `provider="offline-fallback"` and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from diagnostics.breaker import CircuitBreaker
from diagnostics.findings import Finding
from diagnostics.narrative import (
    INSTRUCTIONS,
    PROMPT_VERSION,
    Narrative,
    build_payload,
    check_narrative,
    input_hash,
    restore_names,
)
from diagnostics.narrators import CachedNarrative, NarrationOutcome
from diagnostics.offline import OfflineNarrator

log = logging.getLogger(__name__)

# Transport failures in a row (across the run) after which the rest of the run goes offline without trying.
BREAKER_FAILURES = 2
_REASON_CHARS = 300


class ProviderFailure(Exception):
    """The provider did not give a usable narrative. `transport`: the provider or the path to it failed (timeouts,
    5xx, 429, connection errors, a reply that is not JSON), which counts towards the breaker; a bad answer from a
    working provider (wrong schema, refusal) does not."""

    def __init__(
        self, code: str, detail: str, *, transport: bool, input_tokens: int = 0, output_tokens: int = 0
    ) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
        self.transport = transport
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens


@dataclass(frozen=True)
class Reply:
    narrative: Narrative
    model: str
    input_tokens: int
    output_tokens: int


def estimate_tokens(text: str) -> int:
    """A cautious token estimate before sending (JSON with numbers runs ~3 characters a token)."""
    return len(text) // 3 + 1


def non_json_reply(content_type: str | None, body: bytes) -> str | None:
    """Why an HTTP 2xx reply is not a JSON document (an HTML error page from a proxy, a captive portal, plain
    text), or None when it is one."""
    kind = (content_type or "").split(";")[0].strip().lower()
    head = body.lstrip()[:1]
    if not kind.endswith("json"):
        return f"reply is {kind or 'untyped'}, not JSON ({len(body)} bytes)"
    if head not in (b"{", b"["):
        return f"reply says JSON but is not ({len(body)} bytes)"
    return None


class RemoteNarrator:
    """Base of the provider narrators. One instance per run: its breaker is shared by every workspace it narrates,
    while the token budget is per `narrate` call (one workspace, one night). `narrate` may run in several threads at
    once (one workspace each); the breaker is the only shared state and it locks."""

    kind = "remote"
    uses_cache = True
    prompt_version = PROMPT_VERSION

    def __init__(
        self,
        *,
        model: str,
        budget_tokens: int,
        redact_names: bool,
        max_output_tokens: int = 700,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.model = model
        self.budget_tokens = budget_tokens
        self.redact_names = redact_names
        self.max_output_tokens = max_output_tokens
        self.breaker = breaker or CircuitBreaker(BREAKER_FAILURES)
        self._offline = OfflineNarrator()

    def _send(self, text: str) -> Reply:
        """One request with the finding payload `text`; raises ProviderFailure."""
        raise NotImplementedError

    def narrative(self, finding: Finding) -> Narrative:
        return self._offline.narrative(finding)

    def narrate(
        self, findings: Sequence[Finding], cache: Mapping[str, CachedNarrative] | None = None
    ) -> list[NarrationOutcome]:
        cache = cache or {}
        used = 0
        exhausted = False  # once the budget stops one request, the rest of the night is offline
        outcomes: dict[int, NarrationOutcome] = {}
        # Spend the budget on the most severe findings first; outcomes go back in the caller's order.
        for i in sorted(range(len(findings)), key=lambda i: findings[i].sort_key()):
            finding = findings[i]
            payload = build_payload(finding, redact_names=self.redact_names)
            text = payload.to_json()
            key = input_hash(text, self.prompt_version, self.model)
            hit = cache.get(key)
            if hit is not None:
                outcomes[i] = NarrationOutcome(
                    narrative=hit.narrative,
                    provider=self.kind,  # type: ignore[arg-type]
                    model=hit.model,
                    prompt_version=hit.prompt_version,
                    input_hash=key,
                    cached=True,
                )
                continue
            refusal = self.breaker.refusal()
            if refusal is not None:
                outcomes[i] = self._fallback(finding, key, refusal)
                continue
            estimate = estimate_tokens(INSTRUCTIONS + text) + self.max_output_tokens
            if exhausted or used + estimate > self.budget_tokens:
                exhausted = True
                reason = f"budget_exhausted: {used} of {self.budget_tokens} tokens used, next needs ~{estimate}"
                outcomes[i] = self._fallback(finding, key, reason)
                continue
            outcome = self._call(finding, text, key, payload.names, estimate - self.max_output_tokens)
            used += outcome.input_tokens + outcome.output_tokens
            outcomes[i] = outcome
        return [outcomes[i] for i in range(len(findings))]

    def _call(
        self, finding: Finding, text: str, key: str, names: dict[str, str], prompt_tokens: int
    ) -> NarrationOutcome:
        try:
            reply = self._send(text)
            narrative = check_narrative(reply.narrative)
        except ProviderFailure as exc:
            if exc.transport:
                self.breaker.failure(exc.code)
            else:
                self.breaker.success()  # the provider answered: it is up
            # A timeout may have been processed (and billed): count its prompt against the budget.
            tokens_in = exc.input_tokens or (prompt_tokens if exc.code == "timeout" else 0)
            return self._fallback(
                finding,
                key,
                f"{exc.code}: {exc.detail}",
                requested=True,
                input_tokens=tokens_in,
                output_tokens=exc.output_tokens,
            )
        except ValueError as exc:  # check_narrative: empty or over-long fields
            self.breaker.success()
            return self._fallback(
                finding,
                key,
                f"invalid_output: {exc}",
                requested=True,
                input_tokens=reply.input_tokens,
                output_tokens=reply.output_tokens,
            )
        except Exception as exc:  # noqa: BLE001 - a provider problem must never fail the night
            log.warning("%s narrator: unexpected %s", self.kind, type(exc).__name__, exc_info=True)
            self.breaker.failure("unexpected")
            return self._fallback(finding, key, f"unexpected: {type(exc).__name__}: {exc}", requested=True)
        self.breaker.success()
        return NarrationOutcome(
            narrative=restore_names(narrative, names),
            provider=self.kind,  # type: ignore[arg-type]
            model=reply.model or self.model,
            prompt_version=self.prompt_version,
            input_hash=key,
            requested=True,
            input_tokens=reply.input_tokens,
            output_tokens=reply.output_tokens,
        )

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
        log.info("%s narrator: finding %s narrated offline (%s)", self.kind, finding.finding_id, reason)
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
