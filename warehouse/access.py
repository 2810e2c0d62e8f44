"""Names of the per-workspace access layer (dbt_project/macros/access/workspace_access.sql builds it; the retention
sweep drops a deleted workspace's schema). The macro and this module compute the same names;
tests/dbt_project checks it.

`_` is written `__` and `-` is written `_h` (plain identifiers on every backend, two ids never share a name):
`acme` -> ws_acme, `acme-eu` -> ws_acme_heu, `acme_eu` -> ws_acme__eu. Escaping can double an id's length, and the
catalog walk addresses names of at most 128 characters (`warehouse.sql.IDENTIFIER`), so a name that would be longer
is the escaped id's first 91 characters (never cut inside an escape), `_x`, and the MD5 of the whole id. `_x` never
follows a whole escape in the short form, so a long id's name cannot equal a short id's.
"""

from __future__ import annotations

import hashlib
import re

ACCESS_PREFIX = "ws_"
MAX_NAME = 128  # warehouse.sql.IDENTIFIER's length limit
LONG_KEEP = 91  # 3 ("ws_") + 91 + 2 ("_x") + 32 (MD5 hex) = 128
_ESCAPES = {"_": "__", "-": "_h"}
_WORKSPACE_ID = re.compile(r"[a-z0-9_-]{1,64}")


def access_schema_name(workspace_id: str) -> str:
    """The access layer's schema (DuckDB) / dataset without the deployment's prefix (BigQuery) of a workspace."""
    if not isinstance(workspace_id, str) or not _WORKSPACE_ID.fullmatch(workspace_id):
        raise ValueError(f"workspace id {workspace_id!r} must match [a-z0-9_-]{{1,64}}")
    escaped = "".join(_ESCAPES.get(c, c) for c in workspace_id)
    if len(ACCESS_PREFIX) + len(escaped) <= MAX_NAME:
        return ACCESS_PREFIX + escaped
    kept = ""
    for c in workspace_id:
        piece = _ESCAPES.get(c, c)
        if len(kept) + len(piece) > LONG_KEEP:
            break
        kept += piece
    digest = hashlib.md5(workspace_id.encode(), usedforsecurity=False).hexdigest()
    return f"{ACCESS_PREFIX}{kept}_x{digest}"
