"""Dagster's record of a deleted workspace, removed by the retention sweep (README, "Privacy"; docs/privacy.md).

What names a workspace outside the warehouse: runs made for it alone (its partition, a sync, a backfill, an export, a
targeted sweep), events of batch runs (its partitions' materializations and observations, log lines, failure
metadata, the dbt command's `--vars`), run tags (a batch's partition range starts or ends at it), asset-check
evaluations, the asset index (last materialization, cached partition status), sensor ticks (partition requests),
compute logs, dbt's per-run artefacts, and the free pages of the SQLite files that held any of it.

The rules, per run (the run of the sweep itself and unfinished runs are left alone and reported):
- a run made for the workspace alone is deleted whole (`instance.delete_run`, its tags, its check evaluations, its
  compute logs and dbt artefacts; on SQLite its emptied event shard is VACUUMed with the other files);
- a run that also served other workspaces keeps the others' history: the workspace's partition events and every log
  line naming it are deleted, any other event or tag naming it is rewritten with `[deleted]` in its place, and the
  run's compute logs (raw stdout/stderr, which cannot be rewritten event by event) are deleted.
Markers are the id, its access schema name, its token secret's name and the ad accounts no other workspace has, each
matched as a whole token. Dagster has no API to delete or rewrite one event, so events, check evaluations and asset
index rows are changed through the SQL event-log storage's own connections and tables (Dagster 1.13; SQLite
locally, Postgres in production); the SQLite files are then VACUUMed so the old pages are gone from their bytes.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as db
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.event_log.base import EventLogRecord
from dagster._core.storage.event_log.schema import (
    AssetCheckExecutionsTable,
    AssetEventTagsTable,
    AssetKeyTable,
    SqlEventLogStorageTable,
)
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from dagster._core.storage.runs.schema import RunsTable, RunTagsTable
from dagster._core.storage.runs.sql_run_storage import SqlRunStorage
from dagster_shared.serdes import deserialize_value, serialize_value

from orchestration.partitions import WORKSPACES
from orchestration.tags import PARTITION_TAG, RANGE_END_TAG, RANGE_START_TAG, WORKSPACE_TAG
from warehouse.access import access_schema_name
from workspaces import Workspace

DELETED = "[deleted]"
_TOKEN_CHARS = "A-Za-z0-9_-"
RANGE_TAGS = (RANGE_START_TAG, RANGE_END_TAG)
_ASSET_EVENTS = {
    dg.DagsterEventType.ASSET_MATERIALIZATION.value,
    dg.DagsterEventType.ASSET_OBSERVATION.value,
    dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED.value,
    dg.DagsterEventType.ASSET_FAILED_TO_MATERIALIZE.value,
}
_UNFINISHED = {
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
    dg.DagsterRunStatus.MANAGED,
}


@dataclass(frozen=True)
class Markers:
    """The strings that name one workspace, matched as whole tokens (`acme` does not match `acme-eu`)."""

    workspace_id: str
    values: tuple[str, ...]

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        alternatives = "|".join(re.escape(v) for v in sorted(self.values, key=len, reverse=True))
        return re.compile(rf"(?<![{_TOKEN_CHARS}])(?:{alternatives})(?![{_TOKEN_CHARS}])")

    @cached_property
    def bytes_pattern(self) -> re.Pattern[bytes]:
        return re.compile(self.pattern.pattern.encode())

    def like(self, column: Any) -> Any:
        """A SQL pre-filter (`LIKE '%marker%'` for each marker): the database scans, Python checks the hits."""
        return db.or_(*(column.like(f"%{v}%") for v in self.values))

    def found_in(self, text: str | None) -> bool:
        return bool(text) and self.pattern.search(text) is not None

    def replace(self, text: str) -> str:
        return self.pattern.sub(DELETED, text)


def workspace_markers(workspace_id: str, workspace: Workspace | None, others: Iterable[Workspace]) -> Markers:
    """The id, its access schema name, its token secret's name and its ad accounts that no other workspace reads
    (an account shared with a kept workspace stays in that workspace's history)."""
    values = {workspace_id, access_schema_name(workspace_id)}
    if workspace is not None:
        values.add(workspace.meta.token_secret)
        shared = {a for w in others if w.id != workspace_id for a in w.meta.ad_accounts}
        values.update(a for a in workspace.meta.ad_accounts if a not in shared)
    return Markers(workspace_id, tuple(sorted(values)))


def _sql_storage(storage: Any, kind: type) -> Any:
    """The SQL storage behind the instance's (unwrapping the composite storage of a `storage:` config)."""
    if isinstance(storage, kind):
        return storage
    inner = getattr(storage, "_storage", None)
    for attr in ("event_log_storage", "run_storage"):
        candidate = getattr(inner, attr, None)
        if isinstance(candidate, kind):
            return candidate
    return None


def _run_is_for(run: dg.DagsterRun, workspace_id: str) -> bool:
    """Whether the run served this workspace alone (its partition, a range of just it, or its config)."""
    tags = run.tags
    if tags.get(PARTITION_TAG) == workspace_id:
        return True
    start, end = (tags.get(t) for t in RANGE_TAGS)
    if start is not None or end is not None:
        return start == end == workspace_id
    if tags.get(WORKSPACE_TAG) == workspace_id:
        return True
    ops = (run.run_config or {}).get("ops", {}) if isinstance(run.run_config, dict) else {}
    named = {
        op.get("config", {}).get("workspace")
        for op in ops.values()
        if isinstance(op, dict) and isinstance(op.get("config"), dict)
    }
    return named == {workspace_id}


class HistoryScrubber:
    """Removes one workspace's traces from a Dagster instance (and dbt's artefacts folder). `scrub()` returns counts."""

    def __init__(
        self,
        instance: dg.DagsterInstance,
        markers: Markers,
        *,
        skip_run_ids: Sequence[str] = (),
        dbt_dir: Path | None = None,
    ) -> None:
        self.instance = instance
        self.markers = markers
        self.skip = set(skip_run_ids)
        self.dbt_dir = dbt_dir
        self.events = _sql_storage(instance.event_log_storage, SqlEventLogStorage)
        self.runs = _sql_storage(instance.run_storage, SqlRunStorage)
        self.counts: Counter[str] = Counter()
        self.problems: list[str] = []
        self._touched_assets: set[str] = set()

    # -- runs -----------------------------------------------------------------------------------------------
    def scrub(self) -> dict[str, int]:
        if self.events is None or self.runs is None:
            raise RuntimeError("the Dagster instance's storage is not SQL: its history cannot be scrubbed")
        for run_id in self.instance.get_run_ids():
            if run_id in self.skip:
                continue
            run = self.instance.get_run_by_id(run_id)
            if run is None:
                continue
            names_it = self.markers.found_in(json.dumps(run.tags)) or self.markers.found_in(
                json.dumps(run.run_config, default=str)
            )
            if run.status in _UNFINISHED:
                # left alone (it is still writing), but the sweep is not verified while it names the workspace
                if names_it or self._events_name_it(run_id):
                    self.problems.append(f"run {run_id} is still running and names the workspace")
                continue
            if names_it and _run_is_for(run, self.markers.workspace_id):
                self._delete_run(run_id)
            else:
                self._scrub_run(run, names_it)
        self._scrub_asset_index()
        self._scrub_partition()
        self._purge_ticks()
        self._remove_artifacts()
        self._vacuum()
        if self.problems:
            raise RuntimeError("; ".join(self.problems))
        return dict(self.counts)

    def _delete_run(self, run_id: str) -> None:
        self._note_assets(run_id, self.events.run_connection)
        self.instance.delete_run(run_id)
        with self.runs.connect() as conn:  # SQLite does not enforce the tags' ON DELETE CASCADE
            conn.execute(RunTagsTable.delete().where(RunTagsTable.c.run_id == run_id))
        with self.events.index_connection() as conn:
            conn.execute(AssetCheckExecutionsTable.delete().where(AssetCheckExecutionsTable.c.run_id == run_id))
        self._delete_compute_logs(run_id)
        self._remove_artifacts(run_id)
        self.counts["runs_deleted"] += 1

    def _scrub_run(self, run: dg.DagsterRun, names_it: bool) -> None:
        changed = 0
        connections = [self.events.run_connection]
        if getattr(self.events, "path_for_shard", None) is not None:
            connections.append(lambda _run_id: self.events.index_connection())  # SQLite keeps asset events twice
        for connect in connections:
            changed += self._scrub_events(run.run_id, connect)
        changed += self._scrub_checks(run.run_id)
        changed += self._scrub_run_record(run.run_id)
        if changed or names_it:
            self._delete_compute_logs(run.run_id)
            self._remove_artifacts(run.run_id)
            self.counts["runs_scrubbed"] += 1

    def _scrub_run_record(self, run_id: str) -> int:
        """The run's stored body (tags, config, the partition range it targeted) and its tag rows."""
        changed = 0
        with self.runs.connect() as conn:
            [(body,)] = conn.execute(db.select(RunsTable.c.run_body).where(RunsTable.c.run_id == run_id)).fetchall()
            if self.markers.found_in(body):
                new = self.markers.replace(body)
                deserialize_value(new, dg.DagsterRun)  # still a valid run record, or this raises
                conn.execute(RunsTable.update().where(RunsTable.c.run_id == run_id).values(run_body=new))
                changed += 1
            tags = conn.execute(
                db.select(RunTagsTable.c.id, RunTagsTable.c.value).where(RunTagsTable.c.run_id == run_id)
            ).fetchall()
            for tag_id, value in tags:
                if self.markers.found_in(value):
                    new_value = self.markers.replace(value)
                    conn.execute(RunTagsTable.update().where(RunTagsTable.c.id == tag_id).values(value=new_value))
                    changed += 1
        return changed

    def _events_name_it(self, run_id: str) -> bool:
        t = SqlEventLogStorageTable
        with self.events.run_connection(run_id) as conn:
            rows = conn.execute(
                db.select(t.c.event)
                .where(t.c.run_id == run_id)
                .where(db.or_(t.c.partition == self.markers.workspace_id, self.markers.like(t.c.event)))
            ).fetchall()
        # a partition's event carries the partition key in its serialized form too
        return any(self.markers.found_in(event) for (event,) in rows)

    def _note_assets(self, run_id: str, connect) -> None:
        with connect(run_id) as conn:
            keys = conn.execute(
                db.select(SqlEventLogStorageTable.c.asset_key)
                .where(SqlEventLogStorageTable.c.run_id == run_id)
                .where(SqlEventLogStorageTable.c.asset_key.is_not(None))
                .distinct()
            ).fetchall()
        self._touched_assets.update(k[0] for k in keys)

    def _scrub_events(self, run_id: str, connect) -> int:
        t = SqlEventLogStorageTable
        changed = 0
        with connect(run_id) as conn:
            rows = conn.execute(
                db.select(t.c.id, t.c.event, t.c.dagster_event_type, t.c.partition, t.c.asset_key)
                .where(t.c.run_id == run_id)
                .where(db.or_(t.c.partition == self.markers.workspace_id, self.markers.like(t.c.event)))
            ).fetchall()
            for row_id, event, event_type, partition, asset_key in rows:
                if not self.markers.found_in(event) and partition != self.markers.workspace_id:
                    continue
                if asset_key:
                    self._touched_assets.add(asset_key)
                new = None
                if event_type is not None and not (
                    event_type in _ASSET_EVENTS and partition == self.markers.workspace_id
                ):
                    new = self._rewritten(event)
                if new is None:  # a log line about the workspace, or its partition's event: gone
                    conn.execute(t.delete().where(t.c.id == row_id))
                    conn.execute(AssetEventTagsTable.delete().where(AssetEventTagsTable.c.event_id == row_id))
                    self.counts["events_deleted"] += 1
                else:
                    conn.execute(t.update().where(t.c.id == row_id).values(event=new))
                    self.counts["events_rewritten"] += 1
                changed += 1
        return changed

    def _rewritten(self, text: str) -> str | None:
        """The serialized event with the markers replaced, if it still deserializes; else None (delete it)."""
        new = self.markers.replace(text)
        try:
            deserialize_value(new, EventLogEntry)
        except Exception:
            return None
        return new

    def _scrub_checks(self, run_id: str) -> int:
        t = AssetCheckExecutionsTable
        changed = 0
        with self.events.index_connection() as conn:
            rows = conn.execute(
                db.select(t.c.id, t.c.evaluation_event)
                .where(t.c.run_id == run_id)
                .where(self.markers.like(t.c.evaluation_event))
            ).fetchall()
            for row_id, event in rows:
                if not self.markers.found_in(event):
                    continue
                new = self._rewritten(event)
                if new is None:
                    conn.execute(t.delete().where(t.c.id == row_id))
                else:
                    conn.execute(t.update().where(t.c.id == row_id).values(evaluation_event=new))
                self.counts["check_evaluations_scrubbed"] += 1
                changed += 1
        return changed

    # -- instance-wide --------------------------------------------------------------------------------------
    def _scrub_asset_index(self) -> None:
        """Asset rows whose last materialization or cached partition status names the workspace: the cache is
        wiped (Dagster rebuilds it) and the last materialization is set to the newest one left."""
        t = AssetKeyTable
        with self.events.index_connection() as conn:
            rows = conn.execute(db.select(t.c.asset_key, t.c.last_materialization, t.c.cached_status_data)).fetchall()
        for key_str, last, cached in rows:
            if key_str not in self._touched_assets and not (
                self.markers.found_in(last) or self.markers.found_in(cached)
            ):
                continue
            key = dg.AssetKey.from_db_string(key_str)
            if key is None:
                continue
            self.instance.wipe_asset_cached_status([key])
            if self.markers.found_in(last) or key_str in self._touched_assets:
                latest = self.instance.fetch_materializations(key, limit=1, ascending=False).records
                value = (
                    serialize_value(
                        EventLogRecord(storage_id=latest[0].storage_id, event_log_entry=latest[0].event_log_entry)
                    )
                    if latest
                    else None
                )
                with self.events.index_connection() as conn:
                    conn.execute(t.update().where(t.c.asset_key == key_str).values(last_materialization=value))
                self.counts["asset_index_rows_fixed"] += 1

    def _scrub_partition(self) -> None:
        if self.instance.has_dynamic_partition(WORKSPACES, self.markers.workspace_id):
            self.instance.delete_dynamic_partition(WORKSPACES, self.markers.workspace_id)
            self.counts["partitions_deleted"] += 1

    def _purge_ticks(self) -> None:
        """Sensor and schedule ticks record partition requests and run requests: an instigator whose ticks name the
        workspace loses its tick history (ticks cannot be edited one by one). An instance without schedule storage
        (an ephemeral one, as in-process runs use) has no ticks to purge."""
        if self.instance.schedule_storage is None:
            return
        for state in self.instance.all_instigator_state():
            ticks = self.instance.get_ticks(state.instigator_origin_id, state.selector_id)
            if any(self.markers.found_in(serialize_value(tick.tick_data)) for tick in ticks):
                self.instance.purge_ticks(state.instigator_origin_id, state.selector_id, before=time.time() + 1)
                self.counts["tick_histories_purged"] += 1

    def _delete_compute_logs(self, run_id: str) -> None:
        try:
            self.instance.compute_log_manager.delete_logs(prefix=[run_id])
        except Exception as exc:
            self.problems.append(f"compute logs of run {run_id} not deleted: {type(exc).__name__}: {exc}")
            return
        self.counts["compute_logs_deleted"] += 1

    def _remove_artifacts(self, run_id: str | None = None) -> None:
        """dbt's artefacts: a scrubbed run's folders go whole; then every other file naming the workspace (a docs
        catalog, a run folder whose Dagster run is gone). The manifest folder (`target/`) is left alone: `dbt parse`
        writes it from the project's files only (no warehouse, no vars), so it names no customer's workspace."""
        root = self.dbt_dir
        if root is None or not root.is_dir():
            return
        base = root.resolve()
        if run_id is not None:
            for folder in (root / "runs").glob(f"{run_id}-*"):
                if folder.is_dir() and not folder.is_symlink() and folder.resolve().is_relative_to(base):
                    self.counts["dbt_files_removed"] += _remove_tree(folder)
            return
        manifest_dir = base / "target"
        needle = self.markers.bytes_pattern
        for path in sorted(root.rglob("*")):
            if path.is_symlink() or not path.is_file() or path.resolve().is_relative_to(manifest_dir):
                continue
            if needle.search(path.read_bytes()):
                path.unlink()
                self.counts["dbt_files_removed"] += 1

    def _vacuum(self) -> None:
        """Rewrite the instance's SQLite files (runs, index, schedules, each run's shard): deleted rows stay in free
        pages until then. Postgres (production) reclaims them with its own VACUUM, outside this code."""
        root = Path(self.instance.root_directory)
        for path in sorted(root.rglob("*.db")):
            if path.stem in self.skip:
                continue  # the sweep's own run is writing its shard right now
            try:
                con = sqlite3.connect(path, timeout=30)
                try:
                    con.execute("VACUUM")
                    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                finally:
                    con.close()
            except sqlite3.Error as exc:
                self.problems.append(f"{path.name} not vacuumed: {exc}")
                continue
            self.counts["sqlite_files_vacuumed"] += 1


def _remove_tree(folder: Path) -> int:
    import shutil

    count = sum(1 for p in folder.rglob("*") if p.is_file())
    shutil.rmtree(folder)
    return count


def scrub_workspace_history(
    instance: dg.DagsterInstance,
    markers: Markers,
    *,
    skip_run_ids: Sequence[str] = (),
    dbt_dir: Path | None = None,
) -> dict[str, int]:
    """Remove the workspace's traces from the instance's runs, events, tags, checks, asset index, partitions, ticks
    and compute logs, and from dbt's artefacts; counts by kind. Raises if something could not be done (the sweep
    records it and the next sweep retries)."""
    return HistoryScrubber(instance, markers, skip_run_ids=skip_run_ids, dbt_dir=dbt_dir).scrub()
