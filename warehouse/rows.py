"""Rows to Arrow: the one conversion both backends write through (DuckDB inserts Arrow, BigQuery spools Parquet)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pyarrow as pa

from warehouse.errors import WarehouseError
from warehouse.schema import RecordList, Table

_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError)


def arrow_rows(table: Table, rows: Sequence[Mapping[str, Any]], stamp: Mapping[str, Any] | None = None) -> pa.Table:
    """Rows as an Arrow table in `table`'s column order and types; `stamp` sets constant columns (the batch ids)
    without copying every row dict. Missing keys become nulls; a value of the wrong type is an error here, at
    write time, rather than a silent cast.

    Plain columns go through `from_pylist`, which walks the dicts in C++ (twice as fast as building each column from
    Python lists, measured for bench/load's pages). Decimal columns do not: pyarrow converts Decimal objects one by
    one at ~4 µs each, while their text cast by Arrow's C++ costs ~0.5 µs with the same result and the same refusals
    (more than 9 decimals, more than 38 digits). Record lists (nested action records) are built field by field the
    same way; their decimal fields may also hold decimal text (the normaliser keeps Meta's figures as text: see
    insights_jobs/normalize.py), cast by Arrow, which refuses anything that is not an exact number. When a value is
    refused, the columns are converted one by one to name the culprit."""
    schema = table.arrow_schema()
    decimal = [f.name for f in schema if pa.types.is_decimal(f.type)]
    nested = {c: k for c, k in table.columns if isinstance(k, RecordList)}
    rows = rows if isinstance(rows, list) else list(rows)
    try:
        if not decimal and not nested:
            out = pa.Table.from_pylist(rows, schema=schema)
        else:
            plain = pa.schema([f for f in schema if f.name not in decimal and f.name not in nested])
            built = pa.Table.from_pylist(rows, schema=plain) if len(plain) else None
            columns = []
            for field in schema:
                if field.name in nested:
                    columns.append(_record_list_array([r.get(field.name) for r in rows], nested[field.name], field))
                elif field.name in decimal:
                    columns.append(_decimal_array([r.get(field.name) for r in rows], field.type))
                else:
                    columns.append(built.column(field.name))
            out = pa.Table.from_arrays(columns, schema=schema)
    except _ERRORS:
        _raise_for_bad_column(table, rows)
        raise
    for name, value in (stamp or {}).items():
        i = schema.get_field_index(name)
        out = out.set_column(i, schema.field(i), pa.array([value] * len(out), type=schema.field(i).type))
    return out


_DECIMAL_INPUTS = frozenset({type(None), Decimal, int})
# Decimal's own __str__, unbound: it refuses anything that is not a Decimal (a float, a str) with a TypeError, so the
# common case (all Decimals) needs no separate type check.
_DECIMAL_TEXT = Decimal.__str__


def _decimal_array(values: list[Any], type_: pa.DataType, text_ok: bool = False) -> pa.Array:
    """Decimals (or ints; or decimal text when `text_ok`) as an Arrow decimal array, through their text. Anything
    else is refused as pyarrow would."""
    # not values.count(None): that compares every Decimal with None, an isinstance check against numbers.Rational each
    if all(v is None for v in values):
        return pa.nulls(len(values), type_)
    try:
        text = [None if v is None else _DECIMAL_TEXT(v) for v in values]
    except TypeError:
        allowed = _DECIMAL_INPUTS | {str} if text_ok else _DECIMAL_INPUTS
        wrong = {type(v) for v in values} - allowed
        if wrong or any(isinstance(v, bool) for v in values):
            names = sorted(t.__name__ for t in wrong) or ["bool"]
            raise pa.ArrowTypeError(f"int or Decimal object expected, got {names}") from None
        text = [None if v is None or isinstance(v, str) and v == "" else str(v) for v in values]
    return pa.array(text, pa.string()).cast(type_)


@lru_cache(maxsize=16)
def _text_type(kind: RecordList) -> pa.DataType:
    """`kind` with every field as text: Arrow builds it from the record dicts in C++, then casts it."""
    return pa.list_(pa.struct([(name, pa.string()) for name in kind.field_names()]))


def _record_list_array(lists: list[Any], kind: RecordList, field: pa.Field) -> pa.Array:
    """A column of lists of record dicts (None: a null list) as an Arrow list<struct>.

    Records whose fields are all text (the normaliser's) are built by Arrow from the dicts and cast in C++; others
    (Decimals, ints) field by field. Either way a field the record list does not have is refused."""
    known = frozenset(kind.field_names())
    try:
        for value in lists:
            for r in value or ():
                if not known.issuperset(r):
                    raise pa.ArrowInvalid(f"unknown record fields {sorted(set(r) - known)}")
    except (TypeError, AttributeError):
        raise pa.ArrowTypeError("a list of records (dicts) expected") from None
    try:
        return pa.array(lists, _text_type(kind)).cast(field.type)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        pass  # not all text, or text that is not a number: field by field (which names what it refuses)
    offsets = [0]
    records: list[Mapping[str, Any]] = []
    for value in lists:
        if value is not None:
            if not isinstance(value, list | tuple):
                raise pa.ArrowTypeError(f"a list of records expected, got {type(value).__name__}")
            records.extend(value)
        offsets.append(len(records))
    # one pass over the records' own keys (they are sparse: a few windows of a few lists each), not one per field
    columns: dict[str, list[Any]] = {name: [None] * len(records) for name in kind.field_names()}
    for i, r in enumerate(records):
        for name, v in r.items():
            columns[name][i] = v
    struct_type = field.type.value_type
    children = []
    for child in struct_type:
        values = columns[child.name]
        if pa.types.is_decimal(child.type):
            children.append(_decimal_array(values, child.type, text_ok=True))
        else:
            children.append(pa.array(values, child.type))
    structs = pa.StructArray.from_arrays(children, fields=list(struct_type))
    mask = pa.array([v is None for v in lists], pa.bool_())
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), structs, type=field.type, mask=mask)


def _raise_for_bad_column(table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    for (name, kind), column in zip(table.columns, table.arrow_schema(), strict=True):
        values = [r.get(name) for r in rows]
        try:
            if isinstance(kind, RecordList):
                _record_list_array(values, kind, column)
            elif pa.types.is_decimal(column.type):
                _decimal_array(values, column.type)
            else:
                pa.array(values, type=column.type)
        except _ERRORS as exc:
            raise WarehouseError(f"{table.schema}.{table.name}.{name} ({column.type}): {exc}") from exc
