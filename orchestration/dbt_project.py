"""The dbt project as Dagster sees it: `DbtProject` (its manifest under $SENTRUM_HOME/dbt/target, prepared by
`sentrum dbt-prepare`: dbt_prepare.py), the dbt CLI resource and each invocation's folder."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliInvocation, DbtCliResource, DbtProject

from orchestration.dbt_prepare import DBT_PROJECT_DIR, PARTIAL_PARSE_FILE, dbt_executable, target_dir
from orchestration.planning import marts_window_days
from orchestration.settings import Settings

# Each marts run leaves its dbt folder under `$SENTRUM_HOME/dbt/runs/` (dbt's log, manifest, run results, compiled
# SQL: ~5 MB a night of the demo) for whoever looks into a recent run. Only the newest are kept, else a persistent
# home grows every night: a month of nightlies, a backfill's chunks counting one each.
DBT_RUNS_KEPT = 30


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
    # The home's prepared target (`sentrum dbt-prepare`): each invocation starts from its parse (`run_target`).
    prepared_target: str

    def run_target(self, run_id: str) -> Path:
        """A new invocation folder (`dbt_run_path`) holding the prepared parse, `partial_parse.msgpack`: dbt then
        re-parses only the files changed since, or that read an env var whose value changed (the run's vars), instead
        of the whole project. Without a prepared parse dbt parses everything. Copied here, before the call: dagster-dbt
        copies one only into a folder that has none, and from the repository's `dbt_project/target` (what a manual
        `dbt` run left there), never from the home's."""
        path = dbt_run_path(self.runs_dir, run_id)
        prune_dbt_runs(path.parent, DBT_RUNS_KEPT - 1)  # room for this one
        prepared = Path(self.prepared_target) / PARTIAL_PARSE_FILE
        if prepared.exists():
            path.mkdir(mode=0o700)
            shutil.copyfile(prepared, path / PARTIAL_PARSE_FILE)
        return path

    def keep_parse(self, run_target: Path) -> None:
        """The invocation's parse (dbt rewrites `partial_parse.msgpack` after parsing) becomes the next one's start.
        It holds the profile as the runs render it, which a home's prepared parse may not (a target prepared for
        another home, or an image built without the deployment's settings): from then on the runs partial-parse.
        dbt checks a saved parse against the project's files, vars, env values and profile before it uses any of it,
        so an older or foreign one costs a fuller parse, never a wrong one. Replaced in one step: a concurrent run
        reads the old file or the new one."""
        parsed = run_target / PARTIAL_PARSE_FILE
        if not parsed.exists():
            return
        kept = Path(self.prepared_target) / PARTIAL_PARSE_FILE
        kept.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = kept.with_name(f".{PARTIAL_PARSE_FILE}.{uuid.uuid4().hex[:7]}")
        shutil.copyfile(parsed, partial)
        os.replace(partial, kept)

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:  # type: ignore[override]
        """No adapter in this process. dagster-dbt sets one up before every dbt call (it loads the profile, the
        adapter and dbt's macros here: ~1.7 CPU-s a marts run) only for `fetch_row_counts()` and
        `fetch_column_metadata()`, which the marts asset does not use: it reads counts and columns through the
        warehouse once dbt has finished (assets/dbt.py). With None, dagster-dbt runs dbt as it does when that set-up
        fails."""
        return None

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
        prepared_target=str(target_dir(settings.dbt_dir)),
    )


def dbt_run_path(runs_dir: str | Path, run_id: str) -> Path:
    """A dbt invocation's target and log folder (dbt's DBT_TARGET_PATH and DBT_LOG_PATH): one per invocation, named
    after the Dagster run so that the retention sweep can remove a run's artefacts with the run."""
    root = Path(runs_dir)
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root / f"{run_id}-{uuid.uuid4().hex[:7]}"


def prune_dbt_runs(runs_dir: Path, keep: int) -> int:
    """Remove all but the newest `keep` invocation folders under `runs_dir` (by modification time: a running
    invocation's folder is among the newest); how many were removed. Files and links there are left alone."""
    folders = []
    for p in runs_dir.iterdir():
        try:
            if p.is_dir() and not p.is_symlink():
                folders.append((p.stat().st_mtime, p))
        except FileNotFoundError:  # another run pruning at the same time removed it
            continue
    folders.sort(reverse=True)
    for _, old in folders[keep:]:
        shutil.rmtree(old, ignore_errors=True)  # likewise
    return len(folders[keep:])
