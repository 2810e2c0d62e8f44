"""API dicts (every metric a string) to typed rows for the raw tables.

The output table names and columns match `warehouse/schema.py` (checked by a test); insights_jobs does not import
warehouse, the orchestrator joins the two.

One exception to "typed": the figures of the action lists (~80 per insights row) stay the decimal text Meta sent,
checked here, and are typed by the writer column by column (Arrow's C++ cast, exact): a Python Decimal per figure,
then its conversion to Arrow, cost ~4x more than everything else the load path does per row (bench/load/README.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

# Raw table names (warehouse/schema.py)
AD_ACCOUNTS = "meta_ad_accounts"
CAMPAIGNS = "meta_campaigns"
ADSETS = "meta_adsets"
ADS = "meta_ads"
AD_CREATIVES = "meta_ad_creatives"
INSIGHTS = "meta_insights"
EXTRACTION_ERRORS = "meta_extraction_errors"

# Meta's currencies whose minor unit is the major unit (offset 1); every other currency has offset 100.
OFFSET_1_CURRENCIES = frozenset({"CLP", "COP", "CRC", "HUF", "ISK", "IDR", "JPY", "KRW", "PYG", "TWD", "VND"})

# Fields of insights that are lists of {"action_type", "value", "<window>": ...}
ACTION_FIELDS = ("actions", "action_values", "conversions", "conversion_values")
ATTRIBUTION_KEYS = ("value", "1d_click", "7d_click", "28d_click", "1d_view", "1d_ev")
# The field of an action record holding one list's figure under one window: `actions_7d_click`, `action_values_value`
# (meta_insights.actions, warehouse/schema.py ACTION_RECORD).
ACTION_RECORD_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    metric: tuple((window, f"{metric}_{window}") for window in ATTRIBUTION_KEYS) for metric in ACTION_FIELDS
}
_FIELD_OF: dict[str, dict[str, str]] = {metric: dict(fields) for metric, fields in ACTION_RECORD_FIELDS.items()}
# What is left of plain decimal text once its digits, point and sign are removed: nothing.
_NOT_DECIMAL_TEXT = str.maketrans("", "", "0123456789.-")
BREAKDOWNS = ("age", "gender", "country", "publisher_platform", "platform_position", "device_platform")


class NormalizationError(ValueError):
    pass


def to_decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise NormalizationError(f"not a number: {value!r}") from exc


def to_int(value: Any) -> int | None:
    if type(value) is str and value.isascii() and value.isdigit():
        return int(value)  # Meta's counts ("1234"): what the Decimal route below gives, without it
    d = to_decimal(value)
    if d is None:
        return None
    if d != d.to_integral_value():
        raise NormalizationError(f"not an integer: {value!r}")
    return int(d)


def to_float(value: Any) -> float | None:
    d = to_decimal(value)
    return None if d is None else float(d)


def to_date(value: Any) -> date | None:
    if not value:
        return None
    return date.fromisoformat(str(value))


def to_timestamp(value: Any) -> datetime | None:
    """Meta's "2024-03-12T15:02:47-0700" (or ISO with a colon) as an aware UTC datetime."""
    if not value:
        return None
    text = str(value)
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(text, fmt).astimezone(UTC)
        except ValueError:
            continue
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as exc:
        raise NormalizationError(f"not a timestamp: {value!r}") from exc
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def minor_to_major(value: Any, currency: str | None) -> Decimal | None:
    """Object money fields (budgets, spend caps) arrive in minor units of the account currency."""
    d = to_decimal(value)
    if d is None:
        return None
    offset = 1 if (currency or "").upper() in OFFSET_1_CURRENCIES else 100
    return d / offset


def unix_timestamp(value: Any) -> datetime | None:
    """Seconds since the epoch (Meta's `last_sig_edit_ts`) as an aware UTC datetime; 0 or absent is None."""
    seconds = to_int(value)
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def account_row(raw: Mapping[str, Any], extracted_at: datetime) -> dict[str, Any]:
    business = raw.get("business") or {}
    currency = raw.get("currency")
    return {
        "name": raw.get("name"),
        "currency": raw.get("currency"),
        "timezone_name": raw.get("timezone_name"),
        "timezone_offset_hours_utc": to_float(raw.get("timezone_offset_hours_utc")),
        "account_status": to_int(raw.get("account_status")),
        "business_id": business.get("id") if isinstance(business, Mapping) else None,
        "disable_reason": to_int(raw.get("disable_reason")),
        # minor units like the budgets; a spend cap of 0 means "no cap" and is kept as 0 (Meta's value)
        "spend_cap": minor_to_major(raw.get("spend_cap"), currency),
        "amount_spent": minor_to_major(raw.get("amount_spent"), currency),
        "extracted_at": extracted_at,
    }


