"""Slices of a report and how a failing one is split: by time first, then by object ids, then by field subsets.

A `Slice` is one request's worth of a report: an account, a date range, optionally a set of object ids (a filter
on campaign, ad set or ad ids) and a subset of the metric fields. When Meta cannot serve a slice (a report run
fails, the data is too large, a call times out), `split` narrows it:

1. time: halve the date range, down to single days;
2. ids: a single day is split by campaign ids, a single campaign by its ad sets, a single ad set by its ads, never
   below the report's level (a campaign-level row cannot be rebuilt from parts: reach does not add up). Each id
   split also gets a "remainder" slice (`NOT_IN` the known ids, within the same parent), so objects the entity
   read did not see (created since) are not lost;
3. fields: halve the metric fields (each half keeps the id and date fields; the extractor merges the halves' rows).

A slice that cannot be split further (one day, one object, one field) and still fails is recorded as an extraction
error, never dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from insights_jobs.reports import LEVELS, METRIC_FIELDS, ReportSpec

ID_LEVELS = ("campaign", "adset", "ad")


@dataclass
class Hierarchy:
    """The account's object ids (every status), to split by: campaigns, ad sets per campaign, ads per ad set."""

    campaigns: list[str] = field(default_factory=list)
    adsets: dict[str, list[str]] = field(default_factory=dict)  # campaign -> ad sets
    ads: dict[str, list[str]] = field(default_factory=dict)  # ad set -> ads

    @classmethod
    def from_entities(
        cls,
        campaigns: Sequence[Mapping[str, Any]],
        adsets: Sequence[Mapping[str, Any]],
        ads: Sequence[Mapping[str, Any]],
    ) -> Hierarchy:
        h = cls(campaigns=sorted({str(c["id"]) for c in campaigns if c.get("id")}))
        for s in adsets:
            if s.get("id") and s.get("campaign_id"):
                h.adsets.setdefault(str(s["campaign_id"]), []).append(str(s["id"]))
        for a in ads:
            if a.get("id") and a.get("adset_id"):
                h.ads.setdefault(str(a["adset_id"]), []).append(str(a["id"]))
        for d in (h.adsets, h.ads):
            for k in d:
                d[k] = sorted(set(d[k]))
        return h

    def children(self, level: str, object_id: str) -> list[str]:
        if level == "campaign":
            return self.adsets.get(object_id, [])
        if level == "adset":
            return self.ads.get(object_id, [])
        return []

    def count(self, level: str) -> int:
        if level == "account":
            return 1
        if level == "campaign":
            return len(self.campaigns)
        if level == "adset":
            return sum(len(v) for v in self.adsets.values())
        return sum(len(v) for v in self.ads.values())


@dataclass(frozen=True)
class Slice:
    account_id: str
    report: ReportSpec
    since: date
    until: date
    id_level: str | None = None  # what `ids` are: campaign | adset | ad
    ids: tuple[str, ...] | None = None  # None: every object of the account
    exclude: bool = False  # the remainder: every object NOT_IN `ids`
    within: tuple[str, str] | None = None  # (level, id) of the parent the ids belong to
    metrics: tuple[str, ...] = METRIC_FIELDS

    def __post_init__(self) -> None:
        if self.since > self.until:
            raise ValueError(f"slice starts {self.since} after it ends {self.until}")
        if (self.id_level is None) != (self.ids is None):
            raise ValueError("a slice has ids and their level, or neither")
        if self.id_level is not None and LEVELS.index(self.id_level) > LEVELS.index(self.report.level):
            raise ValueError(f"cannot filter a {self.report.level} report by {self.id_level} ids")

    @property
    def days(self) -> int:
        return (self.until - self.since).days + 1

    @property
    def field_split(self) -> bool:
        return self.metrics != METRIC_FIELDS

    def fields(self) -> list[str]:
        return self.report.request_fields(self.metrics)

    def filtering(self) -> list[dict[str, Any]]:
        """The request's `filtering`: the report's status filter (every status of its level: without it Meta leaves
        archived and deleted objects out), then the slice's parent and ids."""
        out: list[dict[str, Any]] = list(self.report.status_filter())
        if self.within is not None:
            out.append({"field": f"{self.within[0]}.id", "operator": "IN", "value": [self.within[1]]})
        if self.ids is not None:
            operator = "NOT_IN" if self.exclude else "IN"
            out.append({"field": f"{self.id_level}.id", "operator": operator, "value": list(self.ids)})
        return out

    def describe(self) -> str:
        what = f"{self.account_id} {self.report.name} {self.since}..{self.until}"
        if self.within is not None:
            what += f" in {self.within[0]} {self.within[1]}"
        if self.ids is not None:
            shown = ",".join(self.ids[:3]) + (",..." if len(self.ids) > 3 else "")
            what += f" {'not ' if self.exclude else ''}{self.id_level} {shown} ({len(self.ids)})"
        if self.field_split:
            what += f" fields {','.join(self.metrics)}"
        return what


def _halves(items: Sequence[Any]) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    mid = (len(items) + 1) // 2
    return tuple(items[:mid]), tuple(items[mid:])


def split(s: Slice, hierarchy: Hierarchy) -> list[Slice] | None:
    """The narrower slices that together cover `s`, or None when it cannot be narrowed any more."""
    if s.days > 1:
        mid = s.since + timedelta(days=(s.days + 1) // 2 - 1)
        return [replace(s, until=mid), replace(s, since=mid + timedelta(days=1))]
    by_ids = _split_ids(s, hierarchy)
    if by_ids:
        return by_ids
    if len(s.metrics) > 1:
        a, b = _halves(s.metrics)
        return [replace(s, metrics=a), replace(s, metrics=b)]
    return None


def _split_ids(s: Slice, h: Hierarchy) -> list[Slice] | None:
    level = s.report.level
    if level == "account" or s.exclude:
        return None  # account rows cannot be rebuilt from parts; the remainder's objects are unknown
    if s.ids is None:
        if not h.campaigns:
            return None
        ids = tuple(h.campaigns)
        # Known campaigns in (up to) two parts, plus whatever else the account has.
        parts = [p for p in _halves(ids) if p] if len(ids) > 1 else [ids]
        return [
            *(replace(s, id_level="campaign", ids=p) for p in parts),
            replace(s, id_level="campaign", ids=ids, exclude=True),
        ]
    if len(s.ids) > 1:
        a, b = _halves(s.ids)
        return [replace(s, ids=a), replace(s, ids=b)]
    assert s.id_level is not None
    if s.id_level == level:
        return None  # one object at the report's own level
    child_level = ID_LEVELS[ID_LEVELS.index(s.id_level) + 1]
    children = tuple(h.children(s.id_level, s.ids[0]))
    if not children:
        return None
    within = (s.id_level, s.ids[0])
    return [
        replace(s, id_level=child_level, ids=children, within=within),
        replace(s, id_level=child_level, ids=children, within=within, exclude=True),
    ]
