"""Parsing of Graph API request parameters (query string or form body, JSON-encoded where Meta expects it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from graph_sandbox import graph_errors

FILTER_OPERATORS = frozenset(
    {
        "EQUAL",
        "NOT_EQUAL",
        "GREATER_THAN",
        "GREATER_THAN_OR_EQUAL",
        "LESS_THAN",
        "LESS_THAN_OR_EQUAL",
        "IN",
        "NOT_IN",
        "CONTAIN",
        "NOT_CONTAIN",
    }
)


@dataclass(frozen=True)
class FieldSpec:
    """One entry of `fields`: a name with optional sub-fields ("creative{id,name}")."""

    name: str
    subfields: tuple[FieldSpec, ...] | None = None


@dataclass(frozen=True)
class Filter:
    """One `filtering` entry, e.g. {"field": "ad.effective_status", "operator": "IN", "value": [...]}."""

    field: str
    operator: str
    value: Any


def _split_top_level(text: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise graph_errors.invalid_param("Syntax error: unbalanced braces in fields")
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if depth != 0:
        raise graph_errors.invalid_param("Syntax error: unbalanced braces in fields")
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _field_spec(text: str) -> FieldSpec:
    if "{" in text:
        name, rest = text.split("{", 1)
        if not rest.endswith("}"):
            raise graph_errors.invalid_param(f"Syntax error in fields: {text}")
        return FieldSpec(name.strip(), tuple(_field_spec(p) for p in _split_top_level(rest[:-1])))
    # Modifiers such as ".limit(5)" are not modelled: keep the bare name.
    return FieldSpec(text.split(".", 1)[0].strip())


def parse_fields(raw: str | None) -> list[FieldSpec] | None:
    """`fields` as sent: comma-joined (GET) or a JSON array string (async POST). None when absent."""
    if raw is None:
        return None
    text = raw.strip()
    if not text:
        return []
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            raise graph_errors.invalid_param("param fields must be a list of strings") from None
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            raise graph_errors.invalid_param("param fields must be a list of strings")
        return [_field_spec(i) for i in items if i.strip()]
    return [_field_spec(p) for p in _split_top_level(text)]


def parse_json(name: str, raw: str | None, expected: type | tuple[type, ...]) -> Any:
    """A JSON-encoded parameter (None when absent); code 100 when it is malformed or of the wrong type."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        raise graph_errors.invalid_param(f"param {name} must be a valid JSON value") from None
    if not isinstance(value, expected):
        kind = expected.__name__ if isinstance(expected, type) else "/".join(t.__name__ for t in expected)
        raise graph_errors.invalid_param(f"param {name} must be a JSON {kind}")
    return value


def parse_list(name: str, raw: str | None) -> list[Any] | None:
    """A list parameter: a JSON array, or (leniently) a comma-joined string."""
    if raw is None:
        return None
    text = raw.strip()
    if text.startswith("["):
        return parse_json(name, text, list)
    return [p.strip() for p in text.split(",") if p.strip()]


def parse_filtering(raw: str | None) -> list[Filter]:
    """`filtering`: a JSON list of {"field", "operator", "value"} objects."""
    items = parse_json("filtering", raw, list)
    if items is None:
        return []
    filters: list[Filter] = []
    for item in items:
        if not isinstance(item, dict) or not {"field", "operator"} <= item.keys():
            raise graph_errors.invalid_param("param filtering must be an array of {field, operator, value} objects")
        operator = str(item["operator"]).upper()
        if operator not in FILTER_OPERATORS:
            raise graph_errors.invalid_param(f"Filtering operator {item['operator']} is not supported")
        value = item.get("value")
        if operator in ("IN", "NOT_IN") and not isinstance(value, list):
            raise graph_errors.invalid_param(
                f"Filtering field {item['field']} with operation {operator.lower()} requires an array value"
            )
        filters.append(Filter(str(item["field"]), operator, value))
    return filters


def parse_limit(raw: str | None, default: int, maximum: int) -> int:
    """`limit`: a positive integer, silently capped at `maximum` (as Meta caps page sizes)."""
    if raw is None or raw == "":
        return default
    try:
        limit = int(raw)
    except ValueError:
        raise graph_errors.invalid_param("param limit must be an integer") from None
    if limit <= 0:
        raise graph_errors.invalid_param("param limit must be a positive integer")
    return min(limit, maximum)


def parse_date(name: str, raw: object) -> date:
    if not isinstance(raw, str):
        raise graph_errors.invalid_param(f"param {name} must be a date string (YYYY-MM-DD)")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise graph_errors.invalid_param(f"param {name} must be a date string (YYYY-MM-DD), got {raw!r}") from None


def parse_time_range(name: str, value: object) -> tuple[date, date]:
    """{"since": "YYYY-MM-DD", "until": "YYYY-MM-DD"} -> (since, until); since must not be after until."""
    if not isinstance(value, dict) or "since" not in value or "until" not in value:
        raise graph_errors.invalid_param(f"param {name} must be an object with since and until dates")
    since = parse_date(f"{name}[since]", value["since"])
    until = parse_date(f"{name}[until]", value["until"])
    if since > until:
        raise graph_errors.invalid_param(f"param {name}: since ({since}) must be on or before until ({until})")
    return since, until


def parse_summary(raw: str | None) -> bool:
    """`summary=true` (the SDK's Cursor sends it) or a JSON list naming total_count."""
    if raw is None:
        return False
    text = raw.strip().lower()
    return text in ("true", "1") or "total_count" in text
