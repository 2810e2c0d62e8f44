"""dbt models as Dagster assets (dagster-dbt). dbt runs once per run over all workspaces, never per workspace."""

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

import dagster as dg
from dagster._record import replace as record_replace
from dagster_dbt import DagsterDbtTranslator, dbt_assets
from pydantic import field_validator

from orchestration.dbt_prepare import run_var_env
from orchestration.dbt_project import SentrumDbtCliResource, require_manifest, sentrum_dbt_project
from orchestration.progress import DbtNodeLog
from orchestration.resources import RegistryResource, WarehouseResource
from orchestration.settings import get_settings
from warehouse.legacy_actions import fold_legacy_actions
from workspaces import WorkspaceStatus

# The manifest is read here, at import (`@dbt_assets` needs it): prepared beforehand under SENTRUM_HOME
# (`sentrum dbt-prepare`; orchestration/dbt_project.py), never built by importing this module.
dbt_project = sentrum_dbt_project(get_settings().dbt_dir)


class SentrumDbtTranslator(DagsterDbtTranslator):
    """Keys mirror warehouse schemas: sources are the raw tables written by `meta_extract`, models are
    `<layer>/<model>`; a group is its key's layer (catalog.py)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return dg.AssetKey(["raw", dbt_resource_props["name"]])
        layer = dbt_resource_props["fqn"][1] if len(dbt_resource_props["fqn"]) > 2 else "models"
        return dg.AssetKey([layer, dbt_resource_props["name"]])

    def get_asset_check_spec(
        self, asset_spec: dg.AssetSpec, manifest: Mapping[str, Any], unique_id: str, project: Any
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None or spec.description:
            return spec
        return record_replace(spec, description=dbt_test_description(manifest["nodes"][unique_id]))


def dbt_test_description(node: Mapping[str, Any]) -> str:
    """What a dbt test checks, for the UI: a generic test by its name and arguments, a singular one by the first
    sentence of its opening `{#- ... #}` comment."""
    meta = node.get("test_metadata")
    if meta:
        kwargs = meta.get("kwargs", {})
        column = node.get("column_name") or kwargs.get("column_name") or ", ".join(kwargs.get("columns", []))
        text = f"dbt test `{meta['name']}`" + (f" on {column}" if column else "")
        if kwargs.get("values"):
            text += ": one of " + ", ".join(str(v) for v in kwargs["values"])
        return text
    comment = re.match(r"\s*\{#-?(.*?)-?#\}", node.get("raw_code", ""), re.S)
    if comment:
        first = " ".join(comment.group(1).split()).split(". ")[0].rstrip(".")
        return f"{first} (dbt test `{node['name']}`)."
    return f"dbt test `{node['name']}` ({node.get('original_file_path', '')}): passes when it returns no rows."


class MartsConfig(dg.Config):
    """The dates the incremental facts rebuild (all workspaces); empty: the models' default window."""

    window_start: str | None = None
    window_end: str | None = None
    full_refresh: bool = False

    @field_validator("window_start", "window_end")
    @classmethod
    def _iso(cls, v: str | None) -> str | None:
        if v is not None:
            date.fromisoformat(v)
        return v


def dbt_vars(config: MartsConfig, workspace_ids: list[str], default_window_days: int) -> dict[str, Any]:
    """The run's dbt vars: the workspaces whose access layer is kept, the window (explicit, else the default number
    of days, derived from SENTRUM_RESTATEMENT_DAYS: `planning.marts_window_days`)."""
    out: dict[str, Any] = {
        "sentrum_workspaces": sorted(workspace_ids),
        "sentrum_default_window_days": default_window_days,
    }
    if config.window_start and config.window_end:
        out["sentrum_window_start"] = config.window_start
        out["sentrum_window_end"] = config.window_end
    return out


# Unit tests check the SQL's logic on fixed fixture rows: the same answer every night, so a run does not repeat them
# (dbt's advice: run them in development and CI; `make test` builds them on DuckDB and on BigQuery). On BigQuery each
# would be a billed query a night.
# The file log (`dbt.log` in the run's folder) in dbt's own default format, debug lines as text: dagster-dbt's
# `--log-format json` is for the standard output it reads, and would otherwise apply to the file too: a JSON document
# per debug event (a fifth of dbt's time in logging) and 4.5 MB instead of 0.7 MB for a night of three workspaces.
RUN_FLAGS = ["--exclude-resource-type", "unit_test", "--log-format-file", "debug"]


