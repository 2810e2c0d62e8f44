"""What lets a marts run's dbt partial-parse: the prepared parse and the runs render dbt's profile alike (its state
check hashes the connection values), and each invocation starts from the home's parse and leaves its own for the
next. (That dbt then really partial-parses, and re-parses what a new window changes, is shown by the runs themselves:
tests/e2e/test_restatement_two_nights.py, tests/bigquery/test_dbt_bigquery.py.) Each invocation's folder is kept
until 30 newer ones exist."""

from __future__ import annotations

import base64
import json
import os

from orchestration.dbt_prepare import PARTIAL_PARSE_FILE, target_dir
from orchestration.dbt_profile import profile_env
from orchestration.dbt_project import DBT_RUNS_KEPT, dbt_resource, prune_dbt_runs
from orchestration.resources import warehouse_resource
from orchestration.settings import Settings


def _run_env(settings: Settings) -> dict[str, str]:
    with warehouse_resource(settings).dbt_env() as env:
        return dict(env)


def test_the_prepared_parse_renders_the_profile_as_the_runs_do(tmp_path):
    duck = Settings(home=tmp_path / "duck", duckdb_threads=3, duckdb_memory_limit="1GB")
    assert profile_env(duck) == _run_env(duck)
    assert profile_env(duck)["SENTRUM_DUCKDB_PATH"] == str(tmp_path / "duck" / "warehouse.duckdb")
    stand_in = Settings(
        home=tmp_path / "bq", warehouse="bigquery", bq_project="p", bq_location="EU", bq_dataset_prefix="x_",
        bq_api_endpoint="http://127.0.0.1:9", bq_max_bytes_billed=10**9,
    )  # fmt: skip
    assert profile_env(stand_in) == _run_env(stand_in)
    adc = Settings(home=tmp_path / "bq", warehouse="bigquery", bq_project="p")
    assert profile_env(adc) == _run_env(adc) and profile_env(adc)["SENTRUM_BQ_AUTH_METHOD"] == "oauth"
    key = base64.b64encode(json.dumps({"type": "service_account"}).encode()).decode()
    keyed = Settings(home=tmp_path / "bq", warehouse="bigquery", bq_project="p", bq_credentials=key)
    run = _run_env(keyed)
    # the key file's path is the run's own temporary file; dbt's state check does not hash it
    assert {**profile_env(keyed), "SENTRUM_BQ_KEYFILE": run["SENTRUM_BQ_KEYFILE"]} == run
    assert run["SENTRUM_BQ_AUTH_METHOD"] == "service-account"


def test_each_invocation_starts_from_the_home_s_parse_and_leaves_its_own(tmp_path):
    settings = Settings(home=tmp_path)
    dbt = dbt_resource(settings)
    first = dbt.run_target("run-1")
    assert not first.exists()  # nothing prepared: dbt parses everything (dagster-dbt makes the folder)
    prepared = target_dir(settings.dbt_dir) / PARTIAL_PARSE_FILE
    prepared.parent.mkdir(parents=True)
    prepared.write_bytes(b"prepared")
    second = dbt.run_target("run-2")
    assert second.parent == settings.dbt_dir / "runs" and second.name.startswith("run-2-")
    assert (second / PARTIAL_PARSE_FILE).read_bytes() == b"prepared"
    (second / PARTIAL_PARSE_FILE).write_bytes(b"run 2's parse")
    dbt.keep_parse(second)
    assert prepared.read_bytes() == b"run 2's parse"
    assert (dbt.run_target("run-3") / PARTIAL_PARSE_FILE).read_bytes() == b"run 2's parse"
    dbt.keep_parse(first)  # an invocation that left no parse changes nothing
    assert prepared.read_bytes() == b"run 2's parse"
    assert sorted(p.name for p in prepared.parent.iterdir()) == [PARTIAL_PARSE_FILE]


def test_only_the_newest_invocation_folders_are_kept(tmp_path):
    settings = Settings(home=tmp_path)
    dbt = dbt_resource(settings)
    runs = settings.dbt_dir / "runs"
    runs.mkdir(parents=True)
    for i in range(DBT_RUNS_KEPT + 3):  # older runs, oldest first, each with a file as dbt leaves them
        folder = runs / f"old-{i:02d}-abc1234"
        folder.mkdir()
        (folder / "dbt.log").write_text("log")
        os.utime(folder, (1_000_000 + i, 1_000_000 + i))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (runs / "a-link").symlink_to(elsewhere, target_is_directory=True)
    (runs / "note.txt").write_text("an operator's file")

    prepared = target_dir(settings.dbt_dir) / PARTIAL_PARSE_FILE
    prepared.parent.mkdir(parents=True)
    prepared.write_bytes(b"prepared")
    new = dbt.run_target("run-new")

    folders = sorted(p.name for p in runs.iterdir() if p.is_dir() and not p.is_symlink())
    assert len(folders) == DBT_RUNS_KEPT and new.name in folders
    assert folders[0] == "old-04-abc1234"  # the four oldest went, the newest stayed
    assert (runs / "a-link").is_symlink() and elsewhere.is_dir() and (runs / "note.txt").exists()
    assert prune_dbt_runs(runs, DBT_RUNS_KEPT) == 0
