"""Reading the deployment files (deploy/) the way Docker, Compose and Dagster would, for the tests that check them
and for the deployed-mode test that runs their commands."""

from __future__ import annotations

import copy
import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "docker-compose.yml"
INSTANCE = DEPLOY / "dagster.yaml"
WORKSPACE = DEPLOY / "workspace.yaml"
HELM_VALUES = DEPLOY / "helm-values.yaml"


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def dockerfile_instructions(path: Path = DOCKERFILE) -> list[Instruction]:
    """Instructions with their continuation lines joined; comments dropped."""
    out: list[Instruction] = []
    pending = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, args = line.partition(" ")
        out.append(Instruction(keyword.upper(), args.strip()))
    return out


def exec_form(args: str) -> list[str]:
    """A CMD/ENTRYPOINT in exec (JSON) form; the shell form would put `sh -c` between Docker and the process."""
    value = json.loads(args)
    if not isinstance(value, list) or not all(isinstance(a, str) for a in value):
        raise ValueError(f"not an exec-form argument list: {args}")
    return value


def image_command(path: Path = DOCKERFILE) -> list[str]:
    """What a container of the image runs by default: ENTRYPOINT + CMD."""
    entry: list[str] = []
    cmd: list[str] = []
    for ins in dockerfile_instructions(path):
        if ins.keyword == "ENTRYPOINT":
            entry = exec_form(ins.args)
        elif ins.keyword == "CMD":
            cmd = exec_form(ins.args)
    return entry + cmd


def image_env(path: Path = DOCKERFILE) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in dockerfile_instructions(path):
        if ins.keyword == "ENV":
            for token in shlex.split(ins.args):
                key, _, value = token.partition("=")
                env[key] = value
    return env


def option(command: list[str], *names: str) -> str:
    """The value following the first of `names` in an argument list."""
    for i, arg in enumerate(command[:-1]):
        if arg in names:
            return command[i + 1]
    raise KeyError(f"none of {names} in {command}")


def with_option(command: list[str], value: str, *names: str) -> list[str]:
    out = list(command)
    for i, arg in enumerate(out[:-1]):
        if arg in names:
            out[i + 1] = value
            return out
    raise KeyError(f"none of {names} in {command}")


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def compose_service(name: str) -> dict[str, Any]:
    return compose()["services"][name]


def env_references(node: Any) -> set[str]:
    """Every `{env: NAME}` in a Dagster YAML document."""
    found: set[str] = set()
    if isinstance(node, dict):
        if set(node) == {"env"} and isinstance(node["env"], str):
            found.add(node["env"])
        for value in node.values():
            found |= env_references(value)
    elif isinstance(node, list):
        for value in node:
            found |= env_references(value)
    return found


def instance_config() -> dict[str, Any]:
    return yaml.safe_load(INSTANCE.read_text())


def camel_to_snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def snake_keys(node: Any) -> Any:
    """Helm's camelCase values in dagster.yaml's snake_case, recursively (tag limit values keep their own keys)."""
    if isinstance(node, dict):
        return {(k if k == "applyLimitPerUniqueValue" else camel_to_snake(k)): snake_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [snake_keys(v) for v in node]
    return node


# What the deployed-mode test changes in deploy/dagster.yaml, and why; everything else is used as it is.
TEST_OVERRIDES = {
    # No Cloud Storage here: step logs go to the test's directory.
    "compute_logs": "local files instead of Cloud Storage",
    # DuckDB admits one writing process: runs go one at a time (the file says so for DuckDB).
    "concurrency.runs.max_concurrent_runs": "1 for DuckDB",
    # Seconds, not a minute: a dead run is noticed within the test's patience.
    "run_monitoring.poll_interval_seconds": "2",
    # The queue looked at every second instead of Dagster's 5: six runs of the night each wait for a look.
    "run_coordinator.config.dequeue_interval_seconds": "1",
}


def render_test_instance(logs_dir: Path) -> dict[str, Any]:
    """deploy/dagster.yaml with exactly TEST_OVERRIDES applied."""
    config = copy.deepcopy(instance_config())
    config["compute_logs"] = {
        "module": "dagster.core.storage.local_compute_log_manager",
        "class": "LocalComputeLogManager",
        "config": {"base_dir": str(logs_dir)},
    }
    config["concurrency"]["runs"]["max_concurrent_runs"] = 1
    config["run_monitoring"]["poll_interval_seconds"] = 2
    config["run_coordinator"]["config"]["dequeue_interval_seconds"] = 1
    return config
