"""How every asset presents itself in the UI, decided in one place: its owner, its group (the first part of its key:
`raw`, `staging`, `intermediate`, `marts`, `diagnostics`, `ops`), and kinds naming the warehouse it lives in
(`duckdb` or `bigquery`, from the settings) and, for what extraction writes, its source (`meta`)."""

from __future__ import annotations

import dagster as dg

from orchestration.asset_keys import HEALTH_KEY

OWNER = "team:data-platform"
WAREHOUSES = {"duckdb", "bigquery"}
SOURCE = "meta"
LLM_KINDS = {"openai", "anthropic"}


def kinds_for(spec: dg.AssetSpec, warehouse: str, llm: str) -> set[str]:
    """The spec's kinds with the warehouse of these settings (dagster-dbt names the manifest's adapter instead),
    `meta` on what extraction writes, and the LLM provider only when diagnostics use one."""
    kinds = (set(spec.kinds) - WAREHOUSES - LLM_KINDS) | {warehouse}
    if spec.key.path[0] == "raw" or spec.key == HEALTH_KEY:
        kinds.add(SOURCE)
    if spec.key.path[0] == "diagnostics" and llm in LLM_KINDS:
        kinds.add(llm)
    return kinds


def annotate(defs: dg.Definitions, warehouse: str, llm: str) -> dg.Definitions:
    def present(spec: dg.AssetSpec) -> dg.AssetSpec:
        return spec.replace_attributes(
            owners=[OWNER], group_name=spec.key.path[0], kinds=kinds_for(spec, warehouse, llm)
        )

    return defs.map_asset_specs(func=present)
