"""The insights reports SENTRUM lands: one name per (level, breakdowns), all daily (`time_increment=1`).

The names are a contract: they are the `report` column of `meta_insights`, the `report` of
the batch manifest, and what the dbt marts select on.
"""

from __future__ import annotations

from dataclasses import dataclass

from insights_jobs.entities import insights_status_filter

LEVELS = ("account", "campaign", "adset", "ad")
# Ids each level's rows carry (asked for explicitly: Meta returns only the fields requested).
LEVEL_IDS: dict[str, tuple[str, ...]] = {
    "account": (),
    "campaign": ("campaign_id",),
    "adset": ("campaign_id", "adset_id"),
    "ad": ("campaign_id", "adset_id", "ad_id"),
}
BASE_FIELDS = ("account_id", "account_currency", "date_start", "date_stop")
# Metric fields, in the order a field split halves them: the delivery figures first, then the action lists.
METRIC_FIELDS = (
    "spend",
    "impressions",
    "clicks",
    "inline_link_clicks",
    "reach",
    "frequency",
    "actions",
    "action_values",
    "conversions",
    "conversion_values",
)
# 7d_view and 28d_view are no longer returned by Meta (2026-01-12), so they are not asked for; "value" (since
# 2025-06-10 the figure under the ad set's own attribution setting) comes with every action entry.
ATTRIBUTION_WINDOWS = ("1d_click", "7d_click", "28d_click", "1d_view")
# Since 2025-06-10 Meta disregards action_report_time and reports "mixed" (on-Meta actions on the impression's day,
# off-Meta ones on the conversion's day): asking for "mixed" asks for what is served, so the lineage is true.
ACTION_REPORT_TIME = "mixed"
# Rough cells per object-day of each breakdown, to guess a report's size before asking (sync or async).
_CELLS = {"age": 7, "gender": 3, "country": 8, "publisher_platform": 4, "platform_position": 4, "device_platform": 3}


@dataclass(frozen=True)
class ReportSpec:
    name: str
    level: str
    breakdowns: tuple[str, ...] = ()

    @property
    def id_fields(self) -> tuple[str, ...]:
        return LEVEL_IDS[self.level]

    @property
    def fields(self) -> tuple[str, ...]:
        """Every field the report asks for."""
        return (*BASE_FIELDS, *self.id_fields, *METRIC_FIELDS)

    def request_fields(self, metrics: tuple[str, ...] | None = None) -> list[str]:
        """The `fields` of a request for some of the metrics (all of them by default)."""
        return [*BASE_FIELDS, *self.id_fields, *(metrics if metrics is not None else METRIC_FIELDS)]

    @property
    def cells_per_object_day(self) -> int:
        n = 1
        for b in self.breakdowns:
            n *= _CELLS.get(b, 10)
        return n

    def status_filter(self) -> list[dict[str, object]]:
        """The effective-status filter every request of this report carries (split slices included)."""
        return insights_status_filter(self.level)

    def lineage(self) -> dict[str, object]:
        """What a batch of this report records about how it was asked for (with the API version added)."""
        return {
            "report": self.name,
            "level": self.level,
            "breakdowns": list(self.breakdowns),
            "fields": list(self.fields),
            "time_increment": 1,
            "action_attribution_windows": list(ATTRIBUTION_WINDOWS),
            "action_report_time": ACTION_REPORT_TIME,
            "statuses": self.status_filter(),
        }


REPORTS: dict[str, ReportSpec] = {
    r.name: r
    for r in (
        ReportSpec("account_daily", "account"),
        ReportSpec("campaign_daily", "campaign"),
        ReportSpec("adset_daily", "adset"),
        ReportSpec("ad_daily", "ad"),
        ReportSpec("ad_daily_age_gender", "ad", ("age", "gender")),
        ReportSpec("ad_daily_country", "ad", ("country",)),
        ReportSpec("ad_daily_placement", "ad", ("publisher_platform", "platform_position")),
        ReportSpec("ad_daily_device", "ad", ("device_platform",)),
    )
}
DEFAULT_REPORTS: tuple[str, ...] = tuple(REPORTS)


def report(name: str) -> ReportSpec:
    try:
        return REPORTS[name]
    except KeyError:
        raise ValueError(f"unknown report {name!r}; known: {', '.join(REPORTS)}") from None
