"""A loopback HTTP proxy in front of the BigQuery emulator that keeps the body of every job insert.

The emulator drops a job's labels and `maximumBytesBilled`, so what a client outside this process (dbt) asked for is
read from its requests instead: the client talks to the proxy as its API endpoint, the proxy passes every request
on to the emulator unchanged and the reply back.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

# jobs.insert: POST .../projects/<p>/jobs (a query job; an upload's job goes to /upload/...)
_JOB_INSERT = re.compile(r"^(?:/upload)?/bigquery/v2/projects/[^/]+/jobs(?:\?.*)?$")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding", "host"}


class RecordingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.job_inserts: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.command == "POST" and _JOB_INSERT.match(self.path):
                    try:
                        record = json.loads(body)
                    except ValueError:
                        record = {"unparsed": body[:2000].decode(errors="replace")}
                    with proxy._lock:
                        proxy.job_inserts.append(record)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                reply = requests.request(
                    self.command, proxy.upstream + self.path, data=body, headers=headers, timeout=120
                )
                content = reply.content
                self.send_response(reply.status_code)
                for key, value in reply.headers.items():
                    if key.lower() in _HOP_BY_HOP:
                        continue
                    if key.lower() == "location":
                        value = value.replace(proxy.upstream, proxy.url)
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="bq-recording-proxy", daemon=True)

    def __enter__(self) -> RecordingProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def query_jobs(self) -> list[dict[str, Any]]:
        """The `configuration.query` part and labels of every query job inserted so far."""
        with self._lock:
            inserts = list(self.job_inserts)
        return [
            {"labels": j["configuration"].get("labels", {}), **j["configuration"]["query"]}
            for j in inserts
            if "query" in j.get("configuration", {})
        ]
