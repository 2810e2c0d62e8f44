"""The deployment, as processes on this machine: the code server (the image's command), the daemon and the
webserver (docker-compose.yml's commands), against a Postgres instance (deploy/dagster.yaml as rendered for the
test). Each process runs in its own process group, so stopping one stops everything it started; every wait is
bounded."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import yaml

from tests.deployed.deploy_files import (
    REPO,
    WORKSPACE,
    compose_service,
    image_command,
    render_test_instance,
    with_option,
)

T = TypeVar("T")
CODE_SERVER_READY_S = 180  # loads the definitions (dbt's manifest included)
WEBSERVER_READY_S = 120


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, probe: Callable[[], T | None], timeout_s: float, interval_s: float = 0.5) -> T:
    """`probe()` until it returns something; AssertionError naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:.0f}s waiting for {what}")
        time.sleep(interval_s)


def _executable(command: list[str]) -> list[str]:
    """The locked environment's entry point for a command the image finds on its PATH (/app/.venv/bin)."""
    return [str(Path(sys.executable).with_name(command[0])), *command[1:]]


@dataclass
class Service:
    name: str
    command: list[str]
    process: subprocess.Popen
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole group: the process and everything it started (a container dying)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def terminate(self) -> None:
        """SIGTERM to the group, without waiting (`stop` waits)."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self, timeout_s: float = 20) -> None:
        if self.process.poll() is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # children it left behind
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout_s)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


def start_service(name: str, command: list[str], env: dict[str, str], log_dir: Path) -> Service:
    log = log_dir / f"{name}.log"
    handle = log.open("a")
    handle.write(f"\n==== {' '.join(command)}\n")
    handle.flush()
    process = subprocess.Popen(
        _executable(command), cwd=REPO, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
    )
    return Service(name, command, process, log)


@dataclass
class Stack:
    """The three Dagster services and the environment they share."""

    env: dict[str, str]
    dagster_home: Path
    log_dir: Path
    code_server_port: int
    webserver_port: int
    services: dict[str, Service] = field(default_factory=dict)

    # ---- the commands, from the deployment files ---------------------------------------------------------------

    def code_server_command(self) -> list[str]:
        """The image's command, on loopback and a free port instead of 0.0.0.0:4000."""
        command = with_option(image_command(), "127.0.0.1", "-h", "--host")
        return with_option(command, str(self.code_server_port), "-p", "--port")

    def compose_command(self, service: str) -> list[str]:
        """A Compose service's command, reading deploy/workspace.yaml where the image has its copy."""
        command = with_option(compose_service(service)["command"], str(WORKSPACE), "-w", "--workspace")
        if service == "webserver":
            command = with_option(command, "127.0.0.1", "-h", "--host")
            command = with_option(command, str(self.webserver_port), "-p", "--port")
        return command

    # ---- lifecycle ---------------------------------------------------------------------------------------------

    def start_code_server(self) -> Service:
        service = start_service("code-server", self.code_server_command(), self.env, self.log_dir)
        self.services["code-server"] = service
        wait_for("the code server to answer", lambda: self._code_server_answers(service), CODE_SERVER_READY_S)
        return service

    def _code_server_answers(self, service: Service) -> bool | None:
        from dagster._core.errors import DagsterUserCodeUnreachableError
        from dagster._grpc.client import DagsterGrpcClient

        if not service.alive():
            raise AssertionError(f"the code server exited: {service.tail()}")
        try:
            DagsterGrpcClient(port=self.code_server_port, host="127.0.0.1").ping("ready?")
            return True
        except DagsterUserCodeUnreachableError:
            return None

    def start_daemon(self) -> Service:
        service = start_service("daemon", self.compose_command("daemon"), self.env, self.log_dir)
        self.services["daemon"] = service
        return service

    def start_webserver(self) -> Service:
        service = start_service("webserver", self.compose_command("webserver"), self.env, self.log_dir)
        self.services["webserver"] = service
        return service

    def wait_for_webserver(self) -> None:
        def serving() -> bool | None:
            if not self.services["webserver"].alive():
                raise AssertionError(f"the webserver exited: {self.services['webserver'].tail()}")
            try:
                nodes = self.graphql("{ repositoriesOrError { ... on RepositoryConnection { nodes { name } } } }")
                return True if nodes["repositoriesOrError"]["nodes"] else None
            except (urllib.error.URLError, ConnectionError, TimeoutError, KeyError):
                return None

        wait_for("the webserver to serve the code location", serving, WEBSERVER_READY_S)

    def graphql(self, query: str) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.webserver_port}/graphql",
            data=json.dumps({"query": query}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            body = json.loads(response.read())
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def stop(self) -> None:
        # The daemon first: nothing new is launched while the others go; they go together.
        if "daemon" in self.services:
            self.services["daemon"].stop()
        others = [self.services[name] for name in ("webserver", "code-server") if name in self.services]
        for service in others:
            service.terminate()
        for service in others:
            service.stop()

    def tails(self) -> str:
        return "\n".join(f"--- {name}\n{s.tail(2000)}" for name, s in self.services.items())


def make_stack(base: Path, env: dict[str, str]) -> Stack:
    """DAGSTER_HOME with deploy/dagster.yaml rendered for the test; the workspace's address in the environment."""
    dagster_home = base / "dagster_home"
    log_dir = base / "logs"
    dagster_home.mkdir(parents=True)
    log_dir.mkdir(parents=True)
    (dagster_home / "dagster.yaml").write_text(yaml.safe_dump(render_test_instance(base / "compute_logs")))
    code_port, web_port = free_port(), free_port()
    env = {
        **env,
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_CODE_SERVER_HOST": "127.0.0.1",
        "DAGSTER_CODE_SERVER_PORT": str(code_port),
    }
    return Stack(env, dagster_home, log_dir, code_port, web_port)
