"""The narrated marts and the OpenAI narrator as the narration tests share them: three high findings of workspace
TENANT (whose id must never leave the process), names carrying a pasted Meta token."""

from __future__ import annotations

import functools
from typing import Any

from diagnostics import build_narrator
from tests.diagnostics.synthetic import FAKE_META_TOKEN, PLANTS, Dataset, write_tables
from warehouse.schema import Table

REF = "diagnostics.diagnostics_findings"
TENANT = "tenant_q7x2"  # a workspace id that must not leave the process
API_KEY = "sk-test-0000-not-a-real-key"
PAYLOAD_KEYS = {"finding_type", "severity", "entity", "breakdown", "currency", "windows", "evidence", "context"}


@functools.cache
def _tables(cpa_factor: float = 1.0) -> dict[Table, list[dict[str, Any]]]:
    # generated once per variant: every test here starts from the same marts (rows are only read, never mutated)
    return _dataset(cpa_factor).tables()


def write_marts(wh, cpa_factor: float = 1.0) -> None:
    write_tables(wh, _tables(cpa_factor))


def _dataset(cpa_factor: float = 1.0) -> Dataset:
    """Three high findings: a CPA increase (ad set s31), tracking breakage (account act_2), a breakdown outlier
    (campaign c1). The ad set's and the campaign's names carry a pasted Meta token."""
    ds = Dataset(workspace_id=TENANT)
    for name in ("cpa_increase", "tracking_breakage", "breakdown_outlier"):
        PLANTS[name][0](ds)
    if cpa_factor != 1.0:
        ds.plant(lambda c: {"cvr": cpa_factor} if c.adset.adset_id == "s31" and c.in_days(7, 13) else {})
    ds.adset("s31").name = f"Interest: SaaS {FAKE_META_TOKEN}"
    ds.campaign("c1").name = f"Prospecting {FAKE_META_TOKEN}"
    return ds


def openai_narrator(stub, **overrides):
    kwargs = {
        "api_key": API_KEY,
        "base_url": stub.base_url,
        "model": "gpt-test",
        "timeout_s": 5.0,
        "max_retries": 0,
        "budget_tokens": 100_000,
        "redact_names": False,
    }
    kwargs.update(overrides)
    return build_narrator("openai", **kwargs)


def finding_rows(wh):
    return wh.query(f"select * from {REF} where workspace_id = @ws order by finding_type", {"ws": TENANT})
