"""OpenAI narrator: the Responses API through the SDK's structured-output helper (`responses.parse` with the
`Narrative` pydantic model as `text_format`), `store=False`. Budget, cache, redaction, breaker and fallback live in
`RemoteNarrator`; this module sends one request and classifies what came back."""

from __future__ import annotations

from typing import Any

import openai
import pydantic
from openai import OpenAI

from diagnostics.breaker import CircuitBreaker
from diagnostics.narrative import INSTRUCTIONS, Narrative
from diagnostics.remote import ProviderFailure, RemoteNarrator, Reply, non_json_reply

# Statuses that say the provider (or the path to it) is in trouble, not that our request was wrong.
TRANSPORT_STATUSES = (408, 409, 429)


def status_failure(exc: Any) -> ProviderFailure:
    """An SDK status error (OpenAI's or Anthropic's: the same shape) as a ProviderFailure."""
    status = int(exc.status_code)
    transport = status >= 500 or status in TRANSPORT_STATUSES
    return ProviderFailure(f"http_{status}", str(getattr(exc, "message", exc)), transport=transport)


class OpenAINarrator(RemoteNarrator):
    kind = "openai"

    def __init__(
        self,
        client: OpenAI,
        *,
        model: str,
        budget_tokens: int,
        redact_names: bool,
        max_output_tokens: int = 700,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        super().__init__(
            model=model,
            budget_tokens=budget_tokens,
            redact_names=redact_names,
            max_output_tokens=max_output_tokens,
            breaker=breaker,
        )
        self._client = client

    def _send(self, text: str) -> Reply:
        try:
            raw = self._client.responses.with_raw_response.parse(
                model=self.model,
                instructions=INSTRUCTIONS,
                input=text,
                text_format=Narrative,
                store=False,  # not kept by the provider (rule 8: not for training or storage)
                max_output_tokens=self.max_output_tokens,
            )
        except openai.APITimeoutError as exc:
            raise ProviderFailure("timeout", str(exc), transport=True) from exc
        except openai.APIConnectionError as exc:
            raise ProviderFailure("connection_error", str(exc), transport=True) from exc
        except openai.APIStatusError as exc:
            raise status_failure(exc) from exc
        http = raw.http_response
        bad = non_json_reply(http.headers.get("content-type"), http.content)
        if bad is not None:
            raise ProviderFailure("bad_reply", bad, transport=True)
        try:
            data = http.json()
        except ValueError as exc:
            raise ProviderFailure("bad_reply", f"reply is not valid JSON: {exc}", transport=True) from exc
        usage = data.get("usage") or {}
        tokens = {
            "input_tokens": int(usage.get("input_tokens") or 0),
            "output_tokens": int(usage.get("output_tokens") or 0),
        }
        if data.get("status") == "incomplete":
            reason = (data.get("incomplete_details") or {}).get("reason") or "unknown reason"
            raise ProviderFailure("incomplete", reason, transport=False, **tokens)
        for item in data.get("output") or []:
            for content in item.get("content") or []:
                if content.get("type") == "refusal":
                    raise ProviderFailure("refusal", content.get("refusal") or "", transport=False, **tokens)
        try:
            parsed = raw.parse().output_parsed
        except pydantic.ValidationError as exc:
            raise ProviderFailure("invalid_output", str(exc), transport=False, **tokens) from exc
        if parsed is None:
            raise ProviderFailure("invalid_output", "no output text", transport=False, **tokens)
        return Reply(parsed, data.get("model") or self.model, **tokens)
