"""Cursor paging the way the SDK's Cursor expects it.

`paging.cursors.after` is present on every non-empty page; only the absence of `paging.next` marks
the last one.
Cursors are opaque base64 and bound to the query they came from (a cursor reused with other filters fails).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graph_sandbox import graph_errors

# Parameters that may change between the pages of one listing.
PAGE_PARAMS = frozenset({"after", "before", "limit", "summary", "fields", "access_token", "appsecret_proof"})


def fingerprint(path: str, params: Mapping[str, str]) -> str:
    """A short digest of what a listing selects (path and non-paging parameters)."""
    stable = {k: v for k, v in sorted(params.items()) if k not in PAGE_PARAMS}
    digest = hashlib.sha256(json.dumps([path, stable], sort_keys=True).encode()).hexdigest()
    return digest[:12]


def encode_cursor(fp: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"sbx1:{fp}:{offset}".encode()).decode().rstrip("=")


def decode_cursor(raw: str, fp: str, name: str, insights: bool = False) -> int:
    """The offset a cursor points at. A bad one fails with 100, or on insights with 2642 ("Invalid cursors values",
    the insights reference's error table)."""
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        tag, cursor_fp, offset_text = text.split(":")
        offset = int(offset_text)
    except (ValueError, UnicodeDecodeError):
        tag, cursor_fp, offset = "", "", -1
    if tag != "sbx1" or cursor_fp != fp or offset < 0:
        if insights:
            raise graph_errors.GraphError(2642, "(#2642) Invalid cursors values")
        raise graph_errors.invalid_param(f"The {name} cursor is invalid for this request")
    return offset


def page(
    items: Sequence[Any],
    *,
    params: Mapping[str, str],
    fp: str,
    limit: int,
    render: Callable[[Sequence[Any]], list[Any]],
    url_for: Callable[[dict[str, str]], str],
    insights: bool = False,
) -> dict[str, Any]:
    """One page of `items` for the request's `after`/`before` cursor, in Meta's envelope."""
    total = len(items)
    if params.get("after"):
        start = decode_cursor(params["after"], fp, "after", insights)
        end = min(total, start + limit)
    elif params.get("before"):
        end = min(total, decode_cursor(params["before"], fp, "before", insights))
        start = max(0, end - limit)
    else:
        start, end = 0, min(total, limit)
    start = min(start, total)
    data = render(items[start:end])
    if not data:
        return {"data": []}
    base = {k: v for k, v in params.items() if k not in ("after", "before")}
    base["limit"] = str(limit)
    paging: dict[str, Any] = {
        "cursors": {"before": encode_cursor(fp, start), "after": encode_cursor(fp, end)},
    }
    if start > 0:
        paging["previous"] = url_for({**base, "before": encode_cursor(fp, start)})
    if end < total:
        paging["next"] = url_for({**base, "after": encode_cursor(fp, end)})
    return {"data": data, "paging": paging}
