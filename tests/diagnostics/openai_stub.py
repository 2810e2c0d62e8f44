"""A local stand-in for OpenAI's Responses API: real HTTP on 127.0.0.1, so the real `openai` SDK is exercised end to
end. It records every request (path, headers, raw body) and answers from a script of behaviours:

ok            a schema-valid narrative that names the entity it was given (so name restoration can be checked)
invalid_json  output text that is not JSON
wrong_schema  JSON missing required fields
refusal       a refusal content item instead of output text
incomplete    status "incomplete" (max_output_tokens reached) with truncated JSON
http_500      an error status (with `retry-after-ms: 0`, so SDK retries do not slow the tests)
slow          answers only after `slow_seconds` (longer than the client's timeout)
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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
        """The finding payload the narrator sent as `input`."""
        return json.loads(self.body["input"])


class ResponsesStub:
    def __init__(self, default: str = "ok", slow_seconds: float = 2.0, max_seconds: float = 60.0) -> None:
        self.default = default
        self.script: deque[str] = deque()
        self.slow_seconds = slow_seconds
        self.max_seconds = max_seconds  # the serve loop ends on its own even if a test forgets to stop it
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                with stub._lock:
                    stub.requests.append(Recorded(self.path, {k.lower(): v for k, v in self.headers.items()}, raw))
                    mode = stub.script.popleft() if stub.script else stub.default
                if self.path != "/v1/responses":
                    return self._send(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
                if mode == "http_500":
                    return self._send(500, {"error": {"message": "stub failure", "type": "server_error"}})
                if mode == "slow":
                    stub._stop.wait(stub.slow_seconds)
                # the client may have given up (timeout): expected for "slow"
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self._send(200, stub.response(json.loads(raw), mode))

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.send_header("retry-after-ms", "0")
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.timeout = 0.05
        self._thread = threading.Thread(target=self._serve, name="responses-stub", daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def _serve(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            self._server.handle_request()

    def __enter__(self) -> ResponsesStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.server_close()

    def response(self, request: dict[str, Any], mode: str) -> dict[str, Any]:
        payload = json.loads(request["input"])
        name = payload["entity"]["name"] or payload["entity"]["id"]
        if mode in ("ok", "slow"):
            text = json.dumps(
                {
                    "summary": f"{name}: {payload['finding_type']} needs attention.",
                    "likely_causes": [f"Something changed in {name}."],
                    "recommended_actions": ["Review recent edits."],
                    "confidence": "medium",
                }
            )
        elif mode == "invalid_json":
            text = "Sure! Here is the analysis: the CPA went up."
        elif mode == "wrong_schema":
            text = json.dumps({"summary": "only a summary"})
        elif mode == "refusal":
            text = ""
        elif mode == "incomplete":
            text = '{"summary": "The CPA of'  # cut off mid-answer
        else:
            raise ValueError(f"unknown stub mode {mode!r}")
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
