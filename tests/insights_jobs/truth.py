"""Compare what the extractor landed (normalised rows in a MemorySink) with the sandbox's ground truth."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from graph_sandbox import Scenario
from graph_sandbox.metrics import CONVERSION_TYPES
from insights_jobs.normalize import ACTION_RECORD_FIELDS, BREAKDOWNS
from insights_jobs.reports import REPORTS

METRICS = ("spend", "impressions", "clicks", "inline_link_clicks", "reach")


def _key(day: date, campaign_id, adset_id, ad_id, breakdowns: dict[str, str]) -> tuple[Any, ...]:
    return (day, campaign_id, adset_id, ad_id, *(breakdowns.get(b) for b in BREAKDOWNS))


def expected(scenario: Scenario, report_name: str, account_id: str, since: date, until: date):
    """(rows by key, action figures by (key, metric, action_type, window)) the API serves for one report."""
    spec = REPORTS[report_name]
    rows: dict[tuple, dict[str, Any]] = {}
    actions: dict[tuple, Decimal] = {}
    for t in scenario.truth(spec.level, account_id, since, until, breakdowns=list(spec.breakdowns)):
        k = _key(t.date, t.campaign_id, t.adset_id, t.ad_id, t.breakdowns)
        assert k not in rows, k
        rows[k] = {m: getattr(t, m) for m in METRICS}
        for a in t.actions:
            actions[(k, a.metric, a.action_type, a.window)] = a.value
            if a.action_type in CONVERSION_TYPES:
                metric = "conversions" if a.metric == "actions" else "conversion_values"
                actions[(k, metric, a.action_type, a.window)] = a.value
    return rows, actions


def landed(rows: list[dict[str, Any]], account_id: str):
    got_rows: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        if r["account_id"] != account_id:
            continue
        k = _key(r["date_day"], r["campaign_id"], r["adset_id"], r["ad_id"], {b: r[b] for b in BREAKDOWNS if r[b]})
        assert k not in got_rows, f"duplicate row {k}"
        got_rows[k] = {m: r[m] for m in METRICS}
    got_actions: dict[tuple, Decimal] = {}
    for r in rows:
        if r["account_id"] != account_id:
            continue
        k = _key(r["date_day"], r["campaign_id"], r["adset_id"], r["ad_id"], {b: r[b] for b in BREAKDOWNS if r[b]})
        types = [record["action_type"] for record in r.get("actions") or ()]
        assert len(types) == len(set(types)), f"an action type twice in {k}"
        for record in r.get("actions") or ():
            for metric, fields in ACTION_RECORD_FIELDS.items():
                for window, field in fields:
                    if record.get(field) is None:
                        continue
                    value = Decimal(record[field])  # exact decimal text, as the normaliser keeps it
                    if value == 0:
                        continue  # Meta lists zero figures of a window next to non-zero ones; the truth keeps non-zero
                    got_actions[(k, metric, record["action_type"], window)] = value
    return got_rows, got_actions


def diff(sink, scenario: Scenario, workspace_id: str, account_id: str, since: date, until: date, reports=None):
    """Differences between the visible rows and the truth, per report (empty dict: equal)."""
    problems: dict[str, list[str]] = defaultdict(list)
    for name in reports or REPORTS:
        exp_rows, exp_actions = expected(scenario, name, account_id, since, until)
        rows = [r for r in sink.visible("meta_insights", name, workspace_id) if since <= r["date_day"] <= until]
        got_rows, got_actions = landed(rows, account_id)
        if got_rows.keys() != exp_rows.keys():
            missing, extra = exp_rows.keys() - got_rows.keys(), got_rows.keys() - exp_rows.keys()
            example = sorted(missing, key=str)[:2]
            problems[name].append(f"{len(missing)} rows missing (e.g. {example}), {len(extra)} extra")
        for k in exp_rows.keys() & got_rows.keys():
            if got_rows[k] != exp_rows[k]:
                problems[name].append(f"{k}: {got_rows[k]} != {exp_rows[k]}")
        if got_actions != exp_actions:
            missing = exp_actions.keys() - got_actions.keys()
            extra = got_actions.keys() - exp_actions.keys()
            wrong = [k for k in exp_actions.keys() & got_actions.keys() if exp_actions[k] != got_actions[k]]
            problems[name].append(f"actions: {len(missing)} missing, {len(extra)} extra, {len(wrong)} differ")
    return dict(problems)
