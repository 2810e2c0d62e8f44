"""A token never leaves the secret store, even when Meta echoes it in plain text; a broken key file is the operator's
error, not the customer's. Driven through the real CLI, SDK and Dagster against a tiny local Graph API stand-in."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import dagster as dg
import duckdb
import pytest

from secret_store import LocalSecretStore
from tests.e2e.conftest import Env
from tests.support.prepared_dbt import seed_prepared_dbt
from workspaces import MetaConnection, Workspace, YamlRegistry

TOKEN = "EAABleakTESTtoken0123456789abcdefXYZ"


class _EchoHandler(BaseHTTPRequestHandler):
    """Answers every call with a Meta error whose message quotes the access token it was sent, verbatim."""

    received: list[str] = []

    def _answer(self, params: dict[str, list[str]]) -> None:
        token = (params.get("access_token") or [""])[0]
        type(self).received.append(token)
        body = json.dumps(
            {
                "error": {
                    "message": f"(#100) Invalid parameter: the request with token {token} cannot be served",
                    "type": "OAuthException",
                    "code": 100,
                    "fbtrace_id": "AEchoTrace",
                }
            }
        ).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._answer(parse_qs(urlparse(self.path).query))

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self._answer(parse_qs(self.rfile.read(length).decode()))

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def echo() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoHandler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def env(echo, tmp_path_factory) -> Env:
    home = tmp_path_factory.mktemp("home")
    seed_prepared_dbt(home)
    variables = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRUM_", "DAGSTER_"))}
    variables.update(SENTRUM_HOME=str(home), SENTRUM_META_GRAPH_URL=echo)
    e = Env(home, None, variables)  # type: ignore[arg-type]
    # `workspaces add` asks Meta about the token first: the stand-in's echoed error refuses it, redacted.
    r = e.sentrum("workspaces", "add", "leaky", "--ad-accounts", "act_1", stdin=TOKEN)
    assert r.returncode == 2 and "[REDACTED]" in r.stderr and TOKEN not in r.stdout + r.stderr, r.stderr
    assert not (home / "workspaces.yaml").exists()
    # So the workspace is registered the way an operator's migration would, past the check.
    LocalSecretStore(home / "secrets").put("meta-token-leaky", TOKEN)
    YamlRegistry(home / "workspaces.yaml").upsert(
        Workspace(id="leaky", name="leaky", meta=MetaConnection(ad_accounts=["act_1"], token_secret="meta-token-leaky"))
    )
    return e


def _files_holding(root: Path, needle: bytes) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes())


def test_a_token_echoed_by_meta_is_redacted_everywhere(env):
    r = env.sentrum("sync", "--workspace", "leaky", "--start", "2026-10-01", "--end", "2026-10-02")
    assert r.returncode == 1, r.stdout + r.stderr
    assert TOKEN in _EchoHandler.received  # the stand-in got the token, so its errors did quote it
    output = r.stdout + r.stderr
    assert "Invalid parameter: the request with token [REDACTED]" in output and "Traceback" not in r.stdout
    assert TOKEN not in output

    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        [(last_error, reconnect)] = con.execute(
            "select last_error, reconnect_needed from ops.workspace_health where workspace_id = 'leaky'"
        ).fetchall()
        failed_slices = con.execute("select message from raw.meta_extraction_errors").fetchall()
    assert "[REDACTED]" in last_error and TOKEN not in last_error and not reconnect
    assert all(TOKEN not in m for (m,) in failed_slices)

    instance = dg.DagsterInstance.from_config(str(env.home / "dagster"))
    runs = instance.get_run_ids()
    assert runs
    events = [json.dumps(dg.serialize_value(e)) for run_id in runs for e in instance.all_logs(run_id)]
    assert any("[REDACTED]" in e for e in events)  # the error reached the event log, redacted
    assert not [e for e in events if TOKEN in e]
    # and no file under SENTRUM_HOME holds it in plain text (the secret store holds it encrypted)
    assert _files_holding(env.home, TOKEN.encode()) == []


def test_a_broken_key_file_is_an_operator_error_not_reconnect_needed(env):
    key = env.home / "secrets" / "store.key"
    key.write_bytes(b"this is not a Fernet key")
    listed = env.sentrum("workspaces", "list")
    assert listed.returncode == 1 and "does not hold a valid key" in listed.stderr
    assert len(listed.stderr.strip().splitlines()) == 1 and "Traceback" not in listed.stderr

    r = env.sentrum("sync", "--workspace", "leaky", "--start", "2026-10-01", "--end", "2026-10-02")
    assert r.returncode == 1
    assert "operator error" in r.stdout and "secret store is unreadable" in r.stdout
    assert "reconnect needed" not in r.stdout
    with duckdb.connect(str(env.duckdb_file), read_only=True) as con:
        [(error_class, reconnect)] = con.execute(
            "select last_error_class, reconnect_needed from ops.workspace_health where workspace_id = 'leaky'"
        ).fetchall()
    assert error_class == "config" and not reconnect
