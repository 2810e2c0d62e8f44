from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from insights_jobs import normalize as nz
from warehouse import RAW_TABLES


def test_insight_row_types_and_actions_per_window():
    raw = {
        "account_id": "1001",
        "campaign_id": "11",
        "adset_id": "12",
        "ad_id": "13",
        "date_start": "2026-10-01",
        "date_stop": "2026-10-01",
        "spend": "8.53",
        "impressions": "171",
        "clicks": "5",
        "inline_link_clicks": "4",
        "reach": "150",
        "frequency": "1.14",
        "actions": [
            {"action_type": "link_click", "value": "4", "1d_click": "4", "7d_click": "4"},
            {"action_type": "offsite_conversion.fb_pixel_purchase", "value": "2", "7d_click": "1", "1d_view": "1"},
        ],
        "action_values": [{"action_type": "offsite_conversion.fb_pixel_purchase", "value": "99.90"}],
    }
    row, actions = nz.insight_rows(raw, "ad_daily", "ad")
    assert row["date_day"] == date(2026, 10, 1)
    assert row["spend"] == Decimal("8.53") and isinstance(row["spend"], Decimal)
    assert (row["impressions"], row["clicks"], row["inline_link_clicks"], row["reach"]) == (171, 5, 4, 150)
    assert row["age"] is None and row["ad_id"] == "13"
    got = {(a["metric"], a["action_type"], a["attribution_window"]): a["value"] for a in actions}
    assert got == {
        ("actions", "link_click", "value"): Decimal("4"),
        ("actions", "link_click", "1d_click"): Decimal("4"),
        ("actions", "link_click", "7d_click"): Decimal("4"),
        ("actions", "offsite_conversion.fb_pixel_purchase", "value"): Decimal("2"),
        ("actions", "offsite_conversion.fb_pixel_purchase", "7d_click"): Decimal("1"),
        ("actions", "offsite_conversion.fb_pixel_purchase", "1d_view"): Decimal("1"),
        ("action_values", "offsite_conversion.fb_pixel_purchase", "value"): Decimal("99.90"),
    }


def test_missing_metrics_become_none_and_bad_numbers_fail():
    row, actions = nz.insight_rows({"date_start": "2026-10-01", "ad_id": "1"}, "ad_daily", "ad")
    assert row["spend"] is None and row["impressions"] is None and actions == []
    with pytest.raises(nz.NormalizationError):
        nz.insight_rows({"date_start": "2026-10-01", "impressions": "1.5"}, "ad_daily", "ad")
    with pytest.raises(nz.NormalizationError):
        nz.insight_rows({"date_start": "2026-10-01", "spend": "abc"}, "ad_daily", "ad")
    with pytest.raises(nz.NormalizationError):
        nz.insight_rows({"spend": "1"}, "ad_daily", "ad")


@pytest.mark.parametrize(
    ("minor", "currency", "major"),
    [
        ("1050", "USD", Decimal("10.50")),
        ("1050", "JPY", Decimal("1050")),
        ("99", "eur", Decimal("0.99")),
        (None, "USD", None),
    ],
)
def test_budgets_from_minor_units(minor, currency, major):
    assert nz.minor_to_major(minor, currency) == major


def test_meta_timestamps_to_utc():
    assert nz.to_timestamp("2024-03-12T15:02:47-0700") == datetime(2024, 3, 12, 22, 2, 47, tzinfo=UTC)
    assert nz.to_timestamp("2024-03-12T15:02:47+05:30") == datetime(2024, 3, 12, 9, 32, 47, tzinfo=UTC)
    assert nz.to_timestamp(None) is None
    with pytest.raises(nz.NormalizationError):
        nz.to_timestamp("yesterday")


def test_rows_fit_the_warehouse_tables():
    """The extractor's row keys must be columns of the raw tables it names (the two packages do not import
    each other; this is the contract between them)."""
    now = datetime.now(UTC)
    produced = {
        nz.AD_ACCOUNTS: nz.account_row({"business": {"id": "9"}}, now),
        nz.CAMPAIGNS: nz.campaign_row({"id": "1"}, "USD", now),
        nz.ADSETS: nz.adset_row({"id": "1"}, "USD", now),
        nz.ADS: nz.ad_row({"id": "1", "creative": {"id": "5"}}, now),
    }
    row, _ = nz.insight_rows({"date_start": "2026-01-01"}, "ad_daily", "ad")
    produced[nz.INSIGHTS] = row
    _, actions = nz.insight_rows(
        {"date_start": "2026-01-01", "actions": [{"action_type": "x", "value": "1"}]}, "ad_daily", "ad"
    )
    produced[nz.INSIGHTS_ACTIONS] = actions[0]
    stamped = {"workspace_id", "account_id", "batch_id"}
    for table, r in produced.items():
        columns = set(RAW_TABLES[table].column_names)
        assert set(r) <= columns, (table, set(r) - columns)
        assert columns - stamped <= set(r), (table, columns - stamped - set(r))
