"""Helpers of the dbt tests: running dbt as a subprocess, reading the DuckDB warehouse."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

REPO = Path(__file__).resolve().parents[2]
DBT_PROJECT = REPO / "dbt_project"
# The dbt executable the marts runs start (orchestration/dbt_command.py): dbt's own command line, with the
# pipeline's garbage-collector settings (orchestration/gc_tuning.py).
DBT = Path(sys.executable).with_name("sentrum-dbt")


def dbt_env(env: dict[str, str] | None = None) -> dict[str, str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SENTRUM_", "GOOGLE_", "DBT_")) and k != "CLOUDSDK_CONFIG"
    }
    base.update({"DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"})
    base.update(env or {})
    return base


def dbt_cmd(args: list[str], tmp: Path) -> list[str]:
    return [
        str(DBT),
        *args,
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        str(tmp / "target"),
        "--log-path",
        str(tmp / "logs"),
    ]


@dataclass
class DbtRun:
    """A dbt invocation started in the background (its own target and log paths under `tmp`)."""

    tmp: Path
    proc: subprocess.Popen[str]
    _done: subprocess.CompletedProcess[str] | None = field(default=None, repr=False)

    def result(self, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """Wait for the run (once; later calls return the same result)."""
        if self._done is None:
            out, err = self.proc.communicate(timeout=timeout)
            self._done = subprocess.CompletedProcess(self.proc.args, self.proc.returncode, out, err)
        return self._done

    def run_results(self) -> dict[str, Any]:
        self.result()
        return json.loads((self.tmp / "target" / "run_results.json").read_text())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def start_dbt(args: list[str], tmp: Path, env: dict[str, str] | None = None) -> DbtRun:
    tmp.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        dbt_cmd(args, tmp), cwd=tmp, env=dbt_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    return DbtRun(tmp, proc)


def dbt(args: list[str], tmp: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run dbt against dbt_project/ with target and log paths under `tmp`, and wait for it."""
    return start_dbt(args, tmp, env).result()


def vars_arg(**values: Any) -> list[str]:
    return ["--vars", json.dumps(values, default=str)]


_READERS: dict[str, duckdb.DuckDBPyConnection] = {}


def q(db: Path, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Rows of a query on a warehouse no dbt run writes any more (one read-only connection per file and session:
    opening the file costs more than most of the queries)."""
    con = _READERS.get(str(db))
    if con is None:
        con = _READERS[str(db)] = duckdb.connect(str(db), read_only=True)
    cur = con.cursor()
    try:
        cur.execute(sql, params or [])
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
    finally:
        cur.close()


def close_readers() -> None:
    for con in _READERS.values():
        con.close()
    _READERS.clear()


def failed(proc: subprocess.CompletedProcess[str]) -> str:
    return proc.stdout[-6000:] + proc.stderr[-3000:]


# dbt runs find the warehouse relative to their working directory: every run then has the same profile, so a run
# with the shared build's vars can reuse its parse (partial_parse.msgpack), which saves ~3 s of CPU per invocation.
WAREHOUSE = "warehouse.duckdb"
DUCKDB_ENV = {"SENTRUM_DUCKDB_PATH": WAREHOUSE}


@dataclass
class Built:
    db: Path
    results: dict[str, Any]
    committed_batches: int
    # The shared build's target and vars. dbt reuses a saved parse only for the same command-line vars and the same
    # `--target` (given or not): a run given these (and the build's parse, `workdir`/`parsed`) skips the full parse.
    args: list[str] = field(default_factory=list)

    def copy(self, dest: Path) -> Path:
        """A copy of the built warehouse (raw + marts + access views), to change without touching the shared one."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.db, dest)
        return dest

    def workdir(self, dest: Path) -> Path:
        """A directory for another dbt run: a copy of the warehouse and the shared build's parse."""
        self.copy(dest / WAREHOUSE)
        return self.parsed(dest)

    def parsed(self, dest: Path) -> Path:
        """A directory for another dbt run with the shared build's parse and no warehouse yet (a run with the
        build's vars then skips dbt's full parse)."""
        (dest / "target").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.db.parent / "target" / "partial_parse.msgpack", dest / "target" / "partial_parse.msgpack")
        return dest
