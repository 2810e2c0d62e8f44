"""A throwaway Postgres server for the deployed-mode tests: Debian's binaries (`make postgres` installs them), a
private data directory, 127.0.0.1 on a free port, trust authentication, killed and deleted at the end.

Postgres refuses to run as root, so as root the server runs as the `postgres` user that Debian's package creates
(`runuser`); as any other user it runs as that user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2

READY_TIMEOUT_S = 60
RUN_AS = "postgres"


class PostgresUnavailable(RuntimeError):
    pass


def _bindir() -> Path:
    """The newest Debian cluster binaries (/usr/lib/postgresql/<major>/bin), else initdb on PATH."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name), reverse=True
    )
    if versions:
        return versions[0].parent
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailable("no Postgres server binaries (initdb): run `make postgres` (Debian's postgresql)")


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    base: Path
    port: int
    process: subprocess.Popen
    user: str = "dagster"
    database: str = "dagster"

    @property
    def env(self) -> dict[str, str]:
        """The variables deploy/dagster.yaml reads its storage settings from."""
        return {
            "DAGSTER_PG_HOST": "127.0.0.1",
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USER": self.user,
            "DAGSTER_PG_PASSWORD": "unused-trust-auth",
            "DAGSTER_PG_DB": self.database,
        }

    def connect(self, database: str | None = None):
        return psycopg2.connect(
            host="127.0.0.1", port=self.port, user=self.user, dbname=database or self.database, connect_timeout=5
        )

    def stop(self) -> None:
        if self.process.poll() is None:
            # SIGINT: Postgres's fast shutdown; the whole group, so `runuser` and the server both go.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        shutil.rmtree(self.base, ignore_errors=True)


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    try:
        pwd.getpwnam(RUN_AS)
    except KeyError:
        raise PostgresUnavailable(f"running as root and there is no {RUN_AS!r} user to run Postgres as") from None
    return ["runuser", "-u", RUN_AS, "--", *cmd]


def start_postgres(log_dir: Path) -> PostgresServer:
    """initdb + postgres on 127.0.0.1:<free port>; returns once it accepts connections (bounded wait)."""
    bindir = _bindir()
    # Under /tmp (world-traversable), not pytest's 0700 tmp dir: the server user must reach its data directory.
    base = Path(tempfile.mkdtemp(prefix="sentrum-pg-"))
    if os.geteuid() == 0:
        entry = pwd.getpwnam(RUN_AS)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    data = base / "data"
    init = subprocess.run(
        _as_server_user(
            [str(bindir / "initdb"), "-D", str(data), "-U", "dagster", "--auth=trust", "-E", "UTF8", "--no-sync"]
        ),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise PostgresUnavailable(f"initdb failed: {init.stderr[-2000:]}")
    port = _free_port()
    log = (log_dir / "postgres.log").open("w")
    process = subprocess.Popen(
        _as_server_user(
            [
                str(bindir / "postgres"), "-D", str(data), "-p", str(port),
                "-c", "listen_addresses=127.0.0.1",
                "-c", f"unix_socket_directories={base}",
                # a test server: durability off, so the instance's many small writes cost nothing
                "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                "-c", "max_connections=200",
            ]
        ),
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    server = PostgresServer(base, port, process)
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        try:
            with contextlib.closing(server.connect("postgres")) as con:
                con.autocommit = True
                con.cursor().execute(f"create database {server.database}")
            return server
        except psycopg2.OperationalError as exc:
            if process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                tail = (log_dir / "postgres.log").read_text()[-2000:]
                raise PostgresUnavailable(f"postgres did not start ({exc}): {tail}") from None
            time.sleep(0.2)
