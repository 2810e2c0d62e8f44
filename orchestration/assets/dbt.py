"""dbt models as Dagster assets (dagster-dbt). dbt runs once per run over all workspaces, never per workspace."""

import importlib.metadata
import json
import os
import sys
import uuid
from collections.abc import Mapping
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets
from packaging import version
from pydantic import field_validator

from orchestration.resources import RegistryResource, WarehouseResource
from orchestration.settings import Settings, get_settings, prepare_home
from warehouse.legacy_actions import fold_legacy_actions
from workspaces import WorkspaceStatus

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
# dbt writes its manifest here and each run's artefacts and logs under runs/: under SENTRUM_HOME, never inside the
# repository (a read-only install; and run results and logs name workspaces, so the retention sweep must reach them).
_settings = get_settings()
prepare_home(_settings)  # owner-only (0700) when it is created here, as by the CLI
DBT_DIR = _settings.dbt_dir

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=DBT_DIR / "target")


class SentrumDbtTranslator(DagsterDbtTranslator):
    """Keys mirror warehouse schemas: sources are the raw tables written by `meta_extract`, models are
    `<layer>/<model>`; groups follow the dbt layer."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        layer = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "models"
        return dg.AssetKey([layer, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        fqn = dbt_resource_props.get("fqn", [])
        return f"dbt_{fqn[1]}" if len(fqn) > 2 else "dbt"


class SentrumDbtCliResource(DbtCliResource):
    # Each invocation's target and log folder is `<runs_dir>/<run id>-<n>` (dbt_run_path).
    runs_dir: str = str(DBT_DIR / "runs")

    @cached_property
    def _cli_version(self) -> version.Version:
        # dagster-dbt asks `dbt --version` in a subprocess on every run (~5 s here); the pinned package says the same.
        return version.parse(importlib.metadata.version("dbt-core"))


def _dbt_executable() -> str:
    # The dbt installed beside this interpreter, so an un-activated venv (`.venv/bin/python ...`) still finds it.
    beside = Path(sys.executable).with_name("dbt")
    return str(beside) if beside.exists() else "dbt"


def dbt_resource(settings: Settings) -> SentrumDbtCliResource:
    return SentrumDbtCliResource(
        project_dir=dbt_project,
        target=settings.warehouse,
        dbt_executable=_dbt_executable(),
        runs_dir=str(settings.dbt_dir / "runs"),
    )


def dbt_run_path(runs_dir: str | Path, run_id: str) -> Path:
    """A dbt invocation's target and log folder (dbt's DBT_TARGET_PATH and DBT_LOG_PATH): one per invocation, named
    after the Dagster run so that the retention sweep can remove a run's artefacts with the run."""
    root = Path(runs_dir)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root / f"{run_id}-{uuid.uuid4().hex[:7]}"


def _project_files_newer_than(path: Path) -> bool:
    if not path.exists():
        return True
    built = path.stat().st_mtime
    for pattern in ("*.sql", "*.yml", "*.yaml", "*.csv", "*.md"):
        for f in DBT_PROJECT_DIR.rglob(pattern):
            if "target" in f.relative_to(DBT_PROJECT_DIR).parts[:1] or "logs" in f.parts:
                continue
            if f.stat().st_mtime > built:
                return True
    return False


def ensure_manifest() -> Path:
    """`@dbt_assets` needs manifest.json at import time. Build it (`dbt parse`, a few seconds) when it is missing
    or older than the project's files, so a fresh clone and an edited model both load without a manual step."""
    if _project_files_newer_than(dbt_project.manifest_path):
        # dagster-dbt's own preparer builds a DbtCliResource that looks for `dbt` on PATH only; use ours.
        for folder in (DBT_DIR, dbt_project.target_path):
            folder.mkdir(exist_ok=True, mode=0o700)
        SentrumDbtCliResource(project_dir=dbt_project, dbt_executable=_dbt_executable()).cli(
            ["parse", "--quiet"], target_path=dbt_project.target_path
        ).wait()
    return dbt_project.manifest_path


class MartsConfig(dg.Config):
    """The dates the incremental facts rebuild (all workspaces); empty: the models' default window."""

    window_start: str | None = None
    window_end: str | None = None
    full_refresh: bool = False

    @field_validator("window_start", "window_end")
    @classmethod
    def _iso(cls, v: str | None) -> str | None:
        if v is not None:
            date.fromisoformat(v)
        return v


def dbt_vars(config: MartsConfig, workspace_ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"sentrum_workspaces": sorted(workspace_ids)}
    if config.window_start and config.window_end:
        out["sentrum_window_start"] = config.window_start
        out["sentrum_window_end"] = config.window_end
    return out


def dbt_build_args(dbt_vars: Mapping[str, Any] | None = None, full_refresh: bool = False) -> list[str]:
    """The dbt command of a run: one `build` over every workspace (models and their tests)."""
    args = ["build"]
    if full_refresh:
        args.append("--full-refresh")
    if dbt_vars:
        args += ["--vars", json.dumps(dict(dbt_vars), sort_keys=True)]
    return args


@dbt_assets(
    manifest=ensure_manifest(),
    project=dbt_project,
    dagster_dbt_translator=SentrumDbtTranslator(),
    name="sentrum_dbt",
)
def sentrum_dbt(
    context: dg.AssetExecutionContext,
    config: MartsConfig,
    dbt: SentrumDbtCliResource,
    warehouse: WarehouseResource,
    registry: RegistryResource,
):
    # Workspaces whose data is kept (all but those being deleted) get a per-workspace access path.
    kept = [w.id for w in registry.get().list() if w.status is not WorkspaceStatus.deletion_requested]
    args = dbt_build_args(dbt_vars(config, kept), config.full_refresh)
    # Raw written before the action lists were nested (warehouse/legacy_actions.py): folded once, before staging
    # reads the new shape only. A no-op afterwards. Here because this step runs once a night, alone.
    with warehouse.open() as wh:
        folded = fold_legacy_actions(wh)
    if folded:
        context.log.info(f"folded the old action rows into {folded} insights rows; raw.meta_insights_actions dropped")
    with warehouse.dbt_env() as env:
        # dagster-dbt hands os.environ to the dbt process and has no env parameter; profiles.yml reads these.
        os.environ.update(env)
        # where dagster-dbt looks for the partial parse file to reuse (the manifest's folder)
        os.environ["DBT_TARGET_PATH"] = str(dbt_project.target_path)
        target_path = dbt_run_path(dbt.runs_dir, context.run_id)
        yield from dbt.cli(args, context=context, target_path=target_path).stream()


defs = dg.Definitions(assets=[sentrum_dbt])
