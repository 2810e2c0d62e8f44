"""The lock between processes that keeps DuckDB to one writer: a second process waits, is told who holds the lock,
gives up after its bound; the holder asking again fails at once instead of waiting for itself."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orchestration.filelock import LockError, exclusive

HOLD = """
import sys
from pathlib import Path
from orchestration.filelock import exclusive
with exclusive(Path(sys.argv[1]), "run 1a2b3c4d", 5):
    print("held", flush=True)
    sys.stdin.read()
"""


def test_a_second_process_waits_naming_the_holder_then_gets_the_lock(tmp_path):
    path = tmp_path / "warehouse.duckdb.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        told: list[str] = []
        with pytest.raises(LockError, match="run 1a2b3c4d"), exclusive(path, "run 5e6f7a8b", 0.5, told.append):
            pass
        assert told == [f"run 1a2b3c4d (pid {holder.pid})"]
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    with exclusive(path, "run 5e6f7a8b", 5, told.append):
        assert path.read_text().startswith("run 5e6f7a8b (pid ")
    assert len(told) == 1  # free: taken without waiting
    assert path.read_text() == ""  # released: the holder's name is gone with it


def test_the_holder_asking_again_fails_at_once(tmp_path):
    path = tmp_path / "x.lock"
    raised = pytest.raises(LockError, match="already held by this process")
    with exclusive(path, "run 1a2b3c4d", 5), raised, exclusive(path, "run 1a2b3c4d", 3600):
        pass
