"""The "entities" batch of one ad account: the account, its campaigns, ad sets, ads (every effective status,
archived and deleted included) and creatives, read before its insights; creatives an ad points to that the edge did
not list are read by id. The campaign / ad set / ad tree it returns is what slices are split by (`split.py`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from insights_jobs import normalize as nz
from insights_jobs.calls import AccountCalls
from insights_jobs.entities import (
    ACCOUNT_FIELDS,
    AD_FIELDS,
    ADSET_FIELDS,
    CAMPAIGN_FIELDS,
    CREATIVE_FIELDS,
    status_filter,
)
from insights_jobs.errors import ExtractionError, ReconnectNeeded
from insights_jobs.results import AccountResult
from insights_jobs.sink import Sink
from insights_jobs.split import Hierarchy

ENTITIES_REPORT = "entities"


def read_entities(
    calls: AccountCalls, sink: Sink, result: AccountResult, lineage_base: Mapping[str, Any]
) -> tuple[dict[str, Any], Hierarchy]:
    """Read and commit the account's entities batch (rows counted in `result`); the account node as Meta sent it
    (its timezone decides the window) and the object tree."""
    acct = calls.account_id
    info = calls.call(
        f"{acct} read account",
        lambda: calls.api.call("GET", (acct,), params={"fields": ",".join(ACCOUNT_FIELDS)}).json(),
    )
    if not isinstance(info, dict):
        raise ExtractionError(f"{acct} read account: unexpected reply")
    business = info.get("business") or {}
    if isinstance(business, dict):
        calls.governor.register_business(acct, business.get("id"))
    currency = info.get("currency") or ""
    now = datetime.now(UTC)
    params = {
        **lineage_base,
        "fields": {
            "account": ACCOUNT_FIELDS, "campaigns": CAMPAIGN_FIELDS, "adsets": ADSET_FIELDS, "ads": AD_FIELDS,
            "adcreatives": CREATIVE_FIELDS,
        },
        "statuses": {level: status_filter(level) for level in ("campaign", "adset", "ad")},
    }  # fmt: skip
    batch = sink.open_batch(calls.workspace_id, acct, ENTITIES_REPORT, None, params)
    batch.append(nz.AD_ACCOUNTS, [nz.account_row(info, now)])
    result.count(nz.AD_ACCOUNTS, 1)
    raw: dict[str, list[dict[str, Any]]] = {}
    edges: list[tuple[str, str, list[str], str | None, Callable[[dict[str, Any]], dict[str, Any]]]] = [
        (nz.CAMPAIGNS, "campaigns", CAMPAIGN_FIELDS, "campaign", lambda r: nz.campaign_row(r, currency, now)),
        (nz.ADSETS, "adsets", ADSET_FIELDS, "adset", lambda r: nz.adset_row(r, currency, now)),
        (nz.ADS, "ads", AD_FIELDS, "ad", lambda r: nz.ad_row(r, now)),
        (nz.AD_CREATIVES, "adcreatives", CREATIVE_FIELDS, None, lambda r: nz.creative_row(r, now)),
    ]
    for table, edge, fields, level, to_row in edges:
        params_: dict[str, Any] = {"fields": ",".join(fields), "limit": calls.config.page_limit}
        if level:
            params_["filtering"] = status_filter(level)
        items = raw.setdefault(edge, [])
        for page in calls.pages(f"{acct} {edge}", (acct, edge), params_):
            items.extend(page)
            batch.append(table, [to_row(r) for r in page])
            result.count(table, len(page))
    # Creatives of ads the edge did not list (deleted with their ad) stay readable by id.
    listed = {str(c.get("id")) for c in raw["adcreatives"]}
    wanted = sorted({str((a.get("creative") or {}).get("id")) for a in raw["ads"] if a.get("creative")} - listed)
    for creative_id in wanted:
        try:
            item = calls.call(
                f"{acct} creative {creative_id}",
                lambda c=creative_id: calls.api.call("GET", (c,), params={"fields": ",".join(CREATIVE_FIELDS)}),
            ).json()
        except ExtractionError as exc:
            if isinstance(exc, ReconnectNeeded):
                raise
            calls.log.warning("%s/%s: creative %s unreadable: %s", calls.workspace_id, acct, creative_id, exc)
            continue
        if isinstance(item, dict) and item.get("id"):
            batch.append(nz.AD_CREATIVES, [nz.creative_row(item, now)])
            result.count(nz.AD_CREATIVES, 1)
    batch.commit()
    result.batches += 1
    return info, Hierarchy.from_entities(raw["campaigns"], raw["adsets"], raw["ads"])
