"""dbt's manifest, prepared before the definitions load (`sentrum dbt-prepare`).

`@dbt_assets` reads the manifest when the definitions are imported, so it is built beforehand, as dagster-dbt
intends ("prepare at build time"): `dbt parse` into `$SENTRUM_HOME/dbt/target/` (never the repository: it may be
read-only). A deployment's image runs `sentrum dbt-prepare` when it is built; the `sentrum` CLI runs `prepare_dbt`
before loading the definitions when the manifest is missing or older than the project's files (a fresh clone, an
edited model); importing the definitions never runs dbt. No Dagster here: checking is cheap.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from orchestration.dbt_profile import profile_env
from orchestration.filelock import exclusive
from orchestration.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"
PROJECT_FILES = ("*.sql", "*.yml", "*.yaml", "*.csv", "*.md")
PREPARE_WAIT_S = 600.0
# dbt's saved parse: a run's invocation starts from the prepared one (dbt_project.SentrumDbtCliResource.run_target).
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# The dbt vars that change from run to run, which the runs pass in the environment (`run_var_env`), never on the
# command line: dbt discards its saved parse whenever the command line's vars change (dbt_project/macros/vars/).
RUN_VARS = ("sentrum_window_start", "sentrum_window_end", "sentrum_default_window_days", "sentrum_workspaces")


def run_var_env_name(var: str) -> str:
    """`sentrum_window_start` -> SENTRUM_DBT_WINDOW_START (the macro `sentrum.run_var_env_name` spells it alike)."""
    if var not in RUN_VARS:
        raise ValueError(f"{var} is not a run var: {', '.join(RUN_VARS)}")
    return "SENTRUM_DBT_" + var.removeprefix("sentrum_").upper()


def run_var_env(dbt_vars: Mapping[str, Any]) -> dict[str, str]:
    """The environment that gives dbt a run's vars: one variable each, the value as JSON (a date as plain text)."""
    return {
        run_var_env_name(k): v if isinstance(v, str) else json.dumps(v, sort_keys=True) for k, v in dbt_vars.items()
    }


def target_dir(dbt_dir: Path) -> Path:
    """Where the manifest lives: `$SENTRUM_HOME/dbt/target`."""
    return dbt_dir / "target"


def dbt_executable() -> str:
    """dbt as the runs start it: `sentrum-dbt` (dbt's command line with a local `--version`: dbt_command.py) beside
    this interpreter, so an un-activated venv (`.venv/bin/python ...`) still finds it; else dbt's own, beside it or on
    PATH."""
    here = Path(sys.executable)
    for name in ("sentrum-dbt", "dbt"):
        if here.with_name(name).exists():
            return str(here.with_name(name))
    return "dbt"


def copy_prepared(source: Path, dbt_dir: Path) -> Path:
    """A target prepared elsewhere (another SENTRUM_HOME's `dbt/target`, for the same project and warehouse) copied
    under `dbt_dir`, dbt's log left out; the manifest's path. The files keep their times, so `manifest_is_stale`
    still sees a project changed since, and `prepare_dbt` parses it again."""
    target = target_dir(dbt_dir)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    for f in source.iterdir():
        if f.is_file() and f.suffix != ".log":
            shutil.copy2(f, target / f.name)
    return target / "manifest.json"


def manifest_is_stale(manifest: Path) -> bool:
    """Missing, or older than one of the project's files."""
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    for pattern in PROJECT_FILES:
        for f in DBT_PROJECT_DIR.rglob(pattern):
            if f.relative_to(DBT_PROJECT_DIR).parts[0] in ("target", "logs", "dbt_packages"):
                continue
            if f.stat().st_mtime > built:
                return True
    return False


def prepare_dbt(settings: Settings, force: bool = False) -> Path:
    """The manifest for the settings' SENTRUM_HOME, built with `dbt parse` when it is missing or stale (or `force`);
    its path. One preparation at a time (a lock): a process that waited finds the manifest fresh and returns."""
    target = target_dir(settings.dbt_dir)
    manifest = target / "manifest.json"
    with exclusive(settings.dbt_dir / "prepare.lock", "dbt-prepare", PREPARE_WAIT_S):
        if force or manifest_is_stale(manifest):
            target.mkdir(parents=True, exist_ok=True, mode=0o700)
            # dbt's log and run files go with the manifest, never into the repository
            args = [dbt_executable(), "parse", "--quiet", "--project-dir", str(DBT_PROJECT_DIR)]
            args += ["--profiles-dir", str(DBT_PROJECT_DIR), "--target", settings.warehouse]
            args += ["--target-path", str(target), "--log-path", str(target)]
            # The profile rendered as the runs render it (dbt_profile.py): a run reuses this parse only then.
            env = {**os.environ, **profile_env(settings), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
            for var in RUN_VARS:  # a run's own, never part of the prepared parse
                env.pop(run_var_env_name(var), None)
            done = subprocess.run(args, env=env, capture_output=True, text=True, cwd=DBT_PROJECT_DIR)
            if done.returncode != 0 or not manifest.exists():
                output = (done.stdout + done.stderr).strip()[-2000:]
                raise RuntimeError(f"dbt parse failed (exit {done.returncode}): {output}")
    return manifest
