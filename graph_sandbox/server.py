"""A loopback HTTP server speaking the Graph API closely enough for the unmodified facebook-business SDK.

    with SandboxServer(Scenario("demo", 42)) as server:
        session = FacebookSession(access_token="sandbox-token-acme")
        session.GRAPH = server.url
        api = FacebookAdsApi(session, api_version="v26.0")

`serve()` runs it in the foreground for `sentrum sandbox serve`.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import sys
import threading
import time
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import parse_qsl, urlsplit

from graph_sandbox import graph_errors
from graph_sandbox.call_records import FaultHook, RequestRecord
from graph_sandbox.faults import FaultSpec
from graph_sandbox.graph import GraphApp
from graph_sandbox.scenario import Scenario
from graph_sandbox.tokens import app_token, token_summary

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
MAX_BODY_BYTES = 8 * 1024 * 1024


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as requests.Session expects
    server_version = "SentrumGraphSandbox/1.0"
    timeout = 30  # idle keep-alive connections are closed after this many seconds
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, add=False)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self._answer()

    def do_DELETE(self) -> None:  # noqa: N802
        self._answer()

    def do_PUT(self) -> None:  # noqa: N802
        self._answer()

    def do_PATCH(self) -> None:  # noqa: N802
        self._answer()

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._answer()

    def _answer(self) -> None:
        sandbox = self.server.sandbox
        split = urlsplit(self.path)
        params: dict[str, str] = {}
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self.close_connection = True  # the unread body would corrupt the next request on this connection
            self._send(413, graph_errors.invalid_param("Request body too large").body(), {})
            return
        if length:
            body = self.rfile.read(length)
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("application/x-www-form-urlencoded") or not content_type:
                params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        # The query string wins (the SDK puts access_token there on every method).
        params.update(parse_qsl(split.query, keep_blank_values=True))
        if sandbox.latency_ms > 0:
            time.sleep(sandbox.latency_ms / 1000)
        response = sandbox.app.handle(self.command, split.path, params, base_url=sandbox.url)
        self._send(response.status, response.body, response.headers, response.raw)

    def _send(self, status: int, body: Any, headers: dict[str, str], raw: str | None = None) -> None:
        text = raw if raw is not None else json.dumps(body, separators=(",", ":"))
        payload = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature from http.server
        # Request lines never carry tokens into logs: stay silent (the app keeps a redacted log).
        return


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        self.sandbox = sandbox
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, conn: socket.socket, *, add: bool) -> None:
        with self._connections_lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)


class SandboxServer:
    """The Graph API sandbox on 127.0.0.1, served from a daemon thread.

    `job_seconds`: wall time an async report run takes to complete. `sync_row_cap`: rows above which a sync
    insights call fails with 100/1487534; `async_row_cap`: rows above which a report run fails (2/1504038).
    Rate limits (usage.py): `calls_per_minute` per ad account (and business use case),
    `insights_calls_per_minute` insights calls per ad account, `app_calls_per_minute` for the app; calls past a
    budget are refused with Meta's throttling errors unless `throttle=False`; `window_seconds` is the sliding
    window (60; shorter only to time-scale tests). `faults`: a FaultSpec or its text (faults.py), e.g.
    "transient=0.05,jobfail=0.1,expired_token=act_1001". `as_of`: the last day whose activity the numbers include
    (a date, "today", "today-N" or None; see Scenario). `fault_hook`: optional callable(CallInfo) -> GraphError |
    None run before each routed call.
    """

    def __init__(
        self,
        scenario: Scenario | str = "demo",
        host: str = "127.0.0.1",
        port: int = 0,
        latency_ms: float = 0,
        job_seconds: float = 0.5,
        page_limit_default: int = 25,
        page_limit_max: int = 500,
        *,
        seed: int = 42,
        sync_row_cap: int = 5000,
        async_row_cap: int | None = None,
        calls_per_minute: int = 6000,
        insights_calls_per_minute: int | None = None,
        app_calls_per_minute: int | None = None,
        window_seconds: float = 60.0,
        throttle: bool = True,
        faults: FaultSpec | str | None = None,
        as_of: date | str | None = None,
        fault_hook: FaultHook | None = None,
    ) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"the sandbox binds to loopback only, not {host!r}")
        self.scenario = scenario if isinstance(scenario, Scenario) else Scenario(scenario, seed)
        if as_of is not None:
            self.scenario.as_of = as_of
        self.host = "127.0.0.1"
        self._requested_port = port
        self.latency_ms = latency_ms
        self.app = GraphApp(
            self.scenario,
            job_seconds=job_seconds,
            page_limit_default=page_limit_default,
            page_limit_max=page_limit_max,
            sync_row_cap=sync_row_cap,
            async_row_cap=async_row_cap,
            calls_per_minute=calls_per_minute,
            insights_calls_per_minute=insights_calls_per_minute,
            app_calls_per_minute=app_calls_per_minute,
            window_seconds=window_seconds,
            throttle=throttle,
            faults=faults,
            fault_hook=fault_hook,
        )
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ---- lifecycle ----------------------------------------------------------------------------------------

    def _bind(self) -> _HTTPServer:
        with self._lock:
            if self._httpd is None:
                self._httpd = _HTTPServer((self.host, self._requested_port), self)
            return self._httpd

    def start(self) -> SandboxServer:
        """Bind and serve from a daemon thread; returns self. Idempotent."""
        httpd = self._bind()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=httpd.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name=f"graph-sandbox-{self.port}",
                    daemon=True,
                )
                self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections and release the port. Returns within a fraction of a second."""
        with self._lock:
            httpd, thread = self._httpd, self._thread
            self._httpd, self._thread = None, None
        if httpd is None:
            return
        if thread is not None:
            httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=2)

    def run(self, stop_event: threading.Event | None = None) -> None:
        """Serve until `stop_event` is set or KeyboardInterrupt (Ctrl-C / SIGTERM via `serve`), then stop."""
        self.start()
        event = stop_event or threading.Event()
        try:
            while not event.wait(0.25):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ---- introspection ------------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        httpd = self._httpd
        if httpd is None:
            raise RuntimeError("the sandbox server is not started")
        return int(httpd.server_address[1])

    @property
    def url(self) -> str:
        """Base URL to put in FacebookSession.GRAPH, e.g. "http://127.0.0.1:54321"."""
        return f"http://{self.host}:{self.port}"

    @property
    def requests(self) -> list[RequestRecord]:
        """Snapshot of answered calls (batch items included, tokens removed)."""
        return self.app.requests

    def stats(self) -> dict[str, int]:
        """Calls by kind ("insights", "insights_async", "report_run", "ads", "write_attempt", ...),
        plus "total", "errors" and "batch_items"."""
        return self.app.stats()

    def reset(self) -> None:
        """Clear the request log, counters, usage windows and report runs."""
        self.app.reset()


