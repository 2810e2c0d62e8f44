"""A process's session on the embedded default's warehouse, the DuckDB file, without Dagster.

DuckDB admits one writing process at a time and refuses a second at once, so every session holds `<file>.lock`
(orchestration/filelock.py): a second process waits, saying for whom, up to a bound. The warehouse resource
(resources.py) opens its sessions here, and so do the CLI's own reads (`sweep`'s refusals, `report`,
cli_common.open_warehouse), which then answer without importing Dagster (~0.5-1 s of a process here).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orchestration.filelock import exclusive
from orchestration.settings import Settings
from warehouse import DuckDBWarehouse, Warehouse

LOCK_WAIT_S = 3600.0


def tell_stderr(holder: str) -> None:
    """What a command-line process says while it waits for the warehouse (a run says it in its log instead)."""
    print(f"sentrum: waiting for the warehouse (held by {holder})", file=sys.stderr)


def duckdb_bounds(settings: Settings) -> dict[str, Any]:
    """The DuckDB file and its bounds of the settings (SENTRUM_DUCKDB_MEMORY_LIMIT, _THREADS, _TEMP_DIR,
    _WRITE_BUFFER_MB), as the warehouse resource's fields."""
    return {
        "duckdb_path": str(settings.duckdb_file),
        "memory_limit": settings.duckdb_memory_limit,
        "threads": settings.duckdb_threads,
        "temp_directory": str(settings.duckdb_temp_directory),
        "write_buffer_mb": settings.duckdb_write_buffer_mb,
    }


@contextmanager
def writer_lock(
    duckdb_path: str, holder: str, wait_s: float = LOCK_WAIT_S, waiting: Callable[[str], None] | None = None
) -> Iterator[None]:
    """The warehouse's writer lock (`<file>.lock`), held by `holder`; `waiting(other)` is told who holds it."""
    with exclusive(Path(f"{duckdb_path}.lock"), holder, wait_s, waiting):
        yield


@contextmanager
def duckdb_session(
    duckdb_path: str,
    memory_limit: str,
    threads: int,
    temp_directory: str | None,
    write_buffer_mb: int,
    holder: str,
    wait_s: float = LOCK_WAIT_S,
    waiting: Callable[[str], None] | None = None,
) -> Iterator[Warehouse]:
    """The DuckDB warehouse, opened within the writer lock."""
    with (
        writer_lock(duckdb_path, holder, wait_s, waiting),
        DuckDBWarehouse(
            duckdb_path,
            memory_limit=memory_limit,
            threads=threads,
            temp_directory=temp_directory,
            insert_bytes=write_buffer_mb * 1024 * 1024,
        ) as wh,
    ):
        yield wh