def campaign_row(raw: Mapping[str, Any], currency: str, extracted_at: datetime) -> dict[str, Any]:
    return {
        "campaign_id": raw["id"],
        "name": raw.get("name"),
        "status": raw.get("status"),
        "effective_status": raw.get("effective_status"),
        "objective": raw.get("objective"),
        "buying_type": raw.get("buying_type"),
        "bid_strategy": raw.get("bid_strategy"),
        "daily_budget": minor_to_major(raw.get("daily_budget"), currency),
        "lifetime_budget": minor_to_major(raw.get("lifetime_budget"), currency),
        "created_time": to_timestamp(raw.get("created_time")),
        "updated_time": to_timestamp(raw.get("updated_time")),
        "start_time": to_timestamp(raw.get("start_time")),
        "stop_time": to_timestamp(raw.get("stop_time")),
        "extracted_at": extracted_at,
    }


def adset_row(raw: Mapping[str, Any], currency: str, extracted_at: datetime) -> dict[str, Any]:
    # Meta sends learning_stage_info only while the ad set delivers: absent is "unknown", not a status.
    learning = raw.get("learning_stage_info")
    if not isinstance(learning, Mapping):
        learning = {}
    return {
        "adset_id": raw["id"],
        "campaign_id": raw.get("campaign_id"),
        "name": raw.get("name"),
        "status": raw.get("status"),
        "effective_status": raw.get("effective_status"),
        "optimization_goal": raw.get("optimization_goal"),
        "billing_event": raw.get("billing_event"),
        "bid_strategy": raw.get("bid_strategy"),
        "daily_budget": minor_to_major(raw.get("daily_budget"), currency),
        "lifetime_budget": minor_to_major(raw.get("lifetime_budget"), currency),
        "created_time": to_timestamp(raw.get("created_time")),
        "updated_time": to_timestamp(raw.get("updated_time")),
        "start_time": to_timestamp(raw.get("start_time")),
        "end_time": to_timestamp(raw.get("end_time")),
        "learning_stage_status": learning.get("status"),
        "learning_stage_conversions": to_int(learning.get("conversions")),
        "learning_stage_last_sig_edit_at": unix_timestamp(learning.get("last_sig_edit_ts")),
        "extracted_at": extracted_at,
    }


def ad_row(raw: Mapping[str, Any], extracted_at: datetime) -> dict[str, Any]:
    creative = raw.get("creative") or {}
    return {
        "ad_id": raw["id"],
        "adset_id": raw.get("adset_id"),
        "campaign_id": raw.get("campaign_id"),
        "name": raw.get("name"),
        "status": raw.get("status"),
        "effective_status": raw.get("effective_status"),
        "creative_id": creative.get("id") if isinstance(creative, Mapping) else None,
        "created_time": to_timestamp(raw.get("created_time")),
        "updated_time": to_timestamp(raw.get("updated_time")),
        "extracted_at": extracted_at,
    }


def creative_row(raw: Mapping[str, Any], extracted_at: datetime) -> dict[str, Any]:
    """Creative metadata only: texts, call to action, URL tags and the thumbnail's link, never the assets."""
    return {
        "creative_id": raw["id"],
        "name": raw.get("name"),
        "title": raw.get("title"),
        "body": raw.get("body"),
        "object_type": raw.get("object_type"),
        "call_to_action_type": raw.get("call_to_action_type"),
        "url_tags": raw.get("url_tags"),
        "thumbnail_url": raw.get("thumbnail_url"),
        "status": raw.get("status"),
        "extracted_at": extracted_at,
    }


def error_row(
    *,
    report: str,
    date_start: date,
    date_end: date,
    object_level: str,
    object_ids: Iterable[str],
    fields: Iterable[str],
    error_code: int | None,
    error_subcode: int | None,
    error_action: str,
    message: str,
    fbtrace_id: str | None,
    recorded_at: datetime,
) -> dict[str, Any]:
    """A slice Meta would not serve even at its narrowest (meta_extraction_errors)."""
    return {
        "report": report,
        "date_start": date_start,
        "date_end": date_end,
        "object_level": object_level,
        "object_ids": json.dumps(list(object_ids)),
        "fields": json.dumps(list(fields)),
        "error_code": error_code,
        "error_subcode": error_subcode,
        "error_action": error_action,
        "message": message,
        "fbtrace_id": fbtrace_id,
        "recorded_at": recorded_at,
    }


