"""Portable SQL text: identifier checks and `@name` parameters for both backends.

Callers write SQL once, with BigQuery's `@name` parameters, and pass values separately; nothing from input is ever
spliced into SQL text. The only names that do reach SQL text (schemas, tables, columns) go through
`check_identifier` first, so a name can never carry a quote, a dot or a comment.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from warehouse.errors import WarehouseError

IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")  # fullmatch: `$` would pass a trailing newline
_PARAM_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_identifier(name: object, what: str = "identifier") -> str:
    """`name` if it is a plain SQL identifier (letters, digits, underscores; not starting with a digit; ≤ 128)."""
    if not isinstance(name, str) or not IDENTIFIER.fullmatch(name):
        raise WarehouseError(f"invalid {what} {name!r}: must match {IDENTIFIER.pattern}")
    return name


def _scan(sql: str, backslash_escapes: bool) -> list[tuple[int, int, str]]:
    """Positions of `@name` parameters outside string literals, quoted identifiers and comments:
    (start of '@', end of name, name). `@@name` (BigQuery system variables) is not a parameter.

    `backslash_escapes`: BigQuery escapes quotes inside literals with a backslash; DuckDB only doubles them (a
    backslash is an ordinary character there). Both double a quote to escape it.
    """
    out: list[tuple[int, int, str]] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"', "`"):
            j = i + 1
            while j < n:
                if backslash_escapes and sql[j] == "\\":
                    j += 2
                    continue
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:
                        j += 2
                        continue
                    break
                j += 1
            if j >= n:
                raise WarehouseError(f"unterminated {ch} quote in SQL at offset {i}")
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j + 1
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            if j < 0:
                raise WarehouseError(f"unterminated /* comment in SQL at offset {i}")
            i = j + 2
        elif ch == "@":
            if sql.startswith("@@", i):
                m = _PARAM_NAME.match(sql, i + 2)
                i = m.end() if m else i + 2
                continue
            m = _PARAM_NAME.match(sql, i + 1)
            if not m:
                raise WarehouseError(f"'@' without a parameter name in SQL at offset {i}")
            out.append((i, m.end(), m.group(0)))
            i = m.end()
        else:
            i += 1
    return out


def parameter_names(sql: str, dialect: str = "bigquery") -> list[str]:
    """The `@name` parameters `sql` uses, in order of first use (`dialect`: "bigquery" or "duckdb")."""
    seen: dict[str, None] = {}
    for _, _, name in _scan(sql, backslash_escapes=dialect == "bigquery"):
        seen.setdefault(name, None)
    return list(seen)


def check_params(sql: str, params: Mapping[str, Any] | None, dialect: str = "bigquery") -> dict[str, Any]:
    """The parameters, checked against the SQL on both backends alike: every `@name` has a value and every value
    is used (an unused value is almost always a typo in the SQL)."""
    given = dict(params or {})
    for key in given:
        if not isinstance(key, str) or not _PARAM_NAME.fullmatch(key):
            raise WarehouseError(f"invalid parameter name {key!r}")
    used = parameter_names(sql, dialect)
    missing = [p for p in used if p not in given]
    unused = [p for p in given if p not in used]
    if missing or unused:
        raise WarehouseError(
            "SQL parameters do not match: "
            + "; ".join(
                part
                for part in (
                    f"no value for {', '.join('@' + p for p in missing)}" if missing else "",
                    f"values not used by the SQL: {', '.join(unused)}" if unused else "",
                )
                if part
            )
        )
    return given


def to_duckdb(sql: str) -> str:
    """`@name` → DuckDB's `$name`, outside literals and comments (which keep their text exactly)."""
    parts: list[str] = []
    last = 0
    for start, end, name in _scan(sql, backslash_escapes=False):
        parts.append(sql[last:start])
        parts.append(f"${name}")
        last = end
    parts.append(sql[last:])
    return "".join(parts)
