"""Extraction from Meta into the raw tables, partitioned by workspace. Thin: the work is in insights_jobs/.

One run extracts a batch (a partition range) of workspaces. Each workspace that lands gets its own materialization
per raw table; a workspace that fails gets an observation with the reason, a row in `ops.workspace_health`, and
fails the run at the end (after the others' data is committed), so the failure is red in the UI without holding
back anybody's data: the marts run is launched once all of the night's extraction runs have finished.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import dagster as dg
from pydantic import field_validator

from dates import Window
from insights_jobs import AccountResult, WorkspaceJob, WorkspaceResult, extract_workspaces, make_governor
from insights_jobs.errors import redact, register_secret
from orchestration.asset_keys import HEALTH_KEY, META_CONCURRENCY_POOL, RAW_KEYS
from orchestration.partitions import workspaces_partitions
from orchestration.resources import (
    MetaApiResource,
    RegistryResource,
    SecretStoreResource,
    WarehouseResource,
    WarehouseSink,
)
from secret_store import SecretNotFound, SecretStoreError
from warehouse import MANIFEST
from workspaces import Workspace
from workspaces.health import describe_token, record_health


class ExtractWindowConfig(dg.Config):
    """An explicit date window (a backfill chunk, `sentrum sync --start/--end`). Empty: each account's restatement
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
            raise dg.Failure("give both start and end of the window, or neither", allow_retries=False)
        return Window(date.fromisoformat(self.start), date.fromisoformat(self.end))


def _failed(workspace: Workspace, reason: str, reconnect: bool = False, action: str | None = None) -> WorkspaceResult:
    result = WorkspaceResult(workspace.id, reconnect_needed=reconnect)
    accounts = workspace.meta.ad_accounts or ["-"]
    verdict = "stop_workspace" if reconnect else action
    result.accounts = [AccountResult(a, error=reason, action=verdict) for a in accounts]
    return result


class RedactingLog:
    """The run's logger, with every message scrubbed of the tokens this process uses (Meta may echo a token in an
    error message; the extractor's messages reach the Dagster event log through here)."""

    def __init__(self, log) -> None:
        self._log = log

    def _emit(self, level: str, msg: object, *args: object, **kwargs: object) -> None:
        text = str(msg) % args if args else str(msg)
        getattr(self._log, level)(redact(text))

    def debug(self, msg: object, *args: object, **kwargs: object) -> None:
        self._emit("debug", msg, *args)

    def info(self, msg: object, *args: object, **kwargs: object) -> None:
        self._emit("info", msg, *args)

    def warning(self, msg: object, *args: object, **kwargs: object) -> None:
        self._emit("warning", msg, *args)

    def error(self, msg: object, *args: object, **kwargs: object) -> None:
        self._emit("error", msg, *args)

    def exception(self, msg: object, *args: object, **kwargs: object) -> None:
        self._emit("error", msg, *args)


def _scrub(result: WorkspaceResult, token: str | None) -> WorkspaceResult:
    """Every message of a result without the workspace's token (and any other this process knows)."""
    for a in result.accounts:
        if a.error:
            a.error = redact(a.error, token)
        for s in a.failed_slices:
            s.message = redact(s.message, token)
    return result


def _specs() -> list[dg.AssetSpec]:
    specs = [
        dg.AssetSpec(
            key,
            description=f"Raw `{name}` rows from the Meta Marketing API (append-only, batch manifest).",
            kinds={"python"},
            skippable=True,  # materialized per workspace partition, only for workspaces that landed
        )
        for name, key in RAW_KEYS.items()
    ]
    specs.append(
        dg.AssetSpec(
            HEALTH_KEY,
            description="One row per workspace: last attempt and success, last error class, rows, reconnect needed.",
            kinds={"python"},
            skippable=True,
        )
    )
    return specs


