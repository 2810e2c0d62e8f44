"""What a command line run shows while it works, read from the instance's event log (the run executes here or in
a process the daemon launched: the same log either way): each ad account as its extraction finishes, and dbt's
nodes counted ("dbt 40/153", from the dbt asset's log). Dagster's own event lines: `sentrum -v`."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Callable
from typing import TextIO

import dagster as dg

# The extractor's line when an account is done (insights_jobs/account_runner.py): "<ws>/<account>: {rows} rows, ...".
ACCOUNT_DONE = re.compile(r"^(?P<who>[^\s:]+/[^\s:]+): (?P<rows>\{[^}]*\}) rows, (?P<batches>\d+) batches")
COUNT = re.compile(r":\s*(\d+)")
# A dbt node reported (a model built, a test evaluated), as the dbt asset logs it: "dbt node 40: <node>".
DBT_PROGRESS = "dbt node"
DBT_NODE = re.compile(rf"^{DBT_PROGRESS} (\d+): ")
# Why a command seems to stand still (resources.py: another run holds the DuckDB file).
WAITING = "waiting for the warehouse"
POLL_S = 0.5
# Off a terminal (a log file, a test), dbt's count is printed at these fractions of the total only.
MILESTONES = (0.25, 0.5, 0.75, 1.0)


class DbtNodeLog:
    """The dbt asset's side of the count: `seen(node)` for each node dbt reports, `close()` when dbt has ended. Each
    line is an event stored in the run's event log (a marts run has ~150 nodes), so the count is logged at most every
    LOG_EVERY_S, and always the last one (the follower then reaches the total)."""

    LOG_EVERY_S = 1.0

    def __init__(self, log: Callable[[str], None]) -> None:
        self._log = log
        self._count = 0
        self._logged = 0
        self._last_node = ""
        self._at = time.monotonic()

    def seen(self, node: str) -> None:
        self._count += 1
        self._last_node = node
        if time.monotonic() - self._at >= self.LOG_EVERY_S:
            self._write()

    def close(self) -> None:
        if self._count > self._logged:
            self._write()

    def _write(self) -> None:
        self._log(f"{DBT_PROGRESS} {self._count}: {self._last_node}")
        self._logged = self._count
        self._at = time.monotonic()


def account_line(message: str) -> str | None:
    """`extracted acme/act_1001: 1,234 rows` for the extractor's account-done line; None for any other message."""
    match = ACCOUNT_DONE.match(message)
    if not match:
        return None
    rows = sum(int(n) for n in COUNT.findall(match["rows"]))
    return f"  extracted {match['who']}: {rows:,} rows"


class RunProgress:
    """Follows one run's event log from a thread until `stop()` (the caller stops it once the run has finished)."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, dbt_nodes: int, out: TextIO | None = None) -> None:
        self.instance = instance
        self.run_id = run_id
        self.dbt_total = dbt_nodes
        self.dbt_done = 0
        self.out = out or sys.stdout
        self.tty = self.out.isatty()
        self._cursor: str | None = None
        self._shown = 0.0  # the last milestone printed off a terminal
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._follow, name=f"progress-{run_id[:8]}", daemon=True)

    def start(self) -> RunProgress:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self._read()  # whatever arrived after the last poll
        if self.tty and self.dbt_done:
            self.out.write("\n")
            self.out.flush()

    def _follow(self) -> None:
        while not self._stop.wait(POLL_S):
            self._read()

    def _read(self) -> None:
        records = self.instance.get_records_for_run(self.run_id, cursor=self._cursor, limit=1000)
        self._cursor = records.cursor
        for record in records.records:
            entry = record.event_log_entry
            if entry.dagster_event is not None:
                continue
            line = account_line(entry.user_message)
            if line:
                self._print(line)
            elif entry.user_message.startswith(WAITING):
                self._print(f"  {entry.user_message}")
            node = DBT_NODE.match(entry.user_message)
            if node:
                self.dbt_done = int(node.group(1))
                self._dbt()
        if records.has_more:
            self._read()

    def _dbt(self) -> None:
        total = max(self.dbt_total, self.dbt_done)
        if self.tty:
            self.out.write(f"\r  dbt {self.dbt_done}/{total}")
            self.out.flush()
            return
        reached = [m for m in MILESTONES if self.dbt_done >= m * total and m > self._shown]
        if reached:
            self._shown = reached[-1]
            self._print(f"  dbt {self.dbt_done}/{total}")

    def _print(self, line: str) -> None:
        self.out.write(line + "\n")
        self.out.flush()


def follow(instance: dg.DagsterInstance, run_id: str, dbt_nodes: int) -> Callable[[], None]:
    """Start following the run; the returned function stops it (after a last read)."""
    return RunProgress(instance, run_id, dbt_nodes).start().stop
