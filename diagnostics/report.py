"""The night's findings of one workspace as one self-contained HTML file: a table, then per finding its narrative,
evidence and chart (the stored SVG, inline). No script, no external reference: it opens offline and can be mailed."""

from __future__ import annotations

import json
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

from diagnostics.store import FINDINGS_TABLE

SEVERITY_ORDER = "case severity when 'high' then 0 when 'warning' then 1 else 2 end"
STYLE = """
body{font-family:Helvetica,Arial,sans-serif;margin:24px;color:#111827;max-width:1100px}
table{border-collapse:collapse;margin:12px 0}
td,th{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;font-size:13px}
.finding{border:1px solid #e5e7eb;border-radius:6px;padding:12px 16px;margin:16px 0}
.high{border-left:6px solid #dc2626}.warning{border-left:6px solid #f59e0b}.info{border-left:6px solid #3b82f6}
.meta{color:#6b7280;font-size:12px}.chart{margin-top:8px}
"""


def read_night(warehouse: Any, workspace_id: str, night: date) -> list[dict[str, Any]]:
    """The stored findings of (workspace, night), most severe first."""
    ref = warehouse.table_ref(FINDINGS_TABLE.schema, FINDINGS_TABLE.name)
    return warehouse.query(
        f"select * from {ref} where workspace_id = @ws and night = @night "
        f"order by {SEVERITY_ORDER}, finding_type, entity_level, entity_id",
        {"ws": workspace_id, "night": night},
        labels={"sentrum_component": "diagnostics"},
    )


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return escape(str(value))


def _entity(r: dict[str, Any]) -> str:
    level = {"adset": "ad set"}.get(r["entity_level"], r["entity_level"])
    cell = ""
    if r.get("breakdown"):
        cell = " · " + ", ".join(f"{k} {v}" for k, v in json.loads(r["breakdown"]).items())
    return f"{level} {escape(r['entity_name'] or r['entity_id'])} ({escape(r['entity_id'])}){escape(cell)}"


def _finding(r: dict[str, Any]) -> str:
    evidence = "".join(
        f"<tr><td>{escape(m['metric'])}</td><td>{_fmt(m.get('current'))}</td><td>{_fmt(m.get('previous'))}</td>"
        f"<td>{_fmt(m.get('trailing'))}</td></tr>"
        for m in json.loads(r["evidence"] or "[]")
    )
    causes = "".join(f"<li>{escape(c)}</li>" for c in json.loads(r["likely_causes"] or "[]"))
    actions = "".join(f"<li>{escape(a)}</li>" for a in json.loads(r["recommended_actions"] or "[]"))
    provider = escape(r["provider"]) + (f" ({escape(r['fallback_reason'])})" if r.get("fallback_reason") else "")
    # the chart is our own renderer's SVG (names escaped inside it), embedded as markup
    chart = f'<div class="chart">{r["chart_svg"]}</div>' if r.get("chart_svg") else ""
    return (
        f'<section class="finding {escape(r["severity"])}" id="f-{escape(r["finding_id"])}">'
        f"<h3>{escape(r['severity'])} · {escape(r['finding_type'])} · {_entity(r)}</h3>"
        f'<p class="meta">account {escape(r["account_id"])} ({escape(r["account_currency"] or "")}), '
        f"period {r['period_start']} to {r['period_end']}; narrated by {provider}</p>"
        f"<p>{escape(r['summary'])}</p>"
        f"<p><b>Likely causes</b></p><ul>{causes}</ul><p><b>What to do</b></p><ul>{actions}</ul>"
        f"<table><tr><th>metric</th><th>current</th><th>previous</th><th>trailing</th></tr>{evidence}</table>"
        f"{chart}</section>"
    )


def render_report(workspace_id: str, night: date, rows: list[dict[str, Any]]) -> str:
    summary = "".join(
        f'<tr><td>{escape(r["severity"])}</td><td><a href="#f-{escape(r["finding_id"])}">'
        f"{escape(r['finding_type'])}</a></td><td>{_entity(r)}</td></tr>"
        for r in rows
    )
    body = "".join(_finding(r) for r in rows) or "<p>No findings this night.</p>"
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>SENTRUM diagnostics · {escape(workspace_id)} · {night}</title><style>{STYLE}</style></head><body>"
        f"<h1>Diagnostics for {escape(workspace_id)}, night {night}</h1>"
        f"<p>{len(rows)} finding(s).</p>"
        f"<table><tr><th>severity</th><th>finding</th><th>entity</th></tr>{summary}</table>{body}</body></html>"
    )


def write_report(warehouse: Any, workspace_id: str, night: date, out: Path) -> tuple[Path, int]:
    """Write the night's report of `workspace_id` to `out` (a file, or a directory to put
    `diagnostics-<workspace>-<night>.html` in). Returns the path and the number of findings."""
    rows = read_night(warehouse, workspace_id, night)
    path = out / f"diagnostics-{workspace_id}-{night}.html" if out.is_dir() else out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_report(workspace_id, night, rows), encoding="utf-8")
    return path, len(rows)
