from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from insights_jobs import normalize as nz
from warehouse import RAW_TABLES
from warehouse.schema import ACTION_RECORD


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
    row = nz.insight_row(raw, "ad_daily", "ad")  # the actions travel in the row
    assert row["date_day"] == date(2026, 10, 1)
    assert row["spend"] == Decimal("8.53") and isinstance(row["spend"], Decimal)
    assert (row["impressions"], row["clicks"], row["inline_link_clicks"], row["reach"]) == (171, 5, 4, 150)
    assert row["age"] is None and row["ad_id"] == "13"
    # one record per action type; a field per (list, window) Meta returned, nothing for the windows it did not;
    # figures are Meta's exact decimal text (typed by the writer)
    assert row["actions"] == [
        {
            "action_type": "link_click",
            "actions_value": "4",
            "actions_1d_click": "4",
            "actions_7d_click": "4",
        },
        {
            "action_type": "offsite_conversion.fb_pixel_purchase",
            "actions_value": "2",
            "actions_7d_click": "1",
            "actions_1d_view": "1",
            "action_values_value": "99.90",
        },
    ]


def test_missing_metrics_become_none_and_bad_numbers_fail():
    row = nz.insight_row({"date_start": "2026-10-01", "ad_id": "1"}, "ad_daily", "ad")
    assert row["spend"] is None and row["impressions"] is None and row["actions"] is None
    with pytest.raises(nz.NormalizationError):
        nz.insight_row({"date_start": "2026-10-01", "impressions": "1.5"}, "ad_daily", "ad")
    with pytest.raises(nz.NormalizationError):
        nz.insight_row({"date_start": "2026-10-01", "spend": "abc"}, "ad_daily", "ad")
    with pytest.raises(nz.NormalizationError):
        nz.insight_row({"spend": "1"}, "ad_daily", "ad")


@pytest.mark.parametrize(
    ("figure", "kept"),
    [
        ("12.50", "12.50"),
        ("-3", "-3"),
        ("1E+2", "1E+2"),
        (" 1", "1"),
        ("", None),
        (None, None),
        (7, "7"),
        ("0.0", "0.0"),
    ],
)
def test_action_figures_stay_exact_decimal_text(figure, kept):
    row = nz.insight_row(
        {"date_start": "2026-10-01", "actions": [{"action_type": "x", "value": "1", "7d_click": figure}]},
        "ad_daily",
        "ad",
    )
    assert row["actions"] == [{"action_type": "x", "actions_value": "1", "actions_7d_click": kept}]


@pytest.mark.parametrize("figure", ["N/A", "1.2x", "NaN", "Infinity", "1 2", [1]])
def test_an_action_figure_that_is_not_a_number_is_refused(figure):
    with pytest.raises(nz.NormalizationError, match="not a number"):
        nz.insight_row(
            {"date_start": "2026-10-01", "actions": [{"action_type": "x", "value": "1", "1d_view": figure}]},
            "ad_daily",
            "ad",
        )


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


def test_account_state_and_learning_stage_as_meta_sends_them():
    now = datetime.now(UTC)
    # AdAccount: spend_cap and amount_spent are numeric strings in minor units; "0" is "no cap"
    usd = nz.account_row({"currency": "USD", "spend_cap": "150000", "amount_spent": "149012", "disable_reason": 0}, now)
    assert (usd["spend_cap"], usd["amount_spent"], usd["disable_reason"]) == (Decimal("1500"), Decimal("1490.12"), 0)
    jpy = nz.account_row({"currency": "JPY", "spend_cap": "0", "amount_spent": "987654", "disable_reason": 3}, now)
    assert (jpy["spend_cap"], jpy["amount_spent"], jpy["disable_reason"]) == (Decimal(0), Decimal(987654), 3)
    assert nz.account_row({"currency": "EUR"}, now)["spend_cap"] is None  # not sent: unknown, not "no cap"
    # AdSet.learning_stage_info: {status, conversions, last_sig_edit_ts (unix seconds), attribution_windows}
    info = {"status": "FAIL", "conversions": 6, "last_sig_edit_ts": 1794150000, "attribution_windows": ["7d_click"]}
    row = nz.adset_row({"id": "1", "learning_stage_info": info}, "USD", now)
    assert (row["learning_stage_status"], row["learning_stage_conversions"]) == ("FAIL", 6)
    assert row["learning_stage_last_sig_edit_at"] == datetime(2026, 11, 8, 15, 0, tzinfo=UTC)
    bare = nz.adset_row({"id": "2"}, "USD", now)  # Meta omits it on ad sets that do not deliver
    assert (bare["learning_stage_status"], bare["learning_stage_last_sig_edit_at"]) == (None, None)


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
    row = nz.insight_row({"date_start": "2026-01-01"}, "ad_daily", "ad")
    produced[nz.INSIGHTS] = row
    stamped = {"workspace_id", "account_id", "batch_id"}
    for table, r in produced.items():
        columns = set(RAW_TABLES[table].column_names)
        assert set(r) <= columns, (table, set(r) - columns)
        assert columns - stamped <= set(r), (table, columns - stamped - set(r))
    # the nested action records: every field the normaliser can fill is a field of the raw column, and back
    fields = {f for per_metric in nz.ACTION_RECORD_FIELDS.values() for _, f in per_metric} | {"action_type"}
    assert fields == set(ACTION_RECORD.field_names())
    every_window = {w: "1" for w in nz.ATTRIBUTION_KEYS}
    full = nz.insight_row(
        {"date_start": "2026-01-01", **{m: [{"action_type": "x", **every_window}] for m in nz.ACTION_FIELDS}},
        "ad_daily",
        "ad",
    )
    assert set(full["actions"][0]) == fields


