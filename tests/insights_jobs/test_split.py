"""The splitter: time first, then object ids (campaign -> ad set -> ad, never below the report's level), then fields."""

from __future__ import annotations

from datetime import date

import pytest

from insights_jobs.reports import METRIC_FIELDS, REPORTS
from insights_jobs.split import Hierarchy, Slice, split
from tests.graph_sandbox.meta_facts import AD_STATUSES

H = Hierarchy.from_entities(
    campaigns=[{"id": "c1"}, {"id": "c2"}, {"id": "c3"}],
    adsets=[{"id": "s1", "campaign_id": "c1"}, {"id": "s2", "campaign_id": "c1"}, {"id": "s3", "campaign_id": "c2"}],
    ads=[{"id": "a1", "adset_id": "s1"}, {"id": "a2", "adset_id": "s1"}, {"id": "a3", "adset_id": "s2"}],
)
D1, D31 = date(2026, 10, 1), date(2026, 10, 31)
# Every slice, split or not, names every ad status (Meta leaves archived and deleted ads out otherwise).
EVERY_AD_STATUS = {"field": "ad.effective_status", "operator": "IN", "value": AD_STATUSES}


def _day(report: str, **kw) -> Slice:
    return Slice("act_1", REPORTS[report], date(2026, 10, 7), date(2026, 10, 7), **kw)


def test_time_first_in_halves_down_to_single_days() -> None:
    s = Slice("act_1", REPORTS["ad_daily"], D1, D31)
    a, b = split(s, H)
    assert (a.since, a.until, b.since, b.until) == (D1, date(2026, 10, 16), date(2026, 10, 17), D31)
    assert a.ids is None and a.metrics == METRIC_FIELDS
    two = Slice("act_1", REPORTS["ad_daily"], D1, date(2026, 10, 2))
    assert [(x.since, x.until) for x in split(two, H)] == [(D1, D1), (date(2026, 10, 2), date(2026, 10, 2))]


def test_a_day_splits_by_campaigns_with_a_remainder_for_unknown_objects() -> None:
    parts = split(_day("ad_daily"), H)
    assert [(p.id_level, p.ids, p.exclude) for p in parts] == [
        ("campaign", ("c1", "c2"), False),
        ("campaign", ("c3",), False),
        ("campaign", ("c1", "c2", "c3"), True),
    ]
    assert parts[2].filtering() == [
        EVERY_AD_STATUS,
        {"field": "campaign.id", "operator": "NOT_IN", "value": ["c1", "c2", "c3"]},
    ]
    assert split(parts[2], H) is not None and all(p.field_split for p in split(parts[2], H))  # remainder: fields


def test_one_campaign_splits_into_its_ad_sets_then_one_ad_set_into_its_ads() -> None:
    (known, rest) = split(_day("ad_daily", id_level="campaign", ids=("c1",)), H)
    assert (known.id_level, known.ids, known.within, known.exclude) == (
        "adset",
        ("s1", "s2"),
        ("campaign", "c1"),
        False,
    )
    assert rest.exclude and rest.filtering() == [
        EVERY_AD_STATUS,
        {"field": "campaign.id", "operator": "IN", "value": ["c1"]},
        {"field": "adset.id", "operator": "NOT_IN", "value": ["s1", "s2"]},
    ]
    halves = split(known, H)
    assert [h.ids for h in halves] == [("s1",), ("s2",)]
    ads, _ = split(halves[0], H)
    assert (ads.id_level, ads.ids, ads.within) == ("ad", ("a1", "a2"), ("adset", "s1"))


@pytest.mark.parametrize(
    ("report", "level"),
    [("campaign_daily", "campaign"), ("adset_daily", "adset"), ("ad_daily_age_gender", "ad")],
)
def test_ids_never_go_below_the_reports_level(report: str, level: str) -> None:
    one = _day(report, id_level=level, ids=("x",))
    parts = split(one, H)
    assert parts is not None and all(p.field_split and p.ids == ("x",) for p in parts)
    with pytest.raises(ValueError):
        _day("campaign_daily", id_level="adset", ids=("s1",))


def test_account_rows_are_never_split_by_ids_only_by_fields() -> None:
    parts = split(_day("account_daily"), H)
    assert [p.metrics for p in parts] == [METRIC_FIELDS[:5], METRIC_FIELDS[5:]]
    assert all(p.ids is None for p in parts)


def test_fields_halve_down_to_one_then_it_is_a_leaf() -> None:
    s = _day("ad_daily", id_level="ad", ids=("a1",))
    seen = []
    queue = [s]
    while queue:
        cur = queue.pop()
        parts = split(cur, H)
        if parts is None:
            seen.append(cur.metrics)
        else:
            queue.extend(parts)
    assert sorted(m for (m,) in seen) == sorted(METRIC_FIELDS)
    leaf = _day("ad_daily", id_level="ad", ids=("a1",), metrics=("actions",))
    assert split(leaf, H) is None
    # Every request keeps the ids and dates, whatever the subset.
    assert leaf.fields()[:7] == ["account_id", "account_currency", "date_start", "date_stop", "campaign_id",
                                 "adset_id", "ad_id"]  # fmt: skip


def test_no_entities_means_fields_right_away() -> None:
    parts = split(_day("ad_daily"), Hierarchy())
    assert parts is not None and all(p.field_split for p in parts)
