"""Every Dagster config that names a workspace takes only a valid id (`fullmatch`: no `..`, path or newline)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from orchestration.assets.retention import ExportConfig, SweepConfig
from orchestration.backfills import BackfillRequest

BAD = ["..", "/tmp", "acme\n", "Acme", "a/b", "", "a" * 65]


@pytest.mark.parametrize("bad", BAD)
def test_configs_refuse_ids_that_are_not_workspace_ids(bad):
    with pytest.raises(ValidationError):
        SweepConfig(workspace=bad)
    with pytest.raises(ValidationError):
        ExportConfig(workspace=bad)
    with pytest.raises(ValidationError):
        BackfillRequest(workspace=bad, start="2026-10-01", end="2026-10-31")


def test_configs_take_valid_ids():
    assert SweepConfig(workspace="acme-eu", force=True, confirm="acme-eu").workspace == "acme-eu"
    assert SweepConfig().workspace is None
    assert ExportConfig(workspace="a_b", out="first").out == "first"
    assert BackfillRequest(workspace="acme", start="2026-10-01", end="2026-10-31").window().start.day == 1
