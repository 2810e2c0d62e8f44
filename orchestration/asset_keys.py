"""Asset keys and pool names that more than one module names (assets, checks, the CLI): spelled once, here."""

from __future__ import annotations

import dagster as dg

from retention import AUDIT_LOG
from warehouse import ALL_TABLES
from workspaces.health import HEALTH

# Bounds simultaneous extraction steps across runs: every workspace shares one Meta app's limits.
META_CONCURRENCY_POOL = "meta_api"
RAW_KEYS = {name: dg.AssetKey(["raw", name]) for name in ALL_TABLES}
INSIGHTS_KEY = RAW_KEYS["meta_insights"]
HEALTH_KEY = dg.AssetKey(["ops", HEALTH.name])
AUDIT_KEY = dg.AssetKey(["ops", AUDIT_LOG.name])
FINDINGS_KEY = dg.AssetKey(["diagnostics", "diagnostics_findings"])
FCT_AD = dg.AssetKey(["marts", "fct_ad_insights_daily"])
FCT_ACCOUNT = dg.AssetKey(["marts", "fct_account_insights_daily"])