class _Terminate(KeyboardInterrupt):
    pass


def serve(
    port: int,
    scenario: str = "demo",
    seed: int = 42,
    latency_ms: float = 0,
    job_seconds: float = 2.0,
    *,
    faults: str | None = None,
    calls_per_minute: int = 6000,
    insights_calls_per_minute: int | None = None,
    app_calls_per_minute: int | None = None,
    as_of: str | None = None,
    host: str = "127.0.0.1",
    out: TextIO | None = None,
    **options: Any,
) -> None:
    """Run the sandbox in the foreground until Ctrl-C or SIGTERM; prints its URL and the tokens.

    `faults`: a fault spec such as "transient=0.05,ratelimit=0.02,jobfail=0.1,stuck=0.05,badjson=0.01,
    expired_token=act_1001" (faults.py; ValueError when malformed). `calls_per_minute` /
    `insights_calls_per_minute` / `app_calls_per_minute`: the rate budgets (per ad account, insights calls per ad
    account, the app); past them calls are throttled with Meta's errors. `as_of`: "YYYY-MM-DD", "today" or "today-N"."""
    out = out or sys.stdout
    spec = FaultSpec.parse(faults)
    server = SandboxServer(
        Scenario(scenario, seed),
        host=host,
        port=port,
        latency_ms=latency_ms,
        job_seconds=job_seconds,
        faults=spec,
        calls_per_minute=calls_per_minute,
        insights_calls_per_minute=insights_calls_per_minute,
        app_calls_per_minute=app_calls_per_minute,
        as_of=as_of,
        **options,
    )
    server.start()
    previous = None
    if threading.current_thread() is threading.main_thread():

        def _on_term(signum: int, frame: Any) -> None:
            raise _Terminate()

        previous = signal.signal(signal.SIGTERM, _on_term)
    try:
        print(f"Graph API sandbox: {server.url}  (scenario {scenario!r}, seed {seed})", file=out)
        if spec.active:
            print(f"Faults: {faults}", file=out)
        print("Tokens:", file=out)
        for token, accounts in server.scenario.tokens.items():
            print(f"  {token}: {', '.join(accounts)}", file=out)
        print(f"Other kinds of token (GET /debug_token; app token {app_token()}):", file=out)
        for t in server.scenario.token_specs():
            if t.token not in server.scenario.tokens:
                print(f"  {t.token}: {token_summary(t)}", file=out)
        print("Press Ctrl-C to stop.", file=out, flush=True)
        server.run()
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM before run() took over
        pass
    finally:
        server.stop()
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
