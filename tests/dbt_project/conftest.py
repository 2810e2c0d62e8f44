"""Fixtures of the dbt tests: one `dbt build` of the scenario (scenario.py) shared by every module of
tests/dbt_project, and the other dbt invocations started concurrently as early as they can be (runs.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.dbt_project.helpers import DUCKDB_ENV, WAREHOUSE, Built, DbtRun, close_readers, dbt, failed, vars_arg
from tests.dbt_project.runs import AFTER_BUILD, AT_START
from tests.dbt_project.scenario import WORKSPACES, write_scenario


def _collected_modules(request: pytest.FixtureRequest) -> set[str]:
    return {item.module.__name__.rsplit(".", 1)[-1] for item in request.session.items}


def _stop(started: dict[str, dict[str, object]]) -> None:
    for handles in started.values():
        for handle in handles.values():
            if isinstance(handle, DbtRun):
                handle.stop()
            elif hasattr(handle, "shutdown"):
                handle.shutdown()


@pytest.fixture(scope="session", autouse=True)
def early_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Runs that need no warehouse (BigQuery renderings), started with the session."""
    modules = _collected_modules(request)
    started = {name: start(tmp_path_factory.mktemp(name)) for name, start in AT_START.items() if name in modules}
    yield started
    _stop(started)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    """The scenario's raw data, then one full `dbt build` with the workspace access layer."""
    tmp = tmp_path_factory.mktemp("dbt_build")
    db = tmp / WAREHOUSE
    committed = write_scenario(db)
    build_args = ["--target", "duckdb", *vars_arg(sentrum_workspaces=WORKSPACES)]
    proc = dbt(["build", *build_args], tmp, DUCKDB_ENV)
    assert proc.returncode == 0, failed(proc)
    results = json.loads((tmp / "target" / "run_results.json").read_text())
    yield Built(db, results, committed, build_args)
    close_readers()


@pytest.fixture(scope="session", autouse=True)
def after_build_runs(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Every run that starts from the shared build, started together as soon as it exists (and only if a module that
    needs one was collected)."""
    wanted = {name: start for name, start in AFTER_BUILD.items() if name in _collected_modules(request)}
    if not wanted:
        yield {}
        return
    built: Built = request.getfixturevalue("built")
    started = {name: start(built, tmp_path_factory.mktemp(name)) for name, start in wanted.items()}
    yield started
    _stop(started)
