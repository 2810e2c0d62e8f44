"""Extraction from Meta into the raw tables, partitioned by workspace. Thin: the work is in insights_jobs/."""

from concurrent.futures import ThreadPoolExecutor
from datetime import date

import dagster as dg
from pydantic import field_validator

from insights_jobs import Window, WorkspaceResult, extract_workspace
from orchestration.partitions import workspaces_partitions
from orchestration.resources import (
    MetaApiResource,
    RegistryResource,
    SecretStoreResource,
    WarehouseResource,
    WarehouseSink,
)
from secret_store import SecretStoreError
from warehouse import ALL_TABLES
from workspaces import Workspace, WorkspaceNotFound

META_CONCURRENCY_POOL = "meta_api"
RAW_KEYS = {name: dg.AssetKey(["raw", name]) for name in ALL_TABLES}


class ExtractWindowConfig(dg.Config):
    """An explicit date window (backfill, `sentrum sync --start/--end`). Empty: each account's restatement
    window ending yesterday in its own timezone."""

    start: str | None = None
    end: str | None = None

    @field_validator("start", "end")
    @classmethod
    def _iso(cls, v: str | None) -> str | None:
        if v is not None:
            date.fromisoformat(v)
        return v

    def window(self) -> Window | None:
        if self.start is None and self.end is None:
            return None
        if self.start is None or self.end is None:
            raise dg.Failure("give both start and end of the window, or neither")
        return Window(date.fromisoformat(self.start), date.fromisoformat(self.end))


def _failed(workspace: Workspace, reason: str, reconnect: bool = False) -> WorkspaceResult:
    from insights_jobs import AccountResult

    result = WorkspaceResult(workspace.id, reconnect_needed=reconnect)
    result.accounts = [AccountResult(a, error=reason) for a in workspace.meta.ad_accounts] or [
        AccountResult("-", error=reason)
    ]
    return result


@dg.multi_asset(
    name="meta_extract",
    specs=[
        dg.AssetSpec(
            key,
            group_name="meta_raw",
            description=f"Raw `{name}` rows from the Meta Marketing API (append-only, batch manifest).",
            kinds={"python"},
        )
        for name, key in RAW_KEYS.items()
    ],
    partitions_def=workspaces_partitions,
    # One run extracts a batch (range) of workspaces: Dagster runs have fixed overhead.
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=META_CONCURRENCY_POOL,
)
def meta_extract(
    context: dg.AssetExecutionContext,
    config: ExtractWindowConfig,
    warehouse: WarehouseResource,
    registry: RegistryResource,
    secrets: SecretStoreResource,
    meta: MetaApiResource,
):
    window = config.window()
    reg, store, extract_config = registry.get(), secrets.get(), meta.extract_config()
    keys = context.partition_keys
    context.log.info(f"extracting {len(keys)} workspace(s): {keys[0]}..{keys[-1]}, window {window or 'nightly'}")

    jobs: list[tuple[Workspace, str]] = []
    results: list[WorkspaceResult] = []
    for key in keys:
        try:
            ws = reg.get(key)
        except WorkspaceNotFound:
            context.log.warning(f"{key}: not in the registry any more, skipped")
            continue
        if not ws.extractable:
            context.log.warning(f"{key}: status {ws.status.value}, skipped")
            continue
        try:
            jobs.append((ws, store.get(ws.meta.token_secret)))
        except SecretStoreError as exc:
            context.log.error(f"{key}: no usable token ({exc}); reconnect needed")
            results.append(_failed(ws, str(exc), reconnect=True))

    with warehouse.open() as wh:
        wh.ensure_raw()
        sink = WarehouseSink(wh)

        def one(job: tuple[Workspace, str]) -> WorkspaceResult:
            ws, token = job
            return extract_workspace(
                ws.id, token, ws.meta.ad_accounts, sink, extract_config, window=window, log=context.log
            )

        with ThreadPoolExecutor(max_workers=max(1, min(meta.workspace_concurrency, len(jobs)))) as pool:
            results.extend(pool.map(one, jobs))

    ok = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    for r in failed:
        flag = " (reconnect needed)" if r.reconnect_needed else ""
        context.log.error(f"{r.workspace_id}: extraction failed{flag}: {'; '.join(r.errors)}")
    if results and not ok:
        raise dg.Failure(
            description="extraction failed for every workspace of this run: "
            + "; ".join(f"{r.workspace_id}: {'; '.join(r.errors)}" for r in failed),
            metadata={"failed_workspaces": [r.workspace_id for r in failed]},
        )

    summary = {
        "workspaces_ok": [r.workspace_id for r in ok],
        "workspaces_failed": {r.workspace_id: r.errors for r in failed},
        "reconnect_needed": [r.workspace_id for r in failed if r.reconnect_needed],
        "api_calls": sum(r.api_calls for r in results),
    }
    for name, key in RAW_KEYS.items():
        yield dg.MaterializeResult(
            asset_key=key,
            metadata={
                "rows": sum(r.rows.get(name, 0) for r in results),
                "rows_by_workspace": {r.workspace_id: r.rows.get(name, 0) for r in results},
                **summary,
            },
        )


defs = dg.Definitions(assets=[meta_extract])
