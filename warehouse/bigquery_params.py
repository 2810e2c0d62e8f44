"""Python values as typed BigQuery query parameters (scalars, arrays, and rows as an ARRAY<STRUCT>)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from google.cloud import bigquery

from warehouse.errors import WarehouseError
from warehouse.schema import BIGQUERY_TYPES, Table


def _scalar_type(value: Any) -> str:
    if isinstance(value, bool):  # before int: bool is an int
        return "BOOL"
    if isinstance(value, int):
        return "INT64"
    if isinstance(value, float):
        return "FLOAT64"
    if isinstance(value, Decimal):
        # NUMERIC holds 29 integer and 9 fractional digits; anything beyond needs BIGNUMERIC
        sign, digits, exp = value.as_tuple()
        if isinstance(exp, int) and -exp <= 9 and len(digits) + exp <= 29:
            return "NUMERIC"
        return "BIGNUMERIC"
    if isinstance(value, datetime):
        # an aware datetime is an instant (TIMESTAMP); a naive one is a wall-clock time (DATETIME)
        return "TIMESTAMP" if value.tzinfo is not None else "DATETIME"
    if isinstance(value, date):
        return "DATE"
    if isinstance(value, bytes):
        return "BYTES"
    if isinstance(value, str) or value is None:
        return "STRING"
    raise WarehouseError(f"cannot pass a {type(value).__name__} as a BigQuery query parameter")


def query_parameter(name: str, value: Any) -> bigquery.ScalarQueryParameter | bigquery.ArrayQueryParameter:
    """A typed BigQuery parameter for a Python value (lists become ARRAY parameters; None is a NULL STRING)."""
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
        types = {_scalar_type(v) for v in items if v is not None}
        if len(types) > 1:
            raise WarehouseError(f"parameter @{name}: array items of mixed types {sorted(types)}")
        return bigquery.ArrayQueryParameter(name, types.pop() if types else "STRING", items)
    return bigquery.ScalarQueryParameter(name, _scalar_type(value), value)


def rows_parameter(name: str, table: Table, rows: Sequence[Mapping[str, Any]]) -> bigquery.ArrayQueryParameter:
    """`rows` as an ARRAY<STRUCT> parameter typed by `table`'s columns (so a NULL keeps its column's type)."""
    structs = [
        bigquery.StructQueryParameter(
            None,
            *(bigquery.ScalarQueryParameter(col, BIGQUERY_TYPES[kind], row.get(col)) for col, kind in table.columns),
        )
        for row in rows
    ]
    return bigquery.ArrayQueryParameter(name, "STRUCT", structs)
