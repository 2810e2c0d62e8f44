"""The dbt project as Dagster sees it: `DbtProject` (its manifest under $SENTRUM_HOME/dbt/target, prepared by
`sentrum dbt-prepare`: dbt_prepare.py), the dbt CLI resource and each invocation's folder."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject

from orchestration.dbt_prepare import DBT_PROJECT_DIR, dbt_executable, target_dir
from orchestration.planning import marts_window_days
from orchestration.settings import Settings


def sentrum_dbt_project(dbt_dir: Path) -> DbtProject:
    """The project, with its manifest (`target_path`) under `dbt_dir` ($SENTRUM_HOME/dbt)."""
    return DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=target_dir(dbt_dir))


def require_manifest(project: DbtProject) -> Path:
    """The manifest's path, or a clear error naming the command that builds it."""
    if not project.manifest_path.exists():
        raise FileNotFoundError(
            f"dbt's manifest is missing at {project.manifest_path}: run `sentrum dbt-prepare` with the same "
            "SENTRUM_HOME (a deployment runs it when its image is built)"
        )
    return project.manifest_path


class SentrumDbtCliResource(DbtCliResource):
    """dagster-dbt's resource, with where each invocation's artefacts go and the marts' default window."""

    # Each invocation's target and log folder is `<runs_dir>/<run id>-<n>` (dbt_run_path).
    runs_dir: str
    # dbt var `sentrum_default_window_days`: the dates a marts run without explicit dates rebuilds.
    default_window_days: int

    def cli_with_env(self, args: Sequence[str], env: Mapping[str, str], **kwargs: Any) -> DbtCliInvocation:
        """`cli()` with `env` added for dbt. dagster-dbt starts dbt with this process's environment and reads the
        profile in this process, with no parameter for more; so `env` is set for the call that starts dbt and
        taken back right after (dbt keeps its own copy): nothing lingers in this process."""
        with _environ(env):
            return self.cli(args, **kwargs)


@contextmanager
def _environ(env: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def dbt_resource(settings: Settings) -> SentrumDbtCliResource:
    return SentrumDbtCliResource(
        project_dir=sentrum_dbt_project(settings.dbt_dir),
        target=settings.warehouse,
        dbt_executable=dbt_executable(),
        runs_dir=str(settings.dbt_dir / "runs"),
        default_window_days=marts_window_days(settings.restatement_days),
    )


def dbt_run_path(runs_dir: str | Path, run_id: str) -> Path:
    """A dbt invocation's target and log folder (dbt's DBT_TARGET_PATH and DBT_LOG_PATH): one per invocation, named
    after the Dagster run so that the retention sweep can remove a run's artefacts with the run."""
    root = Path(runs_dir)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root / f"{run_id}-{uuid.uuid4().hex[:7]}"
