"""The insights edge: parameter parsing, row selection (from the scenario's truth) and Meta's row format."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from graph_sandbox import currency, graph_errors
from graph_sandbox.aggregate import TimeIncrement, breakdown_family
from graph_sandbox.metrics import CONVERSION_TYPES
from graph_sandbox.model import FAMILY_OF, LEVELS, RETURNED_WINDOWS, Account, Ad, TruthRow
from graph_sandbox.objects import compile_filters, named_statuses, visible_by_default
from graph_sandbox.params import (
    Filter,
    parse_fields,
    parse_filtering,
    parse_json,
    parse_list,
    parse_time_range,
)
from graph_sandbox.scenario import Scenario

# Fields the sandbox computes. Anything else fails as Meta fails an unknown insights field.
INSIGHTS_FIELDS: tuple[str, ...] = (
    "account_id",
    "account_name",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "adset_id",
    "adset_name",
    "ad_id",
    "ad_name",
    "objective",
    "buying_type",
    "optimization_goal",
    "spend",
    "impressions",
    "clicks",
    "inline_link_clicks",
    "reach",
    "frequency",
    "ctr",
    "cpc",
    "cpm",
    "cpp",
    "inline_link_click_ctr",
    "cost_per_inline_link_click",
    "actions",
    "action_values",
    "conversions",
    "conversion_values",
    "cost_per_action_type",
    "purchase_roas",
    "website_purchase_roas",
    "date_start",
    "date_stop",
)
_FIELD_SET = frozenset(INSIGHTS_FIELDS)
DEFAULT_FIELDS: tuple[str, ...] = ("impressions", "spend")

# Every window value the SDK accepts; only RETURNED_WINDOWS produce keys (the rest are silently empty, as the
# view windows are at Meta since 2026-01-12).
KNOWN_WINDOWS = frozenset(
    {
        "1d_click",
        "1d_ev",
        "1d_sequenced",
        "1d_view",
        "28d_click",
        "28d_sequenced",
        "28d_view",
        "28d_view_all_conversions",
        "28d_view_first_conversion",
        "7d_click",
        "7d_sequenced",
        "7d_view",
        "7d_view_all_conversions",
        "7d_view_first_conversion",
        "custom",
        "dda",
        "default",
        "incrementality",
        "incrementality_all_conversions",
        "incrementality_first_conversion",
        "skan_click",
        "skan_click_second_postback",
        "skan_click_third_postback",
        "skan_view",
        "skan_view_second_postback",
        "skan_view_third_postback",
    }
)
ACTION_REPORT_TIMES = frozenset({"impression", "conversion", "mixed", "lifetime"})
# Breakdowns Meta accepts (the SDK's enum, abridged); the sandbox models those of its families (model.FAMILIES).
KNOWN_BREAKDOWNS = frozenset(
    {
        "age", "gender", "country", "region", "dma", "comscore_market", "publisher_platform", "platform_position",
        "impression_device", "device_platform", "hourly_stats_aggregated_by_advertiser_time_zone",
        "hourly_stats_aggregated_by_audience_time_zone", "frequency_value", "product_id", "place_page_id",
    }
)  # fmt: skip
DEPTH = {level: i for i, level in enumerate(LEVELS)}
INSIGHTS_RETENTION_MONTHS = 37


@dataclass(frozen=True)
class InsightsQuery:
    """A parsed insights request."""

    level: str
    fields: tuple[str, ...]
    ranges: tuple[tuple[date, date], ...]
    time_increment: TimeIncrement
    windows: tuple[str, ...]  # window keys to add to each action entry, besides "value"
    filters: tuple[Filter, ...]
    breakdowns: tuple[str, ...] = ()

    @property
    def date_start(self) -> date:
        return min(r[0] for r in self.ranges)

    @property
    def date_stop(self) -> date:
        return max(r[1] for r in self.ranges)


def months_back(day: date, months: int) -> date:
    total = day.year * 12 + (day.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """Meta's date_preset values the sandbox supports, relative to the account's today."""
    yesterday = today - timedelta(days=1)
    if preset == "today":
        return today, today
    if preset == "yesterday":
        return yesterday, yesterday
    if preset.startswith("last_") and preset.endswith("d") and preset[5:-1].isdigit():
        n = int(preset[5:-1])
        if n in (3, 7, 14, 28, 30, 90):
            return today - timedelta(days=n), yesterday
    if preset == "this_month":
        return today.replace(day=1), today
    if preset == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    if preset == "this_year":
        return today.replace(month=1, day=1), today
    if preset == "last_year":
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    if preset in ("maximum", "data_maximum"):
        return months_back(today, INSIGHTS_RETENTION_MONTHS), today
    raise graph_errors.invalid_param(f"param date_preset value {preset!r} is not supported by the sandbox")


def _time_increment(raw: str | None) -> TimeIncrement:
    if raw is None or raw == "":
        return "all_days"
    text = raw.strip().strip('"')
    if text in ("all_days", "monthly"):
        return text
    if text.isdigit() and 1 <= int(text) <= 90:
        return int(text)
    raise graph_errors.invalid_param(
        "param time_increment must be an integer between 1 and 90, 'monthly' or 'all_days'"
    )


def parse_query(params: Mapping[str, str], *, node_level: str, today: date) -> InsightsQuery:
    """Validate an insights request the way Meta does (code 100 on anything malformed)."""
    level = params.get("level") or node_level
    if level not in LEVELS:
        raise graph_errors.invalid_param(f"param level must be one of {{{', '.join(LEVELS)}}}")
    if DEPTH[level] < DEPTH[node_level]:
        raise graph_errors.invalid_param(f"level {level} is above the {node_level} this request is made on")

    specs = parse_fields(params.get("fields"))
    names = [s.name for s in specs] if specs is not None else list(DEFAULT_FIELDS)
    for spec in specs or ():
        if spec.name not in _FIELD_SET or spec.subfields:
            raise graph_errors.invalid_insights_field(spec.name)

    breakdowns = tuple(parse_list("breakdowns", params.get("breakdowns")) or ())
    for i, b in enumerate(breakdowns):
        if b not in KNOWN_BREAKDOWNS:
            raise graph_errors.invalid_param(
                f"breakdowns[{i}] must be one of the following values: {', '.join(sorted(KNOWN_BREAKDOWNS))}"
            )
        if b not in FAMILY_OF:
            raise graph_errors.invalid_param(f"breakdown {b} is not modelled by the Graph API sandbox")
    if len(set(breakdowns)) != len(breakdowns):
        raise graph_errors.invalid_param("breakdowns must not repeat a value")
    if "platform_position" in breakdowns and "publisher_platform" not in breakdowns:
        raise graph_errors.invalid_breakdowns(breakdowns)
    try:
        breakdown_family(breakdowns)
    except ValueError:
        raise graph_errors.invalid_breakdowns(breakdowns) from None
    action_breakdowns = parse_list("action_breakdowns", params.get("action_breakdowns"))
    if action_breakdowns not in (None, [], ["action_type"]):
        raise graph_errors.invalid_param(
            "action_breakdowns other than action_type are not supported by the sandbox yet"
        )
    report_time = params.get("action_report_time")
    if report_time is not None and report_time not in ACTION_REPORT_TIMES:
        raise graph_errors.invalid_param(f"param action_report_time must be one of {sorted(ACTION_REPORT_TIMES)}")

    windows_raw = parse_list("action_attribution_windows", params.get("action_attribution_windows")) or []
    for i, w in enumerate(windows_raw):
        if w not in KNOWN_WINDOWS:
            raise graph_errors.invalid_param(
                f"action_attribution_windows[{i}] must be one of the following values: "
                f"{', '.join(sorted(KNOWN_WINDOWS))}"
            )
    windows = tuple(w for w in RETURNED_WINDOWS if w in windows_raw)

    time_ranges = parse_json("time_ranges", params.get("time_ranges"), list)
    time_range = parse_json("time_range", params.get("time_range"), dict)
    if time_ranges:
        ranges = tuple(parse_time_range(f"time_ranges[{i}]", r) for i, r in enumerate(time_ranges))
        increment: TimeIncrement = "all_days"
    else:
        if time_range is not None:
            ranges = (parse_time_range("time_range", time_range),)
        else:
            ranges = (preset_range(params.get("date_preset") or "last_30d", today),)
        increment = _time_increment(params.get("time_increment"))
    earliest = months_back(today, INSIGHTS_RETENTION_MONTHS)
    if any(since < earliest for since, _ in ranges):
        raise graph_errors.too_old()

    filters = tuple(parse_filtering(params.get("filtering")))
    return InsightsQuery(level, tuple(names), ranges, increment, windows, filters, breakdowns)


def _object_at(scenario: Scenario, ad: Ad, level: str) -> Any:
    if level == "ad":
        return ad
    return scenario.get_object(ad.adset_id if level == "adset" else ad.campaign_id)


def select_ads(scenario: Scenario, scope: Sequence[Ad], query: InsightsQuery, node_id: str | None = None) -> list[Ad]:
    """The ads in scope whose figures the request's rows add up: those passing the filters, less Meta's hidden ones.

    At level ad / adset / campaign, an object of that level whose effective status is ARCHIVED or DELETED (its own,
    or inherited from a deleted or archived parent) gives no row unless a filter on `<level>.effective_status`
    names that status; the object the request is made on (`<AD_ID>/insights`) is always readable. Rows above an
    object count it whatever its status (an account row, a live campaign's row count their deleted ads).
    """
    predicate = compile_filters("ad", query.filters, scenario, allow_bare=False) if query.filters else None
    level = query.level
    named = named_statuses(level, query.filters, allow_bare=False) if level != "account" else frozenset()
    out = []
    for ad in scope:
        if predicate is not None and not predicate(ad):
            continue
        if level != "account":
            obj = _object_at(scenario, ad, level)
            if obj.id != node_id and not visible_by_default(obj, named):
                continue
        out.append(ad)
    return out


def compute_rows(
    scenario: Scenario, account: Account, scope: Sequence[Ad], query: InsightsQuery, node_id: str | None = None
) -> list[TruthRow]:
    """The rows the request selects: the scenario's truth for the ads `select_ads` keeps."""
    ads = select_ads(scenario, scope, query, node_id)
    rows: list[TruthRow] = []
    for since, until in query.ranges:
        rows.extend(
            scenario.truth(
                query.level,
                account.id,
                since,
                until,
                time_increment=query.time_increment,
                ads=ads,
                breakdowns=query.breakdowns,
            )
        )
    return rows


# ---- rendering ---------------------------------------------------------------------------------------------

_SIX = Decimal("0.000001")


def _ratio(numerator: Decimal | int, denominator: Decimal | int, scale: int = 1) -> str | None:
    if not denominator:
        return None
    value = Decimal(numerator) * scale / Decimal(denominator)
    return str(value.quantize(_SIX, rounding=ROUND_HALF_UP))


def _by_type(row: TruthRow) -> dict[str, dict[str, dict[str, Decimal]]]:
    """The row's figures as {metric: {action_type: {window: value}}}, in one pass over its actions."""
    out: dict[str, dict[str, dict[str, Decimal]]] = {"actions": {}, "action_values": {}}
    for a in row.actions:
        by_type = out.get(a.metric)
        if by_type is None:
            by_type = out[a.metric] = {}
        values = by_type.get(a.action_type)
        if values is None:
            values = by_type[a.action_type] = {}
        values[a.window] = a.value
    return out


_ZERO = Decimal(0)


def _action_list(
    figures: dict[str, dict[str, Decimal]],
    windows: tuple[str, ...],
    fmt: Callable[[Decimal], str | None],
    only: Sequence[str] | None = None,
) -> list[dict[str, str]] | None:
    keys = ("value", *windows)
    out = []
    for action_type in sorted(figures):
        if only is not None and action_type not in only:
            continue
        values = figures[action_type]
        if not any(values.get(k) for k in keys):
            continue
        entry = {"action_type": action_type}
        for k in keys:
            text = fmt(values.get(k, _ZERO))
            if text is not None:
                entry[k] = text
        out.append(entry)
    return out or None


def _count_text(value: Decimal) -> str:
    return str(int(value))


Getter = Callable[[TruthRow], Any]


class RowRenderer:
    """Turns TruthRows into Meta's JSON rows for one query (every metric a string, ids only when asked).

    Each field's getter is chosen once per query (`_getter`), not per row, and a row's action figures are grouped
    by type once for all the action fields that read them: a report page renders ~500 rows of ~15 fields."""

    def __init__(self, scenario: Scenario, account: Account, query: InsightsQuery) -> None:
        self.scenario = scenario
        self.account = account
        self.query = query
        self._getters: dict[str, Getter] = {}
        self._quantum = currency.quantum(account.currency)
        self._figures_of: tuple[TruthRow | None, dict[str, dict[str, dict[str, Decimal]]]] = (None, {})

    def _name(self, object_id: str | None) -> str | None:
        obj = self.scenario.get_object(object_id) if object_id else None
        return getattr(obj, "name", None)

    def _campaign_attr(self, row: TruthRow, attr: str) -> str | None:
        obj = self.scenario.get_object(row.campaign_id) if row.campaign_id else None
        return getattr(obj, attr, None)

    def _money(self, value: Decimal) -> str:
        # currency.format_major with the account's quantum looked up once (a few money figures per row)
        return str(value.quantize(self._quantum, rounding=ROUND_HALF_UP))

    def _figures(self, row: TruthRow, metric: str) -> dict[str, dict[str, Decimal]]:
        last, figures = self._figures_of
        if last is not row:
            figures = _by_type(row)
            self._figures_of = (row, figures)
        return figures[metric]

    def field(self, name: str, row: TruthRow) -> Any:
        getter = self._getters.get(name)
        if getter is None:
            getter = self._getters[name] = self._getter(name)
        return getter(row)

    def _getter(self, name: str) -> Getter:
        cur = self.account.currency
        w = self.query.windows
        money = self._money
        figures = self._figures
        if name == "account_id":
            return lambda row: row.account_id
        if name == "account_name":
            return lambda row: self.account.name
        if name == "account_currency":
            return lambda row: cur
        if name in ("campaign_id", "adset_id", "ad_id"):
            return lambda row: getattr(row, name)
        if name in ("campaign_name", "adset_name", "ad_name"):
            id_name = name.replace("_name", "_id")
            return lambda row: self._name(getattr(row, id_name))
        if name in ("objective", "buying_type"):
            return lambda row: self._campaign_attr(row, name)
        if name == "optimization_goal":

            def goal(row: TruthRow) -> Any:
                adset = self.scenario.get_object(row.adset_id) if row.adset_id else None
                return getattr(adset, "optimization_goal", None)

            return goal
        if name == "spend":
            return lambda row: money(row.spend)
        if name in ("impressions", "clicks", "inline_link_clicks", "reach"):
            return lambda row: str(getattr(row, name))
        if name == "frequency":
            return lambda row: _ratio(row.impressions, row.reach)
        if name == "ctr":
            return lambda row: _ratio(row.clicks, row.impressions, 100)
        if name == "inline_link_click_ctr":
            return lambda row: _ratio(row.inline_link_clicks, row.impressions, 100)
        if name == "cpc":
            return lambda row: _ratio(row.spend, row.clicks)
        if name == "cost_per_inline_link_click":
            return lambda row: _ratio(row.spend, row.inline_link_clicks)
        if name == "cpm":
            return lambda row: _ratio(row.spend, row.impressions, 1000)
        if name == "cpp":
            return lambda row: _ratio(row.spend, row.reach, 1000)
        if name == "actions":
            return lambda row: _action_list(figures(row, "actions"), w, _count_text)
        if name == "action_values":
            return lambda row: _action_list(figures(row, "action_values"), w, money)
        if name == "conversions":
            return lambda row: _action_list(figures(row, "actions"), w, _count_text, only=CONVERSION_TYPES)
        if name == "conversion_values":
            return lambda row: _action_list(figures(row, "action_values"), w, money, only=CONVERSION_TYPES)
        if name == "cost_per_action_type":
            return lambda row: _action_list(figures(row, "actions"), w, lambda v: _ratio(row.spend, v))
        if name in ("purchase_roas", "website_purchase_roas"):
            action_type = "omni_purchase" if name == "purchase_roas" else "offsite_conversion.fb_pixel_purchase"
            return lambda row: _action_list(
                figures(row, "action_values"), w, lambda v: _ratio(v, row.spend) or "0", only=(action_type,)
            )
        raise graph_errors.invalid_insights_field(name)  # pragma: no cover - parse_query validated the fields

    def render(self, rows: Sequence[TruthRow]) -> list[dict[str, Any]]:
        getters = [(name, self._getter(name)) for name in self.query.fields if name not in ("date_start", "date_stop")]
        out = []
        for row in rows:
            item: dict[str, Any] = {}
            for name, getter in getters:
                value = getter(row)
                if value is not None:
                    item[name] = value
            # Meta adds the breakdown values as keys of their own, whatever `fields` asked for.
            for dim, value in row.breakdown:
                item[dim] = value
            item["date_start"] = row.date.isoformat()
            item["date_stop"] = row.date_stop.isoformat()
            out.append(item)
        return out
