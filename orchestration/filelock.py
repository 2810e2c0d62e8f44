"""An exclusive lock between processes on one machine: `flock` on a lock file, taken with a bounded wait, naming its
holder in the file so that a waiter can say whom it waits for.

Used for the DuckDB warehouse (one writing process at a time: DuckDB itself refuses a second one at once, with an
error) and for preparing dbt's manifest (one `dbt parse` at a time). Not re-entrant: a process that asks again for a
lock it holds gets `LockError` at once instead of waiting for itself.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

POLL_S = 0.25


class LockError(RuntimeError):
    """The lock could not be taken: held by someone else past the wait, or already by this very process."""


def _holder(fd: int) -> str:
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 512).decode(errors="replace").strip() or "another process"


@contextmanager
def exclusive(path: Path, holder: str, wait_s: float, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the lock `path` for the block. `holder` (e.g. "run 1a2b3c4d") is written into the file for waiters; when
    the lock is taken, `on_wait` is told once who holds it (e.g. "run 5e6f7a8b (pid 4242)"), then the wait lasts at
    most `wait_s` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait_s
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                held_by = _holder(fd)
                if held_by.endswith(f"(pid {os.getpid()})"):
                    raise LockError(f"{path.name} is already held by this process ({held_by})") from None
                if not told and on_wait is not None:
                    on_wait(held_by)
                    told = True
                if time.monotonic() >= deadline:
                    raise LockError(f"gave up after {wait_s:g} s waiting for {held_by}") from None
                time.sleep(POLL_S)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{holder} (pid {os.getpid()})".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
