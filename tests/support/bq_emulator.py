"""The BigQuery stand-in for the tests: bqemulator 1.4.0, in its own virtualenv, as a subprocess on loopback.

One emulator per test session, shared by tests/warehouse, tests/bigquery and anything else that asks for it
(`emulator()`); it is killed at the end of the session. Each test isolates itself with its own dataset prefix.

If the emulator cannot be installed or started, the tests that need it FAIL with the reason: a skipped BigQuery
test would pass silently while proving nothing.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import requests
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from orchestration.gc_tuning import THRESHOLDS

REPO = Path(__file__).resolve().parents[2]
ENV_SCRIPT = REPO / "scripts" / "bqemulator_env.sh"
PROJECT = "test-project"
# The first install downloads ~150 MB of wheels: allow for a slow mirror, but never hang forever.
INSTALL_TIMEOUT_S = 900
READY_TIMEOUT_S = 60
# The client retries 5xx answers for up to 600 s by default; against a local stand-in an error is an error.
TEST_RETRY = bigquery.DEFAULT_RETRY.with_deadline(20).with_timeout(20)
# Re-runs of failed query jobs: none. Any non-None job_retry makes the client wrap the job insert in its own fixed
# retry (~10 minutes, google.cloud.bigquery.retry._DEFAULT_QUERY_JOB_INSERT_RETRY), whatever deadline it carries.
TEST_JOB_RETRY = None


# The emulator's own entry point, started with the garbage collector set as the pipeline's processes set it and a
# cache of parsed SQL (bq_emulator_boot.py says why); `-P`: that folder's modules stay off the emulator's path.
BOOT_SCRIPT = Path(__file__).with_name("bq_emulator_boot.py")


class EmulatorUnavailable(RuntimeError):
    pass


@dataclass
class Emulator:
    url: str
    process: subprocess.Popen
    log_path: Path

    def client(self) -> bigquery.Client:
        return bigquery.Client(
            project=PROJECT,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=self.url),
            location="US",
        )

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            # Our own process group (start_new_session): signal it by its id, children included.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def install() -> Path:
    """The emulator's executable, installing its virtualenv first if needed (scripts/bqemulator_env.sh)."""
    try:
        proc = subprocess.run(
            ["bash", str(ENV_SCRIPT)], capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, cwd=REPO
        )
    except subprocess.TimeoutExpired as exc:
        raise EmulatorUnavailable(f"{ENV_SCRIPT} did not finish within {INSTALL_TIMEOUT_S} s") from exc
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines or not Path(lines[-1]).is_file():
        raise EmulatorUnavailable(
            f"could not install bqemulator with {ENV_SCRIPT} (exit {proc.returncode}):\n{proc.stderr[-4000:]}"
        )
    return Path(lines[-1])


def start(executable: Path) -> Emulator:
    """Start the emulator on free loopback ports (it picks them: port 0) and wait until its REST API answers."""
    log_path = Path(tempfile.mkdtemp(prefix="sentrum-bqemulator-")) / "bqemulator.log"
    log = log_path.open("wb")
    cmd = [
        str(executable.with_name("python")),
        "-P",
        str(BOOT_SCRIPT),
        json.dumps(THRESHOLDS),
        "start",
        "--rest-host",
        "127.0.0.1",
        "--rest-port",
        "0",
        "--grpc-host",
        "127.0.0.1",
        "--grpc-port",
        "0",
        "--project",
        PROJECT,
        "--ephemeral",
        "--log-level",
        "info",
        "--log-format",
        "json",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "BIGQUERY_"))}
    process = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    log.close()
    emulator = Emulator("", process, log_path)
    deadline = time.monotonic() + READY_TIMEOUT_S
    port = None
    while time.monotonic() < deadline and emulator.alive():
        port = port or _rest_port(log_path)
        if port:
            url = f"http://127.0.0.1:{port}"
            try:
                r = requests.get(f"{url}/bigquery/v2/projects/{PROJECT}/datasets", timeout=2)
                if r.status_code == 200:
                    emulator.url = url
                    return emulator
            except requests.RequestException:
                pass
        time.sleep(0.1)
    tail = emulator.log_tail()
    emulator.stop()
    raise EmulatorUnavailable(f"bqemulator did not become ready within {READY_TIMEOUT_S} s; its log:\n{tail}")


def _die_with_parent() -> None:
    """In the child before exec: on Linux, have the kernel send SIGTERM to the emulator when the test process dies,
    so a killed pytest (where atexit never runs) leaves no emulator behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        PR_SET_PDEATHSIG = 1
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _rest_port(log_path: Path) -> int | None:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if '"rest.listen"' in line:
            try:
                return int(json.loads(line)["port"])
            except (ValueError, KeyError):
                return None
    return None


_lock = threading.Lock()
_emulator: Emulator | None = None
_failure: str | None = None


def emulator() -> Emulator:
    """The session's emulator, started on first use (raises EmulatorUnavailable with the reason)."""
    global _emulator, _failure
    with _lock:
        if _failure:
            raise EmulatorUnavailable(_failure)
        if _emulator is None or not _emulator.alive():
            try:
                _emulator = start(install())
            except EmulatorUnavailable as exc:
                _failure = str(exc)
                raise
            atexit.register(_emulator.stop)
        return _emulator


def stop() -> None:
    global _emulator
    with _lock:
        if _emulator is not None:
            _emulator.stop()
            _emulator = None


def unique_prefix(tag: str = "t") -> str:
    """A dataset prefix of its own for one test (the emulator is shared by the whole session)."""
    return f"{tag}_{uuid.uuid4().hex[:10]}_"
