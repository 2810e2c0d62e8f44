"""What a command's runs left behind, read from their event log: rows landed per raw table, dbt models built and
their tests, diagnostics findings per workspace. Printed by `sentrum demo`, `sync` and `nightly` after the runs."""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import dagster as dg

from orchestration.outcomes import RunOutcome

ROW_COUNT = "dagster/row_count"
DBT_LAYERS = ("staging", "intermediate", "marts")


@dataclass
class Landed:
    raw_rows: Counter[str] = field(default_factory=Counter)
    models: Counter[str] = field(default_factory=Counter)  # per dbt layer
    mart_rows: int = 0
    checks_passed: int = 0
    checks_failed: list[str] = field(default_factory=list)
    findings: dict[str, int] = field(default_factory=dict)


def collect(instance: dg.DagsterInstance, outcomes: Sequence[RunOutcome]) -> Landed:
    out = Landed()
    kinds = {dg.DagsterEventType.ASSET_MATERIALIZATION, dg.DagsterEventType.ASSET_CHECK_EVALUATION}
    for o in outcomes:
        if o.skipped:
            continue
        for entry in instance.all_logs(o.run_id, of_type=kinds):
            event = entry.dagster_event
            if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
                check = event.asset_check_evaluation_data
                if check.passed:
                    out.checks_passed += 1
                else:
                    out.checks_failed.append(f"{check.asset_key.to_user_string()}:{check.check_name}")
                continue
            mat = event.step_materialization_data.materialization
            layer, name = mat.asset_key.path[0], mat.asset_key.path[-1]
            rows = mat.metadata.get(ROW_COUNT)
            if layer == "raw" and rows is not None:
                out.raw_rows[name] += int(rows.value)
            elif layer in DBT_LAYERS:
                out.models[layer] += 1
                if layer == "marts" and rows is not None:
                    out.mart_rows += int(rows.value)
            elif layer == "diagnostics" and mat.partition:
                found = mat.metadata.get("findings")
                out.findings[mat.partition] = int(found.value) if found is not None else 0
    return out


def describe_landed(landed: Landed) -> str:
    lines = []
    if landed.raw_rows:
        tables = ", ".join(f"{name} {rows:,}" for name, rows in sorted(landed.raw_rows.items()))
        lines += textwrap.wrap(f"rows landed in raw: {tables}", 110, subsequent_indent="  ")
    if landed.models:
        built = ", ".join(f"{landed.models[layer]} {layer}" for layer in DBT_LAYERS if landed.models[layer])
        failed = len(landed.checks_failed)
        lines.append(
            f"dbt models built: {built} (marts tables: {landed.mart_rows:,} rows); "
            f"checks: {landed.checks_passed} passed, {failed} failed"
        )
        lines += [f"  check FAILED: {name}" for name in landed.checks_failed]
    if landed.findings:
        lines.append("diagnostics findings: " + ", ".join(f"{w} {n}" for w, n in sorted(landed.findings.items())))
    return "\n".join(lines)
