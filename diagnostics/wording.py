"""Wording shared by the offline templates: numbers, money, percentages, entity labels."""

from __future__ import annotations

from diagnostics.findings import Finding, Metric
from diagnostics.narrative import Confidence


def _fmt_pct(x: float | None, signed: bool = True) -> str:
    if x is None:
        return "n/a"
    return f"{x * 100:+.0f}%" if signed else f"{x * 100:.0f}%"


def _fmt_ratio_pct(x: float | None) -> str:
    """A rate such as CTR or conversion rate, shown as a percentage with two decimals."""
    return "n/a" if x is None else f"{x * 100:.2f}%"


def _fmt_money(x: float | None, currency: str | None) -> str:
    if x is None:
        return "n/a"
    # Zero-decimal currencies (JPY, KRW, ...) read wrong with cents.
    decimals = 0 if (currency or "") in {"JPY", "KRW", "VND", "CLP", "ISK", "HUF", "TWD", "IDR"} else 2
    return f"{x:,.{decimals}f} {currency or ''}".strip()


def _fmt_num(x: float | None) -> str:
    return "n/a" if x is None else f"{x:,.0f}"


def _change(m: Metric | None, baseline: str = "previous") -> float | None:
    if m is None or m.current is None:
        return None
    base = getattr(m, baseline)
    return m.current / base - 1.0 if base else None


def _fall(m: Metric | None) -> str:
    """How far a metric fell from the previous window, as a positive percentage."""
    c = _change(m)
    return _fmt_pct(-c, signed=False) if c is not None else "n/a"


def _level(f: Finding) -> str:
    return {"adset": "ad set"}.get(f.entity.level, f.entity.level)


def _label(f: Finding) -> str:
    return f"{_level(f)} '{f.entity.name or f.entity.id}'"


def _cap(text: str) -> str:
    # not str.capitalize(): that lower-cases the rest, and the rest is a customer's object name
    return text[:1].upper() + text[1:]


def _period(f: Finding) -> str:
    return f"{f.period.start.isoformat()}..{f.period.end.isoformat()}"


def _confidence(f: Finding) -> Confidence:
    # The numbers are exact; the causes are templates. Confidence says how strong the signal is, no more.
    return "low" if f.severity == "info" else "medium"