def test_breakdown_values_are_part_of_the_key_and_conversions_are_kept_per_window():
    raw = {
        "date_start": "2026-10-01",
        "ad_id": "13",
        "age": "25-34",
        "gender": "female",
        "spend": "1.10",
        "conversions": [{"action_type": "offsite_conversion.fb_pixel_purchase", "value": "2", "28d_click": "3"}],
        "conversion_values": [{"action_type": "offsite_conversion.fb_pixel_purchase", "value": "19.90"}],
    }
    row = nz.insight_row(raw, "ad_daily_age_gender", "ad")
    assert (row["report"], row["level"], row["age"], row["gender"], row["country"]) == (
        "ad_daily_age_gender",
        "ad",
        "25-34",
        "female",
        None,
    )
    assert nz.row_key(row) == (date(2026, 10, 1), None, None, "13", "25-34", "female", None, None, None, None)
    assert row["actions"] == [
        {
            "action_type": "offsite_conversion.fb_pixel_purchase",
            "conversions_value": "2",
            "conversions_28d_click": "3",
            "conversion_values_value": "19.90",
        }
    ]


def test_field_split_rows_merge_into_one():
    day = {"date_start": "2026-10-01", "ad_id": "1"}
    a = nz.insight_row({**day, "spend": "2.50", "reach": "9"}, "ad_daily", "ad")
    b = nz.insight_row({**day, "impressions": "40"}, "ad_daily", "ad")
    assert nz.row_key(a) == nz.row_key(b)
    nz.merge_rows(a, b)
    assert (a["spend"], a["reach"], a["impressions"], a["clicks"]) == (Decimal("2.50"), 9, 40, None)
    # halves with different action lists: one record per type, the lists' fields side by side
    c = nz.insight_row({**day, "actions": [{"action_type": "purchase", "value": "2"}]}, "ad_daily", "ad")
    d = nz.insight_row(
        {**day, "action_values": [{"action_type": "purchase", "value": "40"}, {"action_type": "lead", "value": "1"}]},
        "ad_daily",
        "ad",
    )
    nz.merge_rows(a, c)
    nz.merge_rows(a, d)
    assert a["actions"] == [
        {"action_type": "purchase", "actions_value": "2", "action_values_value": "40"},
        {"action_type": "lead", "action_values_value": "1"},
    ]
    assert a["spend"] == Decimal("2.50")  # a half without delivery metrics leaves them alone


def test_an_action_type_listed_twice_is_refused():
    """Two entries of one type in one list (Meta sends that only with action breakdowns, which are not asked for)
    would otherwise be summed or lost silently downstream."""
    twice = [{"action_type": "purchase", "value": "1"}, {"action_type": "purchase", "value": "2"}]
    with pytest.raises(nz.NormalizationError, match="purchase"):
        nz.insight_row({"date_start": "2026-10-01", "actions": twice}, "ad_daily", "ad")
    # the same type in two different lists is one record
    row = nz.insight_row({"date_start": "2026-10-01", "actions": twice[:1], "conversions": twice[1:]}, "ad_daily", "ad")
    assert row["actions"] == [{"action_type": "purchase", "actions_value": "1", "conversions_value": "2"}]


def test_creative_and_error_rows_fit_their_tables():
    now = datetime.now(UTC)
    creative = nz.creative_row(
        {"id": "5", "name": "n", "title": "t", "body": "b", "object_type": "VIDEO", "call_to_action_type": "SHOP_NOW",
         "url_tags": "utm_source=facebook", "thumbnail_url": "https://x/y.jpg", "status": "DELETED",
         "image_url": "https://never/copied.jpg"},
        now,
    )  # fmt: skip
    assert "image_url" not in creative and creative["creative_id"] == "5"
    error = nz.error_row(
        report="ad_daily", date_start=date(2026, 10, 7), date_end=date(2026, 10, 7), object_level="ad",
        object_ids=["13"], fields=["actions"], error_code=2, error_subcode=1504038, error_action="split",
        message="too much", fbtrace_id="Ab", recorded_at=now,
    )  # fmt: skip
    assert error["object_ids"] == '["13"]' and error["fields"] == '["actions"]'
    stamped = {"workspace_id", "account_id", "batch_id", "extracted_at"}
    for table, row in ((nz.AD_CREATIVES, creative), (nz.EXTRACTION_ERRORS, error)):
        columns = set(RAW_TABLES[table].column_names)
        assert set(row) <= columns, (table, set(row) - columns)
        assert columns - stamped <= set(row) | {"extracted_at"}, (table, columns - stamped - set(row))


@pytest.mark.parametrize(("text", "expected"), [("1234", 1234), ("0012", 12), ("0", 0), ("7.0", 7), (" 5", 5), (3, 3)])
def test_counts_are_read_as_integers(text, expected):
    assert nz.to_int(text) == expected and type(nz.to_int(text)) is int


@pytest.mark.parametrize("text", ["1.5", "²", "12a", "-"])
def test_a_count_that_is_not_an_integer_is_refused(text):
    # "²" is a digit to str.isdigit but not a number: refused like any other non-number, not a crash
    with pytest.raises(nz.NormalizationError):
        nz.to_int(text)
