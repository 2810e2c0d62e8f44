"""The run launcher's health check (orchestration/launcher.py) on the cases the deployed-mode test does not reach:
a run no code server started, a code server that does not answer, and when a restarted server is judged."""

from __future__ import annotations

import json
import socket

import dagster as dg
import pytest
from dagster._core.launcher import WorkerStatus
from dagster._core.storage.tags import GRPC_INFO_TAG
from dagster._core.test_utils import create_run_for_test

from orchestration import launcher as launcher_module
from orchestration.launcher import MonitoredRunLauncher


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


def _launcher(instance) -> MonitoredRunLauncher:
    launcher = MonitoredRunLauncher()
    launcher.register_instance(instance)
    return launcher


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_run_no_code_server_started_is_not_judged(instance):
    # e.g. executed in-process by the CLI on the same instance: failing it would kill a healthy run's record
    run = create_run_for_test(instance, job_name="meta_extract_job", status=dg.DagsterRunStatus.STARTED)
    assert _launcher(instance).check_run_worker_health(run).status == WorkerStatus.RUNNING


def test_no_verdict_while_the_code_server_does_not_answer(instance):
    tags = {GRPC_INFO_TAG: json.dumps({"host": "127.0.0.1", "port": _closed_port()})}
    run = create_run_for_test(instance, job_name="meta_extract_job", status=dg.DagsterRunStatus.STARTED, tags=tags)
    result = _launcher(instance).check_run_worker_health(run)
    assert result.status == WorkerStatus.RUNNING
    assert "unreachable" in result.msg


class _Server:
    host, port, socket = "127.0.0.1", 4000, None

    def __init__(self, server_id: str) -> None:
        self.server_id = server_id

    def get_server_id(self, timeout: int) -> str:
        return self.server_id


def test_a_server_is_judged_only_once_it_has_answered_as_itself_for_a_while(instance, monkeypatch):
    launcher = _launcher(instance)
    clock = [1000.0]
    monkeypatch.setattr(launcher_module.time, "monotonic", lambda: clock[0])
    server = _Server("a")
    assert not launcher._settled(server)  # first sight
    clock[0] += launcher_module.SETTLE_S - 1
    assert not launcher._settled(server)
    clock[0] += 1
    assert launcher._settled(server)
    server.server_id = "b"  # restarted: the clock starts again
    assert not launcher._settled(server)
    clock[0] += launcher_module.SETTLE_S
    assert launcher._settled(server)
