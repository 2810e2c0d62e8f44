"""Graph nodes as Meta renders them: requested fields only (plus id), nulls omitted, money in minor units."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from graph_sandbox import graph_errors, state_fields
from graph_sandbox.model import (
    EFFECTIVE_STATUSES,
    HIDDEN_BY_DEFAULT,
    LEVEL_STATUSES,
    Account,
    Ad,
    AdSet,
    Campaign,
    Creative,
)
from graph_sandbox.params import FieldSpec, Filter
from graph_sandbox.scenario import Scenario

Getter = Callable[[Any, Scenario], Any]


def meta_time(dt: datetime) -> str:
    """Meta's object timestamp format: "2026-03-12T15:02:47-0700"."""
    return dt.strftime("%Y-%m-%dT%H:%M:%S%z")


def _t(dt: datetime | None) -> str | None:
    return meta_time(dt) if dt is not None else None


def _s(n: int | None) -> str | None:
    return str(n) if n is not None else None


def _budget_remaining(obj: Campaign | AdSet, scenario: Scenario) -> str | None:
    del scenario
    budget = obj.daily_budget if obj.daily_budget is not None else obj.lifetime_budget
    if budget is None:
        return "0"
    return str(0 if obj.effective_status in HIDDEN_BY_DEFAULT else budget)


ACCOUNT_FIELDS: dict[str, Getter] = {
    "id": lambda a, s: a.id,
    "account_id": lambda a, s: a.account_id,
    "name": lambda a, s: a.name,
    "currency": lambda a, s: a.currency,
    "timezone_name": lambda a, s: a.timezone_name,
    "timezone_offset_hours_utc": lambda a, s: s.timezone_offset_hours(a.id),
    "account_status": lambda a, s: a.account_status,
    "business": lambda a, s: {"id": a.business_id, "name": a.business_name},
    "business_name": lambda a, s: a.business_name,
    "disable_reason": lambda a, s: a.disable_reason,
    "spend_cap": lambda a, s: str(state_fields.spend_cap_minor(s, a.id)),
    "amount_spent": lambda a, s: str(state_fields.amount_spent_minor(s, a.id)),
    "created_time": lambda a, s: _t(a.created_time),
    "is_personal": lambda a, s: 0,
}

CAMPAIGN_FIELDS: dict[str, Getter] = {
    "id": lambda c, s: c.id,
    "account_id": lambda c, s: c.account_id,
    "name": lambda c, s: c.name,
    "status": lambda c, s: c.status,
    "configured_status": lambda c, s: c.status,
    "effective_status": lambda c, s: c.effective_status,
    "objective": lambda c, s: c.objective,
    "daily_budget": lambda c, s: _s(c.daily_budget),
    "lifetime_budget": lambda c, s: _s(c.lifetime_budget),
    "budget_remaining": _budget_remaining,
    "bid_strategy": lambda c, s: c.bid_strategy,
    "buying_type": lambda c, s: c.buying_type,
    "special_ad_categories": lambda c, s: [],
    "special_ad_category": lambda c, s: "NONE",
    "source_campaign_id": lambda c, s: "0",
    "created_time": lambda c, s: _t(c.created_time),
    "updated_time": lambda c, s: _t(c.updated_time),
    "start_time": lambda c, s: _t(c.start_time),
    "stop_time": lambda c, s: _t(c.stop_time),
}

ADSET_FIELDS: dict[str, Getter] = {
    "id": lambda a, s: a.id,
    "account_id": lambda a, s: a.account_id,
    "campaign_id": lambda a, s: a.campaign_id,
    "name": lambda a, s: a.name,
    "status": lambda a, s: a.status,
    "configured_status": lambda a, s: a.status,
    "effective_status": lambda a, s: a.effective_status,
    "daily_budget": lambda a, s: _s(a.daily_budget),
    "lifetime_budget": lambda a, s: _s(a.lifetime_budget),
    "budget_remaining": _budget_remaining,
    "optimization_goal": lambda a, s: a.optimization_goal,
    "billing_event": lambda a, s: a.billing_event,
    "bid_strategy": lambda a, s: a.bid_strategy,
    "created_time": lambda a, s: _t(a.created_time),
    "updated_time": lambda a, s: _t(a.updated_time),
    "start_time": lambda a, s: _t(a.start_time),
    "end_time": lambda a, s: _t(a.end_time),
    "learning_stage_info": state_fields.learning_stage_info,
}

