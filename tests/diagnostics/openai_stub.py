"""Local stand-ins for the providers' APIs: real HTTP on 127.0.0.1, so the real `openai` and `anthropic` SDKs are
exercised end to end. Each records every request (path, headers, raw body) and answers from a script of behaviours:

ok            a schema-valid narrative that names the entity it was given (so name restoration can be checked)
invalid_json  output text that is not JSON
wrong_schema  JSON missing required fields
refusal       a refusal instead of output text
incomplete    the output budget ran out (truncated JSON)
http_500      an error status (with `retry-after-ms: 0`, so SDK retries do not slow the tests)
html          status 200 with an HTML error page (a proxy or captive portal in the way)
html_502      status 502 with an HTML error page (a load balancer in front of a dead provider)
slow          answers only after `slow_seconds` (longer than the client's timeout)
hang          never answers while the stub runs (a provider that hangs); released when the stub stops

`ResponsesStub` speaks OpenAI's Responses API (`POST /v1/responses`), `MessagesStub` Anthropic's Messages API
(`POST /v1/messages`).
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HTML_PAGE = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"


@dataclass(frozen=True)
class Recorded:
    path: str
    headers: dict[str, str]  # names lower-cased
    raw: bytes

    @property
    def body(self) -> dict[str, Any]:
        return json.loads(self.raw)

    @property
    def payload(self) -> dict[str, Any]:
        """The finding payload the narrator sent (Responses `input`, or the Messages user turn)."""
        body = self.body
        if "input" in body:
            return json.loads(body["input"])
        return json.loads(body["messages"][0]["content"])


def narrative_text(payload: dict[str, Any]) -> str:
    name = payload["entity"]["name"] or payload["entity"]["id"]
    return json.dumps(
        {
            "summary": f"{name}: {payload['finding_type']} needs attention.",
            "likely_causes": [f"Something changed in {name} ({payload['entity']['id']})."],
            "recommended_actions": ["Review recent edits."],
            "confidence": "medium",
        }
    )


BAD_TEXT = {
    "invalid_json": "Sure! Here is the analysis: the CPA went up.",
    "wrong_schema": json.dumps({"summary": "only a summary"}),
    "incomplete": '{"summary": "The CPA of',  # cut off mid-answer
    "refusal": "",
}


class _Stub:
    path = "/"

    def __init__(self, default: str = "ok", slow_seconds: float = 2.0, max_seconds: float = 120.0) -> None:
        self.default = default
        self.script: deque[str] = deque()
        self.slow_seconds = slow_seconds
        self.max_seconds = max_seconds  # the serve loop ends on its own even if a test forgets to stop it
        self.requests: list[Recorded] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self.on_request: Callable[[Recorded], None] | None = None  # called as each request arrives
        self._lock = threading.Lock()
        self._stop = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                recorded = Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
                with stub._lock:
                    stub.requests.append(recorded)
                    stub.in_flight += 1
                    stub.peak_in_flight = max(stub.peak_in_flight, stub.in_flight)
                    mode = stub.script.popleft() if stub.script else stub.default
                try:
                    if stub.on_request is not None:
                        stub.on_request(recorded)
                    self._answer(raw, mode)
                finally:
                    with stub._lock:
                        stub.in_flight -= 1

            def _answer(self, raw: bytes, mode: str) -> None:
                if self.path != stub.path:
                    return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                if mode == "http_500":
                    return self._send(500, {"error": {"message": "stub failure", "type": "server_error"}})
                if mode in ("html", "html_502"):
                    return self._send_raw(200 if mode == "html" else 502, HTML_PAGE, "text/html; charset=utf-8")
                if mode == "slow":
                    stub._stop.wait(stub.slow_seconds)
                if mode == "hang":
                    stub._stop.wait(stub.max_seconds)
                    return
                # the client may have given up (timeout): expected for "slow"
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(200, stub.response(json.loads(raw), mode))

            def _send(self, status: int, body: dict[str, Any]) -> None:
                self._send_raw(status, json.dumps(body).encode(), "application/json")

            def _send_raw(self, status: int, data: bytes, content_type: str) -> None:
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.send_response(status)
                    self.send_header("content-type", content_type)
                    self.send_header("content-length", str(len(data)))
                    self.send_header("retry-after-ms", "0")
                    self.end_headers()
                    self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.timeout = 0.05
        self._thread = threading.Thread(target=self._serve, name=type(self).__name__, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def _serve(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            self._server.handle_request()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # releases hanging handlers too
        self._thread.join(timeout=5)
        self._server.server_close()

    def response(self, request: dict[str, Any], mode: str) -> dict[str, Any]:
        raise NotImplementedError


class ResponsesStub(_Stub):
    path = "/v1/responses"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def response(self, request: dict[str, Any], mode: str) -> dict[str, Any]:
        payload = json.loads(request["input"])
        text = narrative_text(payload) if mode in ("ok", "slow") else BAD_TEXT[mode]
        content: dict[str, Any] = (
            {"type": "refusal", "refusal": "I can't help with that."}
            if mode == "refusal"
            else {"type": "output_text", "text": text, "annotations": []}
        )
        in_tokens = len(request["input"]) // 4 + len(request.get("instructions", "")) // 4
        return {
            "id": f"resp_{len(self.requests)}",
            "object": "response",
            "created_at": 1764200000,
            "status": "incomplete" if mode == "incomplete" else "completed",
            "incomplete_details": {"reason": "max_output_tokens"} if mode == "incomplete" else None,
            "model": request["model"],
            "output": [
                {"type": "message", "id": "msg_1", "status": "completed", "role": "assistant", "content": [content]}
            ],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": in_tokens,
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens": 60,
                "output_tokens_details": {"reasoning_tokens": 0},
                "total_tokens": in_tokens + 60,
            },
        }


class MessagesStub(_Stub):
    path = "/v1/messages"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def response(self, request: dict[str, Any], mode: str) -> dict[str, Any]:
        payload = json.loads(request["messages"][0]["content"])
        text = narrative_text(payload) if mode in ("ok", "slow") else BAD_TEXT[mode]
        stop = {"refusal": "refusal", "incomplete": "max_tokens"}.get(mode, "end_turn")
        content = [] if mode == "refusal" else [{"type": "text", "text": text}]
        in_tokens = len(request["messages"][0]["content"]) // 4 + len(request.get("system", "")) // 4
        return {
            "id": f"msg_{len(self.requests)}",
            "type": "message",
            "role": "assistant",
            "model": request["model"],
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": in_tokens, "output_tokens": 55},
        }
