"""The deployment files (deploy/) are consistent with the code: no Docker engine or cluster here, so each file is
read the way Docker, Compose, Helm or Dagster would read it, and checked against the locked environment."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import dagster as dg
import pytest
from dagster._config import process_config
from dagster._core.instance.config import dagster_instance_config, dagster_instance_config_schema
from dagster._core.workspace.config_schema import process_workspace_config
from dagster._serdes.config_class import ConfigurableClassData, class_from_code_pointer

from tests.deployed.deploy_files import (
    DEPLOY,
    REPO,
    TEST_OVERRIDES,
    WORKSPACE,
    camel_to_snake,
    compose,
    dockerfile_instructions,
    env_references,
    image_command,
    image_env,
    instance_config,
    option,
    render_test_instance,
    snake_keys,
)

pytestmark = pytest.mark.deployed

SERVICES = ("code-server", "webserver", "daemon")


@pytest.fixture
def deploy_env(monkeypatch):
    """Every variable the instance and workspace files read, set as Compose would set them."""
    env = compose()["services"]["daemon"]["environment"]
    for name in env_references(instance_config()) | env_references(_yaml(WORKSPACE)):
        monkeypatch.setenv(name, "4000" if name.endswith("_PORT") else f"value-of-{name.lower()}")
    return env


def _yaml(path):
    import yaml

    return yaml.safe_load(path.read_text())


def _pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text())


# ---- the image ------------------------------------------------------------------------------------------------


def test_image_is_python_311_slim_with_the_locked_dependencies_and_a_non_root_user():
    ins = dockerfile_instructions()
    [base] = [i.args for i in ins if i.keyword == "FROM"]
    assert base == "python:3.11-slim"
    assert _pyproject()["project"]["requires-python"].startswith(">=3.11")
    # uv at the Makefile's version
    make_uv = re.search(r"^UV_VERSION := (\S+)$", (REPO / "Makefile").read_text(), re.M).group(1)
    assert f"ARG UV_VERSION={make_uv}" in [f"{i.keyword} {i.args}" for i in ins]
    syncs = [i.args for i in ins if i.keyword == "RUN" and "uv sync" in i.args]
    assert syncs and all("--frozen" in s and "--no-dev" in s for s in syncs)
    # the last USER (the one containers run as) is the service user created in the image, not root
    users = [i.args for i in ins if i.keyword == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert any(i.keyword == "RUN" and "useradd" in i.args and users[-1] in i.args for i in ins)
    keywords = [i.keyword for i in ins]
    assert keywords.index("USER") < keywords.index("CMD")


def test_image_copies_every_package_of_the_wheel_and_the_dbt_project():
    copies = [i.args.split() for i in dockerfile_instructions() if i.keyword == "COPY"]
    sources = {src for *srcs, _dest in copies for src in srcs}
    for src in sources:
        assert (REPO / src).exists(), f"COPY {src}: no such file in the repository"
    packages = set(_pyproject()["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"])
    assert packages | {"dbt_project", "pyproject.toml", "uv.lock"} <= sources
    # the instance and workspace files land where the image's environment and Compose's commands expect them
    dests = {src: dest for *srcs, dest in copies for src in srcs}
    assert dests["deploy/dagster.yaml"] == f"{image_env()['DAGSTER_HOME']}/dagster.yaml"
    assert dests["deploy/workspace.yaml"] == "/opt/dagster/workspace.yaml"


def test_image_command_is_the_code_server_of_the_definitions():
    command = image_command()
    assert command[:3] == ["dagster", "api", "grpc"]
    module, attr = option(command, "-m", "--module-name"), option(command, "-a", "--attribute")
    defs = getattr(importlib.import_module(module), attr)
    assert isinstance(defs, dg.Definitions)
    assert defs.resolve_job_def("meta_extract_job") is not None
    assert option(command, "-h", "--host") == "0.0.0.0"  # reachable from the other containers
    exposed = [i.args for i in dockerfile_instructions() if i.keyword == "EXPOSE"]
    assert exposed == [option(command, "-p", "--port")]


def test_image_prepares_the_dbt_manifest_at_build(tmp_path):
    ins = dockerfile_instructions()
    [prepare] = [i for i in ins if i.keyword == "RUN" and "dbt-prepare" in i.args]
    # after the code and the dbt project are in place and as the service user, so the files dbt writes are the user's
    assert ins.index(prepare) > max(i for i, x in enumerate(ins) if x.keyword == "COPY" and "dbt_project" in x.args)
    assert ins.index(prepare) > [x.keyword for x in ins].index("USER")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRUM_", "DAGSTER_"))}
    env["SENTRUM_HOME"] = str(tmp_path)  # the image's SENTRUM_HOME, here a temporary one
    sentrum = str(Path(sys.executable).with_name("sentrum"))
    done = subprocess.run(
        [sentrum, *prepare.args.split()[1:]], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    manifest = tmp_path / "dbt" / "target" / "manifest.json"
    assert manifest.stat().st_size > 1000


# ---- the instance and the workspace ---------------------------------------------------------------------------


def test_instance_yaml_validates_and_names_classes_of_the_locked_environment(deploy_env):
    config, custom_class = dagster_instance_config(str(DEPLOY))
    assert custom_class is None
    assert set(config["storage"]) == {"postgres"}
    importlib.import_module("dagster_postgres")  # what `storage: postgres` loads
    for section in ("run_coordinator", "run_launcher", "compute_logs"):
        entry = config[section]
        # as the instance reads it (which maps the public `dagster.core` to `dagster._core`)
        data = ConfigurableClassData(entry["module"], entry["class"], "{}")
        cls = class_from_code_pointer(data.module_name, data.class_name)
        checked = process_config(cls.config_type(), entry.get("config") or {})
        assert checked.success, (section, checked.errors)
    launcher = class_from_code_pointer(config["run_launcher"]["module"], config["run_launcher"]["class"])
    # run monitoring can only tell a dead run from a live one through the launcher's health check
    assert launcher().supports_check_run_worker_health
    assert config["run_monitoring"]["enabled"] and config["run_retries"]["enabled"]
    assert config["run_retries"]["max_retries"] >= 1
    assert config["run_monitoring"]["max_resume_run_attempts"] == 0  # DefaultRunLauncher cannot resume


def test_workspace_yaml_is_one_grpc_code_server(deploy_env):
    raw = _yaml(WORKSPACE)
    assert process_workspace_config(raw).success
    [entry] = raw["load_from"]
    assert set(entry) == {"grpc_server"}
    assert entry["grpc_server"]["location_name"] == "sentrum"


def test_the_deployed_mode_test_changes_only_what_it_says(tmp_path):
    rendered, deployed = render_test_instance(tmp_path), instance_config()
    for path in TEST_OVERRIDES:
        *parents, leaf = path.split(".")
        for config in (rendered, deployed):
            node = config
            for key in parents:
                node = node[key]
            node[leaf] = "overridden"
    assert rendered == deployed


# ---- docker compose -------------------------------------------------------------------------------------------


def test_compose_runs_the_image_commands_with_the_environment_they_read():
    services = compose()["services"]
    images = {services[s]["image"] for s in SERVICES}
    assert len(images) == 1, "the code server, webserver and daemon run one image"
    for name in SERVICES:
        assert services[name]["build"] == {"context": "..", "dockerfile": "deploy/Dockerfile"}
    assert "command" not in services["code-server"]  # the image's own command (the code server)
    workspace = "/opt/dagster/workspace.yaml"
    web, daemon = services["webserver"]["command"], services["daemon"]["command"]
    assert web[0] == "dagster-webserver" and option(web, "-w", "--workspace") == workspace
    assert daemon[:2] == ["dagster-daemon", "run"] and option(daemon, "-w", "--workspace") == workspace
    assert all(p.startswith("127.0.0.1:") for p in services["webserver"]["ports"])
    # everything the instance and workspace files read is set in each container that loads them (the code server
    # too: its run processes open the instance)
    needed = env_references(instance_config()) | env_references(_yaml(WORKSPACE))
    for name in SERVICES:
        env = services[name]["environment"]
        assert needed <= set(env), (name, needed - set(env))
        assert env["DAGSTER_CODE_SERVER_HOST"] == "code-server"
        assert env["DAGSTER_CODE_SERVER_PORT"] == option(image_command(), "-p", "--port")
        assert env["DAGSTER_PG_HOST"] == "postgres"
    pg = services["postgres"]["environment"]
    env = services["daemon"]["environment"]
    assert (pg["POSTGRES_USER"], pg["POSTGRES_DB"]) == (env["DAGSTER_PG_USER"], env["DAGSTER_PG_DB"])
    assert pg["POSTGRES_PASSWORD"] == env["DAGSTER_PG_PASSWORD"]
    # every variable Compose insists on is listed in the example file users copy
    required = set(re.findall(r"\$\{(\w+):\?", (DEPLOY / "docker-compose.yml").read_text()))
    listed = {line.split("=", 1)[0] for line in (DEPLOY / "env.example").read_text().splitlines() if "=" in line}
    assert required and required <= listed


# ---- Helm -----------------------------------------------------------------------------------------------------


def _helm() -> dict:
    return _yaml(DEPLOY / "helm-values.yaml")


def test_helm_values_configure_the_k8s_run_launcher_with_its_own_fields():
    from dagster_k8s import K8sRunLauncher

    values = _helm()
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    fields = set(K8sRunLauncher.config_type())
    for key in values["runLauncher"]["config"]["k8sRunLauncher"]:
        assert camel_to_snake(key) in fields, key
    assert K8sRunLauncher.supports_check_run_worker_health.fget(None)  # run monitoring works on Kubernetes


def test_helm_values_say_what_deploy_dagster_yaml_says():
    from dagster_gcp.gcs import GCSComputeLogManager

    values, instance = _helm(), instance_config()
    logs = values["computeLogManager"]
    assert logs["type"] == instance["compute_logs"]["class"] == "GCSComputeLogManager"
    gcs = snake_keys(logs["config"]["gcsComputeLogManager"])
    assert set(gcs) <= set(GCSComputeLogManager.config_type())
    assert {k: v for k, v in gcs.items() if k != "bucket"} == {
        k: v for k, v in instance["compute_logs"]["config"].items() if k != "bucket"
    }
    daemon = values["dagsterDaemon"]
    assert daemon["runCoordinator"]["type"] == instance["run_coordinator"]["class"]
    schema = dagster_instance_config_schema()
    for helm_key, key in (("runMonitoring", "run_monitoring"), ("runRetries", "run_retries")):
        converted = snake_keys(daemon[helm_key])
        assert set(converted) <= set(schema[key].config_type.fields), helm_key
        assert converted == instance[key], helm_key
    pg = instance["storage"]["postgres"]["postgres_db"]
    assert values["postgresql"]["postgresqlScheme"] == pg["scheme"]
    concurrency = dict(values["concurrency"])
    assert concurrency.pop("enabled") is True
    assert snake_keys(concurrency) == instance["concurrency"]


def test_helm_code_server_is_the_image_command():
    values = _helm()
    [deployment] = values["dagster-user-deployments"]["deployments"]
    # one image for the code server, the webserver and the daemon (the chart's DAGSTER_HOME is the image's)
    assert deployment["image"] == values["dagsterWebserver"]["image"] == values["dagsterDaemon"]["image"]
    assert image_env()["DAGSTER_HOME"] == "/opt/dagster/dagster_home"
    command = image_command()
    args = deployment["dagsterApiGrpcArgs"]
    assert (option(args, "-m"), option(args, "-a")) == (option(command, "-m"), option(command, "-a"))
    assert str(deployment["port"]) == option(command, "-p", "--port")


def test_the_image_runs_the_schedules_a_laptop_does_not(monkeypatch):
    from orchestration.schedules import schedule_status
    from orchestration.settings import Settings

    # the image's environment, read as the code server reads it: every deployment (Compose, Helm) uses the image
    for name in [n for n in os.environ if n.startswith("SENTRUM_")]:
        monkeypatch.delenv(name)
    assert schedule_status(Settings().schedules_running) == dg.DefaultScheduleStatus.STOPPED
    monkeypatch.setenv("SENTRUM_SCHEDULES_RUNNING", image_env()["SENTRUM_SCHEDULES_RUNNING"])
    assert schedule_status(Settings().schedules_running) == dg.DefaultScheduleStatus.RUNNING
