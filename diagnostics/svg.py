"""A small SVG renderer for the findings' charts: a daily line (or bars by category) with the baseline and current
windows shaded and the anomaly marked. Self-contained markup (no script, no external reference, no font file), so a
chart can be stored in a warehouse column, embedded in HTML or shown in the Dagster UI as it is."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape

WIDTH, HEIGHT = 520, 190
LEFT, RIGHT, TOP, BOTTOM = 58, 12, 28, 34
LINE, REFERENCE, ANOMALY = "#2563eb", "#6b7280", "#dc2626"
SHADES = {"trailing": "#f3f4f6", "previous": "#e5e7eb", "current": "#fee2e2"}


@dataclass(frozen=True)
class Band:
    """A shaded date range: `kind` is trailing, previous or current (the window judged)."""

    kind: str
    start: date
    end: date


@dataclass(frozen=True)
class LineChart:
    title: str
    metric: str
    days: Sequence[date]
    values: Sequence[float | None]
    bands: Sequence[Band] = ()
    # a second series drawn dashed (a budget, a day-of-week baseline, even pacing)
    reference: Sequence[float | None] | None = None
    reference_label: str | None = None
    marked: frozenset[date] = field(default_factory=frozenset)  # the anomalous days, drawn as red dots


@dataclass(frozen=True)
class BarChart:
    title: str
    metric: str
    labels: Sequence[str]
    values: Sequence[float | None]
    marked: frozenset[int] = field(default_factory=frozenset)  # indexes of the anomalous bars


def _fmt(x: float) -> str:
    if x == 0:
        return "0"
    magnitude = abs(x)
    if magnitude >= 1000:
        return f"{x:,.0f}"
    if magnitude >= 10:
        return f"{x:.1f}"
    if magnitude >= 0.1:
        return f"{x:.2f}"
    return f"{x:.4f}"


def _scale(values: Sequence[float | None]) -> tuple[float, float]:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    lo, hi = min(0.0, min(finite)), max(finite)
    return (lo, hi) if hi > lo else (lo, lo + 1.0)


def _frame(title: str, label: str, lo: float, hi: float) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'font-family="Helvetica, Arial, sans-serif" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
        f'<text x="{LEFT}" y="16" font-size="12" font-weight="bold" fill="#111827">{escape(title)}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + 4}" text-anchor="end" fill="#374151">{_fmt(hi)}</text>',
        f'<text x="{LEFT - 6}" y="{TOP + plot_h}" text-anchor="end" fill="#374151">{_fmt(lo)}</text>',
        f'<text x="12" y="{TOP + plot_h / 2:.1f}" fill="#374151" '
        f'transform="rotate(-90 12 {TOP + plot_h / 2:.1f})" text-anchor="middle">{escape(label)}</text>',
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" stroke="#9ca3af"/>',
    ]
    return out


def render_line(chart: LineChart) -> str:
    """The chart as an SVG document (a string)."""
    n = len(chart.days)
    lo, hi = _scale([*chart.values, *(chart.reference or [])])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(n - 1, 1)

    def x(i: float) -> float:
        return LEFT + i * step

    def y(v: float) -> float:
        return TOP + plot_h - (v - lo) / (hi - lo) * plot_h

    out = _frame(chart.title, chart.metric, lo, hi)
    index = {d: i for i, d in enumerate(chart.days)}
    for band in chart.bands:
        inside = [index[d] for d in chart.days if band.start <= d <= band.end]
        if not inside:
            continue
        x0, x1 = x(min(inside) - 0.5 if min(inside) else 0), x(max(inside) + 0.5 if max(inside) < n - 1 else n - 1)
        out.append(
            f'<rect class="band-{band.kind}" x="{x0:.1f}" y="{TOP}" width="{max(x1 - x0, 1):.1f}" '
            f'height="{plot_h}" fill="{SHADES.get(band.kind, "#f3f4f6")}"/>'
        )
        out.append(f'<text x="{(x0 + x1) / 2:.1f}" y="{TOP - 2}" text-anchor="middle" fill="#6b7280" '
                   f'font-size="9">{escape(band.kind)}</text>')  # fmt: skip
    if chart.reference is not None:
        out.append(_polyline(chart.reference, x, y, REFERENCE, dashed=True))
        if chart.reference_label:
            out.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" text-anchor="end" fill="{REFERENCE}">'
                       f"- - {escape(chart.reference_label)}</text>")  # fmt: skip
    out.append(_polyline(chart.values, x, y, LINE))
    for i, (d, v) in enumerate(zip(chart.days, chart.values, strict=True)):
        if d in chart.marked and v is not None and math.isfinite(v):
            out.append(f'<circle class="anomaly" cx="{x(i):.1f}" cy="{y(v):.1f}" r="3.2" fill="{ANOMALY}"/>')
    if n:
        out.append(f'<text x="{LEFT}" y="{HEIGHT - 18}" fill="#374151">{chart.days[0].isoformat()}</text>')
        out.append(f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 18}" text-anchor="end" fill="#374151">'
                   f"{chart.days[-1].isoformat()}</text>")  # fmt: skip
    out.append("</svg>")
    return "".join(out)


def _polyline(values, x, y, color: str, dashed: bool = False) -> str:
    """Gaps (None) break the line into segments."""
    segments: list[list[str]] = [[]]
    for i, v in enumerate(values):
        if v is None or not math.isfinite(v):
            segments.append([])
        else:
            segments[-1].append(f"{x(i):.1f},{y(v):.1f}")
    dash = ' stroke-dasharray="5 4"' if dashed else ""
    kind = "reference" if dashed else "series"
    return "".join(
        f'<polyline class="{kind}" points="{" ".join(s)}" fill="none" stroke="{color}" stroke-width="1.8"{dash}/>'
        for s in segments
        if s
    )


def render_bars(chart: BarChart) -> str:
    n = len(chart.values)
    lo, hi = _scale(chart.values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(n, 1)
    out = _frame(chart.title, chart.metric, lo, hi)
    for i, (label, v) in enumerate(zip(chart.labels, chart.values, strict=True)):
        color = ANOMALY if i in chart.marked else LINE
        height = 0.0 if v is None or not math.isfinite(v) else (v - lo) / (hi - lo) * plot_h
        x0 = LEFT + i * slot + slot * 0.15
        cls = "bar anomaly" if i in chart.marked else "bar"
        out.append(f'<rect class="{cls}" x="{x0:.1f}" y="{TOP + plot_h - height:.1f}" width="{slot * 0.7:.1f}" '
                   f'height="{height:.1f}" fill="{color}"/>')  # fmt: skip
        out.append(f'<text x="{x0 + slot * 0.35:.1f}" y="{HEIGHT - 18}" text-anchor="middle" fill="#374151" '
                   f'font-size="9">{escape(label[:14])}</text>')  # fmt: skip
    out.append("</svg>")
    return "".join(out)
