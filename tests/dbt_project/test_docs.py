"""`dbt docs generate` builds (what `make docs` runs) with the project's overview page, every column of every mart is
described, and source freshness runs (the manifest's completed_at; the scenario's batches were committed minutes
ago)."""

from __future__ import annotations

import json

import pytest

from tests.dbt_project.helpers import failed
from tests.dbt_project.marts import MARTS


@pytest.fixture(scope="module")
def docs(after_build_runs):
    """`dbt docs generate` and `dbt source freshness`, started right after the shared build
    (tests/dbt_project/runs.py)."""
    started = after_build_runs["test_docs"]
    proc = started["docs"].result()
    assert proc.returncode == 0, failed(proc)
    target = started["docs"].tmp / "target"
    return (
        json.loads((target / "manifest.json").read_text()),
        json.loads((target / "catalog.json").read_text()),
        target,
        started["freshness"].result(),
        json.loads((started["freshness"].tmp / "target" / "sources.json").read_text()),
    )


def test_docs_site_is_generated(docs):
    _, catalog, target, _, _ = docs
    assert (target / "index.html").stat().st_size > 0
    assert not catalog.get("errors")


def test_the_overview_page_is_the_projects_and_names_every_mart(docs):
    """`make docs` opens on the project's overview (a `__overview__` docs block of this package replaces dbt's)."""
    manifest, catalog, _, _, _ = docs
    overview = manifest["docs"]["doc.sentrum.__overview__"]["block_contents"]
    for said in (
        "Meta advertising analytics platform",  # what the project is
        "| staging |",  # the layers
        "| intermediate |",
        "| marts |",
        "ws_<workspace id>",  # where to start: the workspace's views, the analysts' guide
        "docs/analysts.md",
        "account's currency",  # currency and time zone
        "account's time zone",
        "never average or add them",  # what not to sum
        "`reach` and `frequency`",
    ):
        assert said in overview, said
    for mart in MARTS:
        assert f"`{mart}`" in overview, f"the overview does not name {mart}"
    built = {n["metadata"]["name"] for n in catalog["nodes"].values() if n["metadata"]["schema"] == "marts"}
    assert built == MARTS


def test_every_mart_column_is_described(docs):
    manifest, catalog, _, _, _ = docs
    models = {n["name"]: n for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    tables = {n["metadata"]["name"]: n for n in catalog["nodes"].values()}
    for mart in MARTS:
        node = models[mart]
        assert node["description"].strip(), mart
        built_columns = {c.lower() for c in tables[mart]["columns"]}
        described = {c.lower(): v["description"].strip() for c, v in node["columns"].items()}
        assert built_columns == set(described), (mart, built_columns ^ set(described))
        assert all(described.values()), (mart, [c for c, d in described.items() if not d])


def test_source_freshness_of_the_manifest_passes(docs):
    _, _, _, proc, sources = docs
    assert proc.returncode == 0, failed(proc)
    results = {r["unique_id"].split(".")[-1]: r["status"] for r in sources["results"]}
    assert results == {"meta_batches": "pass"}