AD_FIELDS: dict[str, Getter] = {
    "id": lambda a, s: a.id,
    "account_id": lambda a, s: a.account_id,
    "campaign_id": lambda a, s: a.campaign_id,
    "adset_id": lambda a, s: a.adset_id,
    "name": lambda a, s: a.name,
    "status": lambda a, s: a.status,
    "configured_status": lambda a, s: a.status,
    "effective_status": lambda a, s: a.effective_status,
    "creative": lambda a, s: {"id": a.creative_id},
    "created_time": lambda a, s: _t(a.created_time),
    "updated_time": lambda a, s: _t(a.updated_time),
}

CREATIVE_FIELDS: dict[str, Getter] = {
    "id": lambda c, s: c.id,
    "account_id": lambda c, s: c.account_id,
    "name": lambda c, s: c.name,
    "title": lambda c, s: c.title,
    "body": lambda c, s: c.body,
    "status": lambda c, s: c.status,
    "object_type": lambda c, s: c.object_type,
    "call_to_action_type": lambda c, s: c.call_to_action_type,
    "url_tags": lambda c, s: c.url_tags,
    "thumbnail_url": lambda c, s: c.thumbnail_url,
}

# Real fields the sandbox does not model: accepted, and omitted from replies as Meta omits empty fields.
UNMODELLED: dict[str, frozenset[str]] = {
    "AdAccount": frozenset(
        [
            "balance",
            "min_daily_budget",
            "min_campaign_group_spend_cap",
            "owner",
            "capabilities",
            "funding_source",
            "funding_source_details",
            "end_advertiser",
            "end_advertiser_name",
            "media_agency",
            "partner",
            "timezone_id",
            "tax_id_status",
            "user_tasks",
            "io_number",
            "fb_entity",
            "business_city",
            "business_country_code",
            "is_prepay_account",
            "is_tax_id_required",
            "offsite_pixels_tos_accepted",
            "tos_accepted",
            "age",
            "is_notifications_enabled",
        ]
    ),
    "Campaign": frozenset(
        [
            "adlabels",
            "boosted_object_id",
            "budget_rebalance_flag",
            "issues_info",
            "smart_promotion_type",
            "special_ad_category_country",
            "spend_cap",
            "pacing_type",
            "promoted_object",
            "recommendations",
            "topline_id",
            "last_budget_toggling_time",
            "primary_attribution",
            "can_use_spend_cap",
            "can_create_brand_lift_study",
            "is_skadnetwork_attribution",
            "is_budget_schedule_enabled",
        ]
    ),
    "AdSet": frozenset(
        [
            "adlabels",
            "bid_amount",
            "bid_info",
            "bid_constraints",
            "promoted_object",
            "targeting",
            "destination_type",
            "attribution_spec",
            "pacing_type",
            "daily_min_spend_target",
            "daily_spend_cap",
            "lifetime_min_spend_target",
            "lifetime_spend_cap",
            "issues_info",
            "recommendations",
            "frequency_control_specs",
            "is_dynamic_creative",
        ]
    ),
    "Ad": frozenset(
        [
            "ad_review_feedback",
            "adlabels",
            "bid_amount",
            "bid_info",
            "bid_type",
            "conversion_specs",
            "last_updated_by_app_id",
            "recommendations",
            "source_ad_id",
            "targeting",
            "tracking_specs",
            "preview_shareable_link",
            "conversion_domain",
            "issues_info",
            "ad_active_time",
        ]
    ),
    "AdCreative": frozenset(
        [
            "object_story_spec",
            "object_story_id",
            "image_url",
            "image_hash",
            "video_id",
            "asset_feed_spec",
            "link_url",
            "effective_object_story_id",
            "instagram_permalink_url",
        ]
    ),
    "User": frozenset(),
}

FIELDS: dict[str, dict[str, Getter]] = {
    "AdAccount": ACCOUNT_FIELDS,
    "Campaign": CAMPAIGN_FIELDS,
    "AdSet": ADSET_FIELDS,
    "Ad": AD_FIELDS,
    "AdCreative": CREATIVE_FIELDS,
}

