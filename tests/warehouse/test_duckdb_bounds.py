"""DuckDB's bounds (memory limit, threads, spill directory) go from the settings to every process that opens the
file: the extractor's warehouse and dbt's profile (tests/dbt_project/test_bounds.py runs dbt with them)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from orchestration.resources import warehouse_resource
from orchestration.settings import Settings


def test_defaults_are_sized_for_a_laptop_and_live_under_home(tmp_path):
    s = Settings(home=tmp_path)
    assert (s.duckdb_memory_limit, s.duckdb_threads, s.duckdb_write_buffer_mb) == ("2GB", 4, 16)
    assert s.duckdb_temp_directory == (tmp_path / "duckdb_tmp").resolve()


@pytest.mark.parametrize("bad", ["lots", "2", "-1GB", "2 GBs", ""])
def test_a_memory_limit_duckdb_would_refuse_is_a_settings_error(tmp_path, bad):
    with pytest.raises(ValidationError, match="SENTRUM_DUCKDB_MEMORY_LIMIT"):
        Settings(home=tmp_path, duckdb_memory_limit=bad)


def test_the_warehouse_and_dbt_get_the_same_bounds(tmp_path, monkeypatch):
    monkeypatch.setenv("SENTRUM_DUCKDB_MEMORY_LIMIT", "300MiB")
    monkeypatch.setenv("SENTRUM_DUCKDB_THREADS", "1")
    monkeypatch.setenv("SENTRUM_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    monkeypatch.setenv("SENTRUM_DUCKDB_WRITE_BUFFER_MB", "3")
    resource = warehouse_resource(Settings(home=tmp_path))
    with resource.dbt_env() as env:
        assert env["SENTRUM_DUCKDB_MEMORY_LIMIT"] == "300MiB"
        assert env["SENTRUM_DUCKDB_THREADS"] == "1"
        assert env["SENTRUM_DUCKDB_TEMP_DIR"] == str((tmp_path / "spill").resolve())
    with resource.open() as wh:
        (got,) = wh.query(
            "select current_setting('memory_limit') as m, current_setting('threads') as t, "
            "current_setting('temp_directory') as d"
        )
        assert wh.insert_bytes == 3 * 1024 * 1024
    assert (got["m"], got["t"], got["d"]) == ("300.0 MiB", 1, str((tmp_path / "spill").resolve()))
