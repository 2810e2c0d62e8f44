"""Retention: the daily deletion sweep (with its proof), the 30-day promise as a check, and exports. Thin: the
work is in retention/ (warehouse, secrets, exports) and orchestration/history.py (Dagster's own records).

Dagster keeps every run's config and events, so the sweep never writes a swept workspace's id there: its logs and
metadata name workspaces by their audit digest (`workspace_ref`)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
from pydantic import field_validator

from orchestration.asset_keys import AUDIT_KEY
from orchestration.history import scrub_workspace_history, workspace_markers
from orchestration.partitions import WORKSPACES
from orchestration.resources import RegistryResource, RetentionPaths, SecretStoreResource, WarehouseResource
from orchestration.schedules import schedule_status
from retention import (
    AUDIT_LOG,
    ExportRefused,
    SweepRefused,
    export_workspace,
    overdue_requests,
    plan_sweep,
    request_deletion,
    sweep_workspace,
    swept_refs,
)
from workspaces import check_workspace_id


class SweepConfig(dg.Config):
    dry_run: bool = False
    # Sweep this one workspace: one whose deletion was requested, or one an earlier sweep removed (re-verify).
    # Empty: every workspace whose deletion was requested.
    workspace: str | None = None
    # The explicit override: sweep `workspace` although its deletion was not requested. Needs `confirm` = the id.
    force: bool = False
    confirm: str | None = None

    @field_validator("workspace")
    @classmethod
    def _workspace_id(cls, v: str | None) -> str | None:
        return None if v is None else check_workspace_id(v)


class ExportConfig(dg.Config):
    workspace: str
    # A folder name under <SENTRUM_HOME>/exports/<workspace>/ (default: the UTC time); never a path elsewhere.
    out: str | None = None

    @field_validator("workspace")
    @classmethod
    def _workspace_id(cls, v: str) -> str:
        return check_workspace_id(v)


@dg.asset(
    key=AUDIT_KEY,
    kinds={"python"},
    description="Deletion sweep: every row of each workspace whose deletion was requested, in every table with a "
    "workspace_id column (from the catalog), its access schema, token, exports, partition and Dagster history; the "
    "DuckDB file rebuilt without them; one audit row per workspace.",
)
def retention_sweep(
    context: dg.AssetExecutionContext,
    config: SweepConfig,
    warehouse: WarehouseResource,
    registry: RegistryResource,
    secrets: SecretStoreResource,
    retention_paths: RetentionPaths,
) -> dg.MaterializeResult:
    reg, store = registry.get(), secrets.get()
    dbt_dir = Path(retention_paths.dbt_dir) if retention_paths.dbt_dir else None

    def remove_partition(workspace_id: str) -> bool:
        if context.instance.has_dynamic_partition(WORKSPACES, workspace_id):
            context.instance.delete_dynamic_partition(WORKSPACES, workspace_id)
        return not context.instance.has_dynamic_partition(WORKSPACES, workspace_id)

    reports = []
    compacted = False
    with warehouse.open() as wh:
        try:
            targets = plan_sweep(
                reg.list(),
                swept_refs(wh),
                config.workspace,
                force=config.force,
                confirm=config.confirm,
                dry_run=config.dry_run,
            )
        except SweepRefused as exc:
            raise dg.Failure(f"sweep refused, nothing deleted: {exc}", allow_retries=False) from None
        for target in targets:
            ws = target.workspace
            if target.forced and ws is not None:
                ws = request_deletion(reg, ws.id)  # recorded first: a crash mid-sweep leaves it due, not active
            markers = workspace_markers(target.workspace_id, ws, reg.list())
            report = sweep_workspace(
                wh,
                target.workspace_id,
                requested_at=ws.deletion_requested_at if ws else None,
                secrets=store if ws else None,
                token_secret=ws.meta.token_secret if ws else None,
                exports_root=Path(retention_paths.exports_dir),
                remove_partition=remove_partition,
                scrub_history=lambda _id, m=markers: scrub_workspace_history(
                    context.instance, m, skip_run_ids=[context.run.run_id], dbt_dir=dbt_dir
                ),
                registry=reg if ws else None,
                dry_run=config.dry_run,
                forced=target.forced,
                run_id=context.run.run_id,
            )
            context.log.info(report.describe(label=f"workspace {report.ref}"))
            reports.append(report)
        if any(not r.dry_run and (r.total_deleted or r.access_schema_dropped) for r in reports):
            compacted = wh.compact()  # the deleted rows' bytes leave the DuckDB file
    text = "\n".join(r.describe(label=f"workspace {r.ref}") for r in reports)
    failed = [r.ref for r in reports if not r.dry_run and not r.verified]
    if failed:
        raise dg.Failure(f"verification failed for {failed}; the next sweep retries\n{text}", allow_retries=False)
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.text(text),
            "dry_run": config.dry_run,
            "workspaces": [r.ref for r in reports],
            "rows_deleted": {r.ref: r.total_deleted for r in reports},
            "verified": [r.ref for r in reports if r.verified],
            "warehouse_compacted": compacted,
        }
    )


def build_deletion_check(sla_days: int) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=AUDIT_KEY,
        name="deletions_within_sla",
        description=f"No deletion request is older than {sla_days} days without a verified sweep (promise: 30).",
    )
    def deletions_within_sla(warehouse: WarehouseResource, registry: RegistryResource) -> dg.AssetCheckResult:
        with warehouse.open() as wh:
            wh.ensure_table(AUDIT_LOG)
            rows = wh.query(
                f"select workspace_ref, swept_at, verification from {wh.table_ref(AUDIT_LOG.schema, AUDIT_LOG.name)}"
            )
        overdue = overdue_requests(registry.get().list(), rows, datetime.now(UTC), timedelta(days=sla_days))
        return dg.AssetCheckResult(passed=not overdue, metadata={"overdue_requests": overdue})

    return deletions_within_sla


@dg.op(description="Every table's rows of one workspace as Parquet, with a manifest of row counts and SHA-256.")
def export_workspace_op(
    context: dg.OpExecutionContext, config: ExportConfig, warehouse: WarehouseResource, retention_paths: RetentionPaths
) -> None:
    with warehouse.open() as wh:
        try:
            export = export_workspace(wh, config.workspace, Path(retention_paths.exports_dir), config.out)
        except ExportRefused as exc:
            raise dg.Failure(str(exc), allow_retries=False) from None
    manifest = export.manifest
    context.log.info(f"exported {manifest['total_rows']} rows in {len(manifest['files'])} file(s) to {export.path}")


@dg.job(
    name="export_workspace",
    description="Export one workspace's data (config: workspace, out).",
    executor_def=dg.in_process_executor,  # one op; and `sentrum export` executes it in its own process
)
def export_job() -> None:
    export_workspace_op()


retention_job = dg.define_asset_job(
    "retention_sweep_job",
    selection=dg.AssetSelection.assets(retention_sweep),
    description="The deletion sweep and its checks.",
    executor_def=dg.in_process_executor,
)


def build_retention_defs(sla_days: int, cron: str, schedule_running: bool = False) -> dg.Definitions:
    return dg.Definitions(
        assets=[retention_sweep],
        asset_checks=[build_deletion_check(sla_days)],
        jobs=[retention_job, export_job],
        schedules=[
            dg.ScheduleDefinition(
                name="daily_sweep",
                job=retention_job,
                cron_schedule=cron,
                execution_timezone="UTC",
                default_status=schedule_status(schedule_running),
                description="Sweeps every workspace whose deletion was requested: its rows, files, token and Dagster "
                "history, verified and recorded in ops.retention_audit_log.",
            )
        ],
    )