NODE_TYPES: dict[type, str] = {
    Account: "AdAccount",
    Campaign: "Campaign",
    AdSet: "AdSet",
    Ad: "Ad",
    Creative: "AdCreative",
}

# Object-valued fields that accept sub-field selections, and the node type of the sub-object.
_SUBOBJECTS: dict[tuple[str, str], str] = {
    ("AdAccount", "business"): "Business",
    ("Ad", "creative"): "AdCreative",
    ("Ad", "campaign"): "Campaign",
    ("Ad", "adset"): "AdSet",
    ("AdSet", "campaign"): "Campaign",
}


def node_type(obj: object) -> str:
    return NODE_TYPES[type(obj)]


def render(
    kind: str, obj: Any, fields: Sequence[FieldSpec] | None, scenario: Scenario, default: Sequence[str] = ()
) -> dict[str, Any]:
    """The node's JSON: requested fields in order, then id; unknown fields fail like Meta (code 100)."""
    table = FIELDS[kind]
    specs = list(fields) if fields is not None else [FieldSpec(name) for name in default]
    out: dict[str, Any] = {}
    for spec in specs:
        sub_kind = _SUBOBJECTS.get((kind, spec.name))
        if sub_kind is not None:
            value = _render_subobject(kind, sub_kind, obj, spec, scenario)
        elif spec.name in table:
            if spec.subfields:
                raise graph_errors.invalid_param(f"Field {spec.name} on node type ({kind}) has no sub-fields")
            value = table[spec.name](obj, scenario)
        elif spec.name in UNMODELLED.get(kind, ()):
            continue
        else:
            raise graph_errors.nonexisting_field(spec.name, kind)
        if value is not None:
            out[spec.name] = value
    out.setdefault("id", table["id"](obj, scenario))
    return out


def _render_subobject(kind: str, sub_kind: str, obj: Any, spec: FieldSpec, scenario: Scenario) -> Any:
    if sub_kind == "Business":
        business = {"id": obj.business_id, "name": obj.business_name}
        if not spec.subfields:
            return business
        out = {}
        for sub in spec.subfields:
            if sub.name not in business:
                raise graph_errors.nonexisting_field(sub.name, "Business")
            out[sub.name] = business[sub.name]
        out.setdefault("id", obj.business_id)
        return out
    target_id = {"creative": "creative_id", "campaign": "campaign_id", "adset": "adset_id"}[spec.name]
    target = scenario.get_object(getattr(obj, target_id))
    if target is None:  # pragma: no cover - scenarios are consistent
        return None
    return render(sub_kind, target, spec.subfields, scenario, default=("id",))


# ---- edge filtering ----------------------------------------------------------------------------------------

_LEVEL_OF_KIND = {"Campaign": "campaign", "AdSet": "adset", "Ad": "ad"}
_PARENTS = {"campaign": (), "adset": ("campaign",), "ad": ("adset", "campaign")}
_FILTERABLE = frozenset(
    {
        "id",
        "name",
        "effective_status",
        "status",
        "configured_status",
        "objective",
        "created_time",
        "updated_time",
    }
)


def _chain(level: str, obj: Any, scenario: Scenario) -> dict[str, Any]:
    chain = {level: obj}
    if level in ("adset", "ad"):
        chain["campaign"] = scenario.get_object(obj.campaign_id)
    if level == "ad":
        chain["adset"] = scenario.get_object(obj.adset_id)
    return chain


def resolve_filter_field(level: str, field: str, *, allow_bare: bool = True) -> tuple[str, str]:
    """("campaign", "effective_status") for "campaign.effective_status" on an edge/report at `level`."""
    if "." in field:
        prefix, attr = field.split(".", 1)
        if prefix != level and prefix not in _PARENTS.get(level, ()):
            raise graph_errors.invalid_param(f"Filtering field {field} is invalid for this request")
    elif allow_bare and level in _PARENTS:
        prefix, attr = level, field
    else:
        raise graph_errors.invalid_param(
            f"Filtering field {field} is invalid: use a level prefix (ad., adset., campaign.)"
        )
    if attr not in _FILTERABLE or (attr == "objective" and prefix != "campaign"):
        raise graph_errors.invalid_param(f"Filtering field {field} is invalid")
    return prefix, attr


