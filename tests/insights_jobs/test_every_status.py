"""Every insights request names every effective status of its level, split slices included; without that filter
the sandbox, like Meta, leaves archived and deleted objects out, and the extraction no longer equals the truth."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal

from graph_sandbox import SandboxServer, Scenario
from insights_jobs import Window
from insights_jobs.reports import ReportSpec
from tests.graph_sandbox.meta_facts import HIDDEN, STATUSES
from tests.insights_jobs.conftest import fast_config
from tests.insights_jobs.truth import diff

# Globex's deleted campaign and its deleted and archived ads all delivered in these days.
DAYS = Window(date(2026, 10, 5), date(2026, 10, 7))
POISONED = date(2026, 10, 6)


def _status_entries(filtering: list[dict]) -> list[dict]:
    return [f for f in filtering if f["field"].endswith(".effective_status")]


def test_every_request_of_every_report_and_split_names_every_status(demo: Scenario, extract) -> None:
    ad = next(a for a in demo.ads("act_2001") if demo.ad_day(a, POISONED) is not None)
    # Report runs of more than 60 rows fail, so reports split by time, then by campaign, ad set and ad ids (with
    # remainder slices); one ad-day's actions cannot be read at all, so its slice splits by fields as well.
    with SandboxServer(demo, job_seconds=0.05, async_row_cap=60, faults=f"poison={ad.id}@{POISONED}:actions") as srv:
        config = fast_config(srv.url, sync_max_rows=30, max_slices_per_group=4096)
        run = extract(srv, demo, config, window=DAYS, only=["globex"])
        requests = [r for r in srv.requests if r.kind in ("insights", "insights_async")]
    (globex,) = run.results
    assert globex.ok and globex.jobs["split"] > 0

    shapes: Counter[str] = Counter()
    for r in requests:
        filtering = json.loads(r.params["filtering"])
        level = r.params["level"]
        expected_level = "ad" if level == "account" else level
        assert _status_entries(filtering) == [
            {"field": f"{expected_level}.effective_status", "operator": "IN", "value": STATUSES[expected_level]}
        ], r
        ids = [f for f in filtering if f["field"].endswith(".id")]
        shapes.update(f"{f['field']} {f['operator']}" for f in ids)
        fields = r.params["fields"]
        if "spend" not in fields or "actions" not in fields:
            shapes["field split"] += 1
    # The splits this test is about did happen: ids in and out, within a parent, and field halves.
    assert {"campaign.id IN", "campaign.id NOT_IN", "adset.id IN", "adset.id NOT_IN", "ad.id IN"} <= set(shapes)
    assert shapes["field split"] > 0
    assert {r.params["level"] for r in requests} == {"account", "campaign", "adset", "ad"}

    # What could be read equals the truth, archived and deleted objects included: every report on the days around
    # the poisoned one (whose slices are recorded, and its day left uncommitted).
    assert {(f.since, f.until) for f in globex.failed_slices} == {(POISONED, POISONED)}
    for day in (DAYS.start, DAYS.end):
        assert diff(run.sink, demo, "globex", "act_2001", day, day) == {}


def test_without_the_status_filter_archived_and_deleted_spend_is_lost(demo: Scenario, extract, monkeypatch) -> None:
    reports = ("account_daily", "campaign_daily", "adset_daily", "ad_daily", "ad_daily_country")
    config = dict(reports=reports)
    with SandboxServer(demo, job_seconds=0.05) as server:
        good = extract(server, demo, fast_config(server.url, **config), window=DAYS, only=["globex"])
        monkeypatch.setattr(ReportSpec, "status_filter", lambda self: [])  # an extractor that forgets it
        forgetful = extract(server, demo, fast_config(server.url, **config), window=DAYS, only=["globex"])
    assert good.results[0].ok and forgetful.results[0].ok
    assert diff(good.sink, demo, "globex", "act_2001", DAYS.start, DAYS.end, reports) == {}

    # Forgotten: every report below the account misses rows, and the missing spend is that of the objects whose
    # effective status is ARCHIVED or DELETED at the report's level.
    lost = diff(forgetful.sink, demo, "globex", "act_2001", DAYS.start, DAYS.end, reports)
    assert set(lost) == {"campaign_daily", "adset_daily", "ad_daily", "ad_daily_country"}, lost

    def spend(sink, report: str, key: str | None = None) -> dict:
        out: dict = {}
        for r in sink.visible("meta_insights", report, "globex"):
            k = r[key] if key else None
            out[k] = out.get(k, Decimal(0)) + r["spend"]
        return out

    account = spend(forgetful.sink, "account_daily")[None]
    ads = spend(forgetful.sink, "ad_daily", "ad_id")
    hidden = {a.id for a in demo.ads("act_2001") if a.effective_status in HIDDEN}
    truth_hidden = sum(
        (t.spend for t in demo.truth("ad", "act_2001", DAYS.start, DAYS.end) if t.ad_id in hidden), Decimal(0)
    )
    assert truth_hidden > 0 and not hidden & set(ads)
    assert account - sum(ads.values()) == truth_hidden  # the account row still counts them: ads no longer add up
    campaigns = spend(forgetful.sink, "campaign_daily", "campaign_id")
    deleted_campaigns = {c.id for c in demo.campaigns("act_2001") if c.effective_status in HIDDEN}
    assert deleted_campaigns and not deleted_campaigns & set(campaigns)
