"""Anthropic narrator: the Messages API with structured JSON output. `output_config.format` is the JSON schema the
SDK's own helper (`anthropic.transform_schema`, what `messages.parse(output_format=...)` uses) derives from the
`Narrative` pydantic model, and the reply is validated against that model: the same schema, instructions and payload
as OpenAI. The raw response is read first, so an HTML error page counts as a transport failure (the SDK's `parse`
has no raw-response form, hence `create` with the helper's schema).

Anthropic does not train on API inputs or outputs under its commercial terms, so there is no flag to send; nothing
else (no `metadata.user_id`, no tools) goes with the request. Budget, cache, redaction, breaker and fallback live in
`RemoteNarrator`."""

from __future__ import annotations

import anthropic
import pydantic
from anthropic import Anthropic

from diagnostics.breaker import CircuitBreaker
from diagnostics.narrative import INSTRUCTIONS, Narrative
from diagnostics.openai_narrator import status_failure
from diagnostics.remote import ProviderFailure, RemoteNarrator, Reply, non_json_reply

# Anthropic's own "overloaded" status (529) is >= 500: a transport failure like any 5xx.
SCHEMA = anthropic.transform_schema(Narrative)


class AnthropicNarrator(RemoteNarrator):
    kind = "anthropic"

    def __init__(
        self,
        client: Anthropic,
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
            raw = self._client.messages.with_raw_response.create(
                model=self.model,
                max_tokens=self.max_output_tokens,
                system=INSTRUCTIONS,
                messages=[{"role": "user", "content": text}],
                output_config={"format": {"type": "json_schema", "schema": SCHEMA}},
            )
        except anthropic.APITimeoutError as exc:
            raise ProviderFailure("timeout", str(exc), transport=True) from exc
        except anthropic.APIConnectionError as exc:
            raise ProviderFailure("connection_error", str(exc), transport=True) from exc
        except anthropic.APIStatusError as exc:
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
        stop = data.get("stop_reason")
        if stop == "refusal":
            raise ProviderFailure("refusal", "the model declined", transport=False, **tokens)
        if stop == "max_tokens":
            raise ProviderFailure("incomplete", "max_tokens", transport=False, **tokens)
        texts = [b.get("text") or "" for b in data.get("content") or [] if b.get("type") == "text"]
        if not texts:
            raise ProviderFailure("invalid_output", "no text block", transport=False, **tokens)
        try:
            parsed = Narrative.model_validate_json("".join(texts))
        except pydantic.ValidationError as exc:
            raise ProviderFailure("invalid_output", str(exc), transport=False, **tokens) from exc
        return Reply(parsed, data.get("model") or self.model, **tokens)
