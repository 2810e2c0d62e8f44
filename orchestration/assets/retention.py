"""Retention: the daily deletion sweep (with its proof), the 30-day promise as a check, and exports. Thin: the
work is in retention/."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg

from orchestration.partitions import WORKSPACES
from orchestration.resources import RegistryResource, SecretStoreResource, WarehouseResource
from retention import AUDIT_LOG, due_for_sweep, export_workspace, overdue_requests, sweep_workspace
from workspaces import WorkspaceNotFound

AUDIT_KEY = dg.AssetKey(["ops", AUDIT_LOG.name])


class SweepConfig(dg.Config):
    dry_run: bool = False
    # Sweep (or re-verify) this workspace even if it has left the registry; empty: every deletion request.
    workspace: str | None = None


class ExportConfig(dg.Config):
    workspace: str
    out: str | None = None  # default: <SENTRUM_HOME>/exports/<workspace>/<timestamp>


class RetentionPaths(dg.ConfigurableResource):
    exports_dir: str


@dg.asset(
    key=AUDIT_KEY,
    group_name="ops",
    kinds={"python"},
    description="Deletion sweep: every row of each workspace whose deletion was requested, in every table with a "
    "workspace_id column (from the catalog), its token, exports and partition; one audit row per sweep.",
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
    if config.workspace:
        try:
            targets = [(config.workspace, reg.get(config.workspace))]
        except WorkspaceNotFound:
            targets = [(config.workspace, None)]  # already swept and gone from the registry: re-verify
    else:
        targets = [(w.id, w) for w in due_for_sweep(reg.list())]

    def remove_partition(workspace_id: str) -> bool:
        if context.instance.has_dynamic_partition(WORKSPACES, workspace_id):
            context.instance.delete_dynamic_partition(WORKSPACES, workspace_id)
        return not context.instance.has_dynamic_partition(WORKSPACES, workspace_id)

    reports = []
    with warehouse.open() as wh:
        for workspace_id, ws in targets:
            report = sweep_workspace(
                wh,
                workspace_id,
                requested_at=ws.deletion_requested_at if ws else None,
                secrets=store if ws else None,
                token_secret=ws.meta.token_secret if ws else None,
                exports_root=Path(retention_paths.exports_dir),
                remove_partition=remove_partition,
                registry=reg if ws else None,
                dry_run=config.dry_run,
                run_id=context.run_id,
            )
            context.log.info(report.describe())
            reports.append(report)
    text = "\n".join(r.describe() for r in reports)
    failed = [r.workspace_id for r in reports if not r.dry_run and not r.verified]
    if failed:
        raise dg.Failure(
            f"verification found rows left for {failed}; the next sweep retries\n{text}", allow_retries=False
        )
    return dg.MaterializeResult(
        metadata={
            "report": dg.MetadataValue.text(text),
            "dry_run": config.dry_run,
            "workspaces": [r.workspace_id for r in reports],
            "rows_deleted": {r.workspace_id: r.total_deleted for r in reports},
            "verified": [r.workspace_id for r in reports if r.verified],
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
                f"select workspace_id, swept_at, verification from {wh.table_ref(AUDIT_LOG.schema, AUDIT_LOG.name)}"
            )
        overdue = overdue_requests(registry.get().list(), rows, datetime.now(UTC), timedelta(days=sla_days))
        return dg.AssetCheckResult(passed=not overdue, metadata={"overdue_requests": overdue})

    return deletions_within_sla


@dg.op(description="Every table's rows of one workspace as Parquet, with a manifest of row counts and SHA-256.")
def export_workspace_op(
    context: dg.OpExecutionContext, config: ExportConfig, warehouse: WarehouseResource, retention_paths: RetentionPaths
) -> None:
    out = Path(config.out) if config.out else (
        Path(retention_paths.exports_dir) / config.workspace / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    )  # fmt: skip
    with warehouse.open() as wh:
        manifest = export_workspace(wh, config.workspace, out)
    context.log.info(f"exported {manifest['total_rows']} rows in {len(manifest['files'])} file(s) to {out}")


@dg.job(name="export_workspace", description="Export one workspace's data (config: workspace, out).")
def export_job() -> None:
    export_workspace_op()


retention_job = dg.define_asset_job(
    "retention_sweep_job",
    selection=dg.AssetSelection.assets(retention_sweep),
    description="The deletion sweep and its checks.",
    executor_def=dg.in_process_executor,
)


def build_retention_defs(sla_days: int, cron: str) -> dg.Definitions:
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
                default_status=dg.DefaultScheduleStatus.RUNNING,
            )
        ],
    )