def dbt_build_args(full_refresh: bool = False) -> list[str]:
    """The dbt command of a run: one `build` over every workspace (models and their data tests). Its vars are in the
    environment (`dbt_prepare.run_var_env`), not `--vars`: dbt discards its saved parse whenever the command line's
    vars differ from the last parse's, and every run's window differs; an env var read while a file is parsed
    re-parses only that file when its value changes, so the run partial-parses from the prepared parse."""
    return ["build", *(["--full-refresh"] if full_refresh else []), *RUN_FLAGS]


@dbt_assets(
    manifest=require_manifest(dbt_project),
    project=dbt_project,
    dagster_dbt_translator=SentrumDbtTranslator(),
    name="sentrum_dbt",
)
def sentrum_dbt(
    context: dg.AssetExecutionContext,
    config: MartsConfig,
    dbt: SentrumDbtCliResource,
    warehouse: WarehouseResource,
    registry: RegistryResource,
):
    # Workspaces whose data is kept (all but those being deleted) get a per-workspace access path.
    kept = [w.id for w in registry.get().list() if w.status is not WorkspaceStatus.deletion_requested]
    run_env = run_var_env(dbt_vars(config, kept, dbt.default_window_days))
    # starts from the prepared parse, so dbt re-parses only what the run's vars change (the fact models)
    target_path = dbt.run_target(context.run.run_id)
    # Raw written before the action lists were nested (warehouse/legacy_actions.py): folded once, before staging
    # reads the new shape only. A no-op afterwards. Here because this step runs once a night, alone.
    with warehouse.open() as wh:
        folded = fold_legacy_actions(wh)
    if folded:
        context.log.info(f"folded the old action rows into {folded} insights rows; raw.meta_insights_actions dropped")
    # The warehouse session (on DuckDB: the writer's lock) lasts as long as dbt runs; profiles.yml reads `env`.
    # dbt's events are held until it has finished: a table's columns and row count are read then, through the
    # warehouse (dagster-dbt's `fetch_row_counts()`/`fetch_column_metadata()` read while dbt runs, which DuckDB's
    # one-writer lock refuses).
    events: list[Any] = []
    failure: Exception | None = None
    with warehouse.dbt_env() as env:
        invocation = dbt.cli_with_env(
            dbt_build_args(config.full_refresh), {**env, **run_env}, context=context, target_path=target_path
        )
        progress = DbtNodeLog(context.log.debug)
        try:
            for event in invocation.stream():
                events.append(event)
                progress.seen(_node_name(event))
        except Exception as exc:  # what succeeded before dbt failed is still reported, then the failure
            failure = exc
        progress.close()
    dbt.keep_parse(target_path)
    with warehouse.open() as wh:
        yield from (with_table_metadata(context, wh, e) for e in events)
    if failure is not None:
        raise failure


ROW_COUNTED = ("table", "incremental")  # views are not counted: that would run their whole query


def _node_name(event: Any) -> str:
    if isinstance(event, dg.Output):
        return event.output_name
    return getattr(getattr(event, "asset_key", None), "to_user_string", lambda: type(event).__name__)()


def with_table_metadata(context: dg.AssetExecutionContext, wh: Any, event: Any) -> Any:
    """A model's output with what the UI shows of a table: its columns with their types as the warehouse built them
    (`dagster/column_schema`; the project's YAML gives names and descriptions, not types) and, for a table, its row
    count (`dagster/row_count`)."""
    if not isinstance(event, dg.Output):
        return event
    key = context.asset_key_for_output(event.output_name)
    spec = context.assets_def.specs_by_key[key]
    metadata = dict(event.metadata)
    built = wh.columns(*key.path)
    if built:
        metadata["dagster/column_schema"] = dg.MetadataValue.table_schema(
            typed_schema(built, spec.metadata.get("dagster/column_schema"))
        )
    if spec.metadata.get("dagster-dbt/materialization_type") in ROW_COUNTED:
        [row] = wh.query(f"select count(*) as n from {wh.table_ref(*key.path)}")
        metadata["dagster/row_count"] = dg.MetadataValue.int(int(row["n"]))
    return event.with_metadata(metadata)


def typed_schema(built: list[tuple[str, str]], declared: dg.TableSchema | None) -> dg.TableSchema:
    """The built columns, in the warehouse's order, with their types and the descriptions the project declares."""
    described = {c.name.lower(): c.description for c in (declared.columns if declared else ())}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(name=name, type=kind.lower(), description=described.get(name.lower()))
            for name, kind in built
        ]
    )


defs = dg.Definitions(assets=[sentrum_dbt])