@dg.multi_asset(
    name="meta_extract",
    specs=_specs(),
    partitions_def=workspaces_partitions,
    # One run extracts a range of workspaces: a Dagster run has fixed overhead, so workspaces share runs.
    backfill_policy=dg.BackfillPolicy.single_run(),
    # Bounds simultaneous extraction runs across the deployment: every workspace shares one Meta app's limits.
    pool=META_CONCURRENCY_POOL,
    # Retries cover infrastructure trouble (a lost process, a warehouse hiccup); Meta errors are retried inside the
    # extractor, and per-workspace failures raise without retries, so no retry storm hits Meta.
    retry_policy=dg.RetryPolicy(max_retries=2, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS),
)
def meta_extract(
    context: dg.AssetExecutionContext,
    config: ExtractWindowConfig,
    warehouse: WarehouseResource,
    registry: RegistryResource,
    secrets: SecretStoreResource,
    meta: MetaApiResource,
) -> Iterator[dg.MaterializeResult]:
    window = config.window()
    reg, store, extract_config = registry.get(), secrets.get(), meta.extract_config()
    keys = context.partition_keys
    context.log.info(f"extracting {len(keys)} workspace(s) {keys[0]}..{keys[-1]}, window {window or 'nightly'}")

    jobs: list[tuple[Workspace, str]] = []
    results: list[WorkspaceResult] = []
    registered = {w.id: w for w in reg.list()}  # one read of the registry for the whole batch
    for key in keys:
        ws = registered.get(key)
        if ws is None:
            context.log.warning(f"{key}: not in the registry any more, skipped")
            continue
        if not ws.extractable:
            context.log.warning(f"{key}: status {ws.status.value}, skipped")
            continue
        try:
            token = store.get(ws.meta.token_secret)
        except SecretNotFound:
            # the customer's token is gone (disconnected, never stored): only the customer can give a new one
            results.append(_failed(ws, "no Meta token stored for this workspace (reconnect needed)", reconnect=True))
            continue
        except SecretStoreError as exc:
            # the store itself is unreadable (key file, damaged file): the operator's to fix, not the customer's
            context.log.error(f"secret store unreadable: {exc}")
            reason = f"operator error, not the customer's: the secret store is unreadable ({exc})"
            results.append(_failed(ws, reason, action="config"))
            continue
        register_secret(token)
        jobs.append((ws, token))

    # The tokens' expiry and data-access expiry (debug_token), so a customer is asked to reconnect before it fails.
    token_health = meta.inspect_tokens({ws.id: token for ws, token in jobs})
    with warehouse.open() as wh:
        wh.ensure_raw()
        sink = WarehouseSink(wh)

        # All accounts of all the batch's workspaces interleave under one set of caps, paced by this run's governor
        # (one Meta app's limits are shared by every workspace of the run; other runs are bounded by the pool).
        results += extract_workspaces(
            [WorkspaceJob(ws.id, token, ws.meta.ad_accounts) for ws, token in jobs],
            sink,
            extract_config,
            governor=make_governor(extract_config),
            window=window,
            log=RedactingLog(context.log),
        )
        secrets = {ws.id: token for ws, token in jobs}
        results = [_scrub(r, secrets.get(r.workspace_id)) for r in results]
        rows = record_health(
            wh,
            results,
            context.run.run_id,
            datetime.now(UTC),
            tokens=token_health,
            warning_days=meta.token_warning_days,
            scrub=redact,
        )
        health = {row["workspace_id"]: row for row in rows}

    for r in results:
        _report(context, r, health[r.workspace_id])

    failed = [r for r in results if not r.ok]
    if failed:
        # Raised after every other workspace's data is committed and materialized above.
        raise dg.Failure(
            description=f"{len(failed)} of {len(results)} workspace(s) failed: "
            + "; ".join(f"{r.workspace_id}{' (reconnect needed)' if r.reconnect_needed else ''}" for r in failed),
            metadata={
                "failed_workspaces": {r.workspace_id: r.errors for r in failed},
                "reconnect_needed": [r.workspace_id for r in failed if r.reconnect_needed],
            },
            allow_retries=False,
        )
    yield from ()


def raw_row_counts(r: WorkspaceResult) -> dict[str, int]:
    """Rows the workspace's extraction wrote to each raw table (the batch manifest: one row per committed batch)."""
    counts = {name: r.rows.get(name, 0) for name in RAW_KEYS}
    counts[MANIFEST.name] = sum(a.batches for a in r.accounts)
    return counts


def _report(context: dg.AssetExecutionContext, r: WorkspaceResult, health: dict) -> None:
    """Per-partition events: materializations for a workspace that landed, an observation for one that did not.
    Each raw table carries its own row count; the extraction's figures (calls, throttling, time) are the
    workspace's, on its `workspace_health` materialization."""
    common = {
        "accounts": [a.account_id for a in r.accounts],
        "api_calls": r.api_calls,
        "throttle_errors": r.throttle_errors,
        "failed_slices": len(r.failed_slices),
        "seconds": round(r.seconds, 1),
    }
    if health.get("reconnect_soon"):
        context.log.warning(f"{r.workspace_id}: Meta token: {describe_token(health)}")
    if r.failed_slices:
        # Meta would not serve these even split down to one ad, day and field set: recorded in
        # raw.meta_extraction_errors, and the days keep their previous data.
        context.log.warning(f"{r.workspace_id}: {len(r.failed_slices)} slice(s) unreadable, see meta_extraction_errors")
    if r.ok:
        for name, rows in raw_row_counts(r).items():
            context.log_event(
                dg.AssetMaterialization(
                    asset_key=RAW_KEYS[name],
                    partition=r.workspace_id,
                    metadata={"dagster/row_count": dg.MetadataValue.int(rows)},
                )
            )
        context.log_event(
            dg.AssetMaterialization(
                asset_key=HEALTH_KEY,
                partition=r.workspace_id,
                metadata={"status": "ok", "dagster/row_count": dg.MetadataValue.int(1), **common},
            )
        )
        return
    flag = " (reconnect needed)" if r.reconnect_needed else ""
    context.log.error(f"{r.workspace_id}: extraction failed{flag}: {'; '.join(r.errors)}")
    failure = {
        "status": "failed",
        "reconnect_needed": r.reconnect_needed,
        "error_class": health.get("last_error_class") or "",
        "errors": r.errors,
        **common,
    }
    context.log_event(
        dg.AssetObservation(asset_key=RAW_KEYS["meta_insights"], partition=r.workspace_id, metadata=failure)
    )
    context.log_event(dg.AssetMaterialization(asset_key=HEALTH_KEY, partition=r.workspace_id, metadata=failure))


defs = dg.Definitions(assets=[meta_extract])