INSIGHT_KEY = ("date_day", "campaign_id", "adset_id", "ad_id", *BREAKDOWNS)
INSIGHT_METRICS = ("spend", "impressions", "clicks", "inline_link_clicks", "reach", "frequency")


def row_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """What identifies an insights row within a report: the day, the object ids and the breakdown values."""
    return tuple(row.get(k) for k in INSIGHT_KEY)


def merge_rows(into: dict[str, Any], part: Mapping[str, Any]) -> None:
    """Fold the metrics of one field subset's row into the row of another subset (same key); action lists that
    came in different subsets join the records of their action types."""
    for k in INSIGHT_METRICS:
        if part.get(k) is not None:
            into[k] = part[k]
    if part.get("actions"):
        if not into.get("actions"):
            into["actions"] = part["actions"]
            return
        records = {r["action_type"]: r for r in into["actions"]}
        for record in part["actions"]:
            if record["action_type"] in records:
                records[record["action_type"]].update(record)
            else:
                records[record["action_type"]] = record
        into["actions"] = list(records.values())


def decimal_text(value: Any) -> str | None:
    """A figure as exact decimal text ("12.50"), None when absent; anything that is not a finite number is an error."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value and not value.translate(_NOT_DECIMAL_TEXT):
        return value
    d = to_decimal(value)
    if d is None or not d.is_finite():
        raise NormalizationError(f"not a number: {value!r}")
    return str(d)


def action_records(raw: Mapping[str, Any]) -> list[dict[str, Any]] | None:
    """The row's action lists as one record per action type, with a field per (list, attribution window) Meta
    returned: `{"action_type": "offsite_conversion.fb_pixel_purchase", "actions_value": "2", "actions_7d_click": "1",
    "action_values_value": "99.90"}`. Figures are exact decimal text (see the module docstring). A window Meta did
    not return stays absent (null), not 0. None when the row has no action entries."""
    records: dict[str, dict[str, Any]] = {}
    figures: list[Any] = []
    for metric in ACTION_FIELDS:
        entries = raw.get(metric)
        if not entries:
            continue
        field_of = _FIELD_OF[metric]
        seen: set[str] = set()
        for item in entries:
            action_type = item.get("action_type")
            if not action_type:
                continue
            if action_type in seen:
                # one entry per type and list is all Meta sends without action breakdowns; two would be summed
                # or lost silently further down
                raise NormalizationError(f"{metric} lists action type {action_type!r} twice")
            seen.add(action_type)
            record = records.get(action_type)
            if record is None:
                record = records[action_type] = {"action_type": action_type}
            for key, value in item.items():
                field = field_of.get(key)  # action_type, action breakdowns and unknown windows have none
                if field is not None:
                    record[field] = value
                    figures.append(value)
    # ~80 figures per row: checked at once (all text, none empty, nothing but digits, points and signs); a row that
    # fails is gone through figure by figure, which normalises or names the culprit
    try:
        plain = not "".join(figures).translate(_NOT_DECIMAL_TEXT) and "" not in figures
    except TypeError:  # a figure that is not text
        plain = False
    if not plain:
        for record in records.values():
            for field, value in record.items():
                if field != "action_type":
                    record[field] = decimal_text(value)
    return list(records.values()) or None


def insight_row(raw: Mapping[str, Any], report: str, level: str) -> dict[str, Any]:
    """One insights row, its action lists nested in `actions` (one record per action type, `action_records`)."""
    day = to_date(raw.get("date_start"))
    if day is None:
        raise NormalizationError("insights row without date_start")
    row = {
        "report": report,
        "level": level,
        "date_day": day,
        "campaign_id": raw.get("campaign_id"),
        "adset_id": raw.get("adset_id"),
        "ad_id": raw.get("ad_id"),
        **{b: raw.get(b) for b in BREAKDOWNS},
        "spend": to_decimal(raw.get("spend")),
        "impressions": to_int(raw.get("impressions")),
        "clicks": to_int(raw.get("clicks")),
        "inline_link_clicks": to_int(raw.get("inline_link_clicks")),
        "reach": to_int(raw.get("reach")),
        "frequency": to_float(raw.get("frequency")),
        "actions": action_records(raw),
    }
    return row


def normalize_insights(rows: Iterable[Mapping[str, Any]], report: str, level: str) -> list[dict[str, Any]]:
    """Insights rows of one page (see `insight_row`)."""
    return [insight_row(raw, report, level) for raw in rows]
