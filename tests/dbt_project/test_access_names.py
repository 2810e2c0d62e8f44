"""The access layer's schema names: the dbt macro and warehouse/access.py (which the retention sweep uses to drop a
deleted workspace's schema) name every id alike, ordinary names keep their documented form, and no name passes the
128 characters the catalog walk addresses, however many `-` and `_` an id holds."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from tests.dbt_project.helpers import DUCKDB_ENV, Built, dbt, failed
from warehouse.access import access_schema_name
from warehouse.sql import check_identifier

IDS = [
    "acme",
    "acme-eu",
    "acme_eu",
    "a" * 64,
    "-" * 64,
    "_" * 64,
    "-_" * 32,
    "a" + "-" * 62 + "b",
    "a" + "-" * 61 + "b",  # the longest id whose escaped name still fits: kept readable
    "a" + "-" * 61 + "_",
    "x" * 30 + "-" * 34,
]


def test_ordinary_names_are_the_documented_ones():
    assert access_schema_name("acme") == "ws_acme"
    assert access_schema_name("acme-eu") == "ws_acme_heu"
    assert access_schema_name("acme_eu") == "ws_acme__eu"
    assert access_schema_name("a" + "-" * 61 + "b") == "ws_a" + "_h" * 61 + "b"  # 128 characters: unchanged


def test_names_fit_the_catalog_walk_and_never_collide():
    # every id of up to 6 characters over a, -, _ (1,092 ids), plus long adversarial ones
    ids = {"".join(p) for n in range(1, 7) for p in itertools.product("a-_", repeat=n)} | set(IDS)
    ids |= {"-" * n + "_" * (64 - n) for n in range(65)} | {"a" * n + "-" * (64 - n) for n in range(65)}
    names = {access_schema_name(i): i for i in ids}
    assert len(names) == len(ids)
    for name in names:
        assert len(name) <= 128 and check_identifier(name, "schema name") == name


def _dry_run(built: Built, tmp_path, workspaces: list[str]):
    # The shared build's target, vars and parse: dbt skips its full parse (the macro reads the ids from --args, not
    # vars); the warehouse stays empty, as a dry run needs none.
    return dbt(
        ["run-operation", "sentrum_apply_workspace_access",
         "--args", json.dumps({"workspaces": workspaces, "dry_run": True}), *built.args],
        built.parsed(tmp_path), DUCKDB_ENV,
    )  # fmt: skip


def test_the_dbt_macro_names_them_the_same(built, tmp_path):
    proc = _dry_run(built, tmp_path, IDS)
    assert proc.returncode == 0, failed(proc)
    created = set(re.findall(r'create schema if not exists "([^"]+)"', proc.stdout))
    assert created == {access_schema_name(i) for i in IDS}


@pytest.mark.parametrize("bad", ["acme\n", "../x"])
def test_the_macro_refuses_ids_the_registry_refuses(built, tmp_path, bad):
    proc = _dry_run(built, tmp_path, [bad])
    assert proc.returncode != 0 and "invalid workspace id" in proc.stdout + proc.stderr