def _attr_value(obj: Any, attr: str) -> Any:
    if attr in ("status", "configured_status"):
        return obj.status
    if attr in ("created_time", "updated_time"):
        return int(getattr(obj, attr).timestamp())
    return getattr(obj, attr)


def _number(value: Any, field: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        pass
    try:
        return datetime.fromisoformat(str(value)).timestamp()
    except ValueError:
        raise graph_errors.invalid_param(f"Filtering field {field} needs a numeric value") from None


def check_filter_values(prefix: str, attr: str, f: Filter) -> None:
    """Refuse effective_status values that do not exist for the filter's level, as Meta refuses them on the
    campaigns edge (100/1487561 "Run Status not valid", facebook-python-business-sdk issue #388)."""
    if attr != "effective_status":
        return
    values = f.value if isinstance(f.value, (list, tuple)) else [f.value]
    allowed = LEVEL_STATUSES.get(prefix, EFFECTIVE_STATUSES)
    for v in values:
        if v not in allowed:
            raise graph_errors.invalid_param(
                "Invalid parameter",
                subcode=1487561,
                user_title="Run Status not valid",
                user_msg=f"Only certain values may be specified for run status. The value specified was invalid: "
                f"{v!r} for {f.field}.",
            )


def named_statuses(level: str, filters: Sequence[Filter], *, allow_bare: bool = True) -> frozenset[str]:
    """The effective statuses that filters on `level`'s own effective_status name (IN / EQUAL): the hidden ones among
    them (ARCHIVED, DELETED) become visible."""
    named: set[str] = set()
    for f in filters:
        prefix, attr = resolve_filter_field(level, f.field, allow_bare=allow_bare)
        if prefix != level or attr != "effective_status" or f.operator not in ("IN", "EQUAL"):
            continue
        named.update(str(v) for v in (f.value if isinstance(f.value, (list, tuple)) else [f.value]))
    return frozenset(named)


def visible_by_default(obj: Any, named: frozenset[str]) -> bool:
    """Meta's default visibility: ARCHIVED and DELETED objects only when a filter names their status."""
    return obj.effective_status not in HIDDEN_BY_DEFAULT or obj.effective_status in named


def matches(value: Any, f: Filter) -> bool:
    """Whether one attribute value passes one filter."""
    op = f.operator
    if op in ("IN", "NOT_IN"):
        hit = str(value) in {str(v) for v in f.value}
        return hit if op == "IN" else not hit
    if op in ("EQUAL", "NOT_EQUAL"):
        hit = str(value) == str(f.value)
        return hit if op == "EQUAL" else not hit
    if op in ("CONTAIN", "NOT_CONTAIN"):
        hit = str(f.value).lower() in str(value).lower()
        return hit if op == "CONTAIN" else not hit
    left, right = _number(value, f.field), _number(f.value, f.field)
    return {
        "GREATER_THAN": left > right,
        "GREATER_THAN_OR_EQUAL": left >= right,
        "LESS_THAN": left < right,
        "LESS_THAN_OR_EQUAL": left <= right,
    }[op]


def compile_filters(
    level: str, filters: Sequence[Filter], scenario: Scenario, *, allow_bare: bool = True
) -> Callable[[Any], bool]:
    """A predicate over objects of `level` (or ads, for insights) applying every filter (AND)."""
    resolved = []
    for f in filters:
        prefix, attr = resolve_filter_field(level, f.field, allow_bare=allow_bare)
        check_filter_values(prefix, attr, f)
        resolved.append(((prefix, attr), f))

    def predicate(obj: Any) -> bool:
        chain = _chain(level, obj, scenario)
        return all(matches(_attr_value(chain[prefix], attr), f) for (prefix, attr), f in resolved)

    return predicate


def list_edge(kind: str, objects: Sequence[Any], filters: Sequence[Filter], scenario: Scenario) -> list[Any]:
    """Objects of an edge after filtering and Meta's default visibility, newest first.

    ARCHIVED and DELETED objects are left out unless a filter on their own effective_status names their status.
    """
    level = _LEVEL_OF_KIND.get(kind)
    if level is None:
        return list(objects)
    predicate = compile_filters(level, filters, scenario)
    named = named_statuses(level, filters)
    selected = [o for o in objects if predicate(o) and visible_by_default(o, named)]
    selected.sort(key=lambda o: (o.created_time, o.id), reverse=True)
    return selected
