"""Readers: per-workspace window aggregates from the marts, through the portable `Warehouse` interface only.

Each read is one SQL statement that sums the additive metrics per entity and per window (conditional sums), with
each account's windows passed as parameters (accounts have their own newest day, in their own timezone). Ratios are
recomputed from those sums here; `reach` is never read and `frequency` is only averaged at the grain Meta fetched it.
A mart missing from the catalog yields no data for the detectors that need it (recorded in `skipped`), never a crash.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any, Protocol

from diagnostics.config import DiagnosticsConfig
from diagnostics.mart_types import (
    ADDITIVE,
    ALL_WINDOWS,
    Account,
    AccountWindows,
    BreakdownCell,
    EntityStats,
    FrequencyStats,
    MartData,
    Sums,
)
from diagnostics.marts_state import (
    DIM_ACCOUNTS,
    DIM_ADS,
    DIM_ADSETS,
    DIM_BUDGET_HISTORY,
    DIM_CAMPAIGNS,
    read_account_dims,
    read_budgets,
    read_dims,
)
from warehouse import WarehouseError

log = logging.getLogger(__name__)

MARTS = "marts"
FCT_AD = "fct_ad_insights_daily"
FCT_ADSET = "fct_adset_insights_daily"
FCT_CAMPAIGN = "fct_campaign_insights_daily"
# breakdown dimension -> (mart, the cell's columns)
BREAKDOWN_MARTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "age_gender": ("fct_ad_insights_daily_by_age_gender", ("age", "gender")),
    "country": ("fct_ad_insights_daily_by_country", ("country",)),
    "placement": ("fct_ad_insights_daily_by_placement", ("publisher_platform", "platform_position")),
    "device": ("fct_ad_insights_daily_by_device", ("device_platform",)),
}


ALL_MARTS = (
    FCT_AD,
    FCT_ADSET,
    FCT_CAMPAIGN,
    DIM_ACCOUNTS,
    DIM_CAMPAIGNS,
    DIM_ADSETS,
    DIM_ADS,
    DIM_BUDGET_HISTORY,
    *(table for table, _ in BREAKDOWN_MARTS.values()),
)


def _missing_table(exc: BaseException) -> bool:
    """A warehouse error that means "this table does not exist": DuckDB's catalog error, BigQuery's 404. The
    backends chain the driver's exception as the cause; the message is the fallback."""
    cause = exc.__cause__
    if cause is not None and type(cause).__name__ in ("CatalogException", "NotFound"):
        return True
    text = str(exc).lower()
    return "does not exist" in text or "not found: table" in text


def _missing_column(exc: BaseException) -> bool:
    cause = exc.__cause__
    if cause is not None and type(cause).__name__ == "BinderException":
        return True
    text = str(exc).lower()
    return "unrecognized name" in text or ("column" in text and ("not found" in text or "does not exist" in text))


class QueryWarehouse(Protocol):
    """The part of `warehouse.base.Warehouse` the readers use."""

    def query(
        self, sql: str, params: Mapping[str, Any] | None = None, *, labels: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]: ...

    def table_ref(self, schema: str, table: str) -> str: ...

    def tables_with_column(self, column: str) -> list[Any]: ...

    def columns(self, schema: str, table: str) -> list[tuple[str, str]]: ...


def _num(value: Any) -> float:
    # Money arrives as Decimal (NUMERIC); diagnostics work in ratios, where float precision is ample.
    return float(value) if value is not None else 0.0


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


# -- SQL --------------------------------------------------------------------------------------------------------------
def _windows_cte(accounts: Iterable[Account], names: Iterable[str]) -> tuple[str, dict[str, Any]]:
    """One row per account with its window bounds, built from parameters (portable: no arrays, no date math)."""
    names = list(names)
    selects, params = [], {}
    for i, account in enumerate(accounts):
        cols = [f"@acct{i} as account_id"]
        params[f"acct{i}"] = account.account_id
        look = account.windows.lookback
        for name, window in (("look", look), *((n, account.windows.windows[n]) for n in names)):
            cols += [f"@{name}_s{i} as {name}_start", f"@{name}_e{i} as {name}_end"]
            params[f"{name}_s{i}"], params[f"{name}_e{i}"] = window.start, window.end
        selects.append("select " + ", ".join(cols))
    return " union all ".join(selects), params


def _bounds(accounts: Iterable[Account], names: Iterable[str]) -> dict[str, date]:
    """Constant date bounds covering every account's windows `names`. The per-account bounds come from a join,
    which BigQuery cannot prune partitions with; these literal-parameter bounds let it read only the days needed."""
    windows = [a.windows.windows[n] if n != "look" else a.windows.lookback for a in accounts for n in names]
    return {"lo": min(w.start for w in windows), "hi": max(w.end for w in windows)}


def _in(window: str) -> str:
    return f"f.date_day between w.{window}_start and w.{window}_end"


def _window_sums(windows: Iterable[str], metrics: Iterable[str] = ADDITIVE) -> list[str]:
    metrics = list(metrics)
    return [f"sum(case when {_in(w)} then coalesce(f.{m}, 0) else 0 end) as {w}__{m}" for w in windows for m in metrics]


def _sums(row: Mapping[str, Any], window: str, metrics: Iterable[str] = ADDITIVE) -> Sums:
    return Sums(**{m: _num(row.get(f"{window}__{m}")) for m in metrics})


class MartReader:
    def __init__(self, warehouse: QueryWarehouse, workspace_id: str, config: DiagnosticsConfig) -> None:
        self.wh = warehouse
        self.ws = workspace_id
        self.config = config
        self._present: set[str] | None = None
        self._columns: dict[str, set[str] | None] = {}  # None: the table's schema was unreadable, probe instead
        self._probed: dict[tuple[str, str], bool] = {}

    def ref(self, table: str) -> str:
        return self.wh.table_ref(MARTS, table)

    def present(self, table: str) -> bool:
        if self._present is None:
            # From the catalog, once: which marts exist right now (a new mart may not be built yet).
            try:
                self._present = {t.name for t in self.wh.tables_with_column("workspace_id") if t.schema == MARTS}
            except WarehouseError as exc:
                # The catalog walk refuses the whole warehouse when any schema has a name it cannot address (e.g.
                # a per-workspace access schema `ws_<id>` with a hyphen). That says nothing about the marts: ask them.
                log.warning("diagnostics: catalog unreadable (%s); probing the marts one by one", exc)
                self._present = {t for t in ALL_MARTS if self._probe(t)}
        return table in self._present

    def has_column(self, table: str, column: str) -> bool:
        """Whether mart `table` has `column` (a field the extraction may not provide yet: the detectors that need it
        then stay silent). From the table's own schema, read once per table (on BigQuery a tables.get, not a query
        job: a catalog walk per column cost dozens of INFORMATION_SCHEMA jobs per workspace and night), or by probing
        when that read fails."""
        if not self.present(table):
            return False
        if table not in self._columns:
            try:
                self._columns[table] = {name for name, _ in self.wh.columns(MARTS, table)}
            except WarehouseError:
                self._columns[table] = None
        known = self._columns[table]
        if known is not None:
            return column in known
        if (table, column) not in self._probed:
            self._probed[(table, column)] = self._probe(table, column)
        return self._probed[(table, column)]

    def select_columns(self, table: str, columns: Iterable[str], alias: str = "") -> str:
        """`alias.col` for the columns `table` has, `null as col` for those it lacks."""
        prefix = f"{alias}." if alias else ""
        return ", ".join(f"{prefix}{c}" if self.has_column(table, c) else f"null as {c}" for c in columns)

    def _probe(self, table: str, column: str = "workspace_id") -> bool:
        """Whether a mart exists, by selecting nothing from it; errors other than "no such table" propagate."""
        try:
            self.query(f"select {column} from {self.ref(table)} where workspace_id = @ws and false", {})
        except WarehouseError as exc:
            if _missing_table(exc) or (column != "workspace_id" and _missing_column(exc)):
                return False
            raise
        return True

    def query(self, sql: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        return self.wh.query(sql, {"ws": self.ws, **params}, labels={"sentrum_component": "diagnostics"})

    # -- the read ---------------------------------------------------------------------------------------------
    def read(self, night: date) -> MartData:
        data = MartData(self.ws, as_of=night - timedelta(days=1))
        if not self.present(FCT_AD):
            data.skipped[FCT_AD] = "mart not built yet: no diagnostics"
            return data
        self._accounts(data, as_of=night - timedelta(days=1))  # every account's dim row too, stale ones included
        if not data.accounts:
            return data
        read_dims(self, data)
        self._ads(data)
        self._account_daily(data)
        read_budgets(self, data)
        for level, table, key in (("adset", FCT_ADSET, "adset_id"), ("campaign", FCT_CAMPAIGN, "campaign_id")):
            if self.present(table):
                self._frequency(data, level, table, key)
            else:
                data.skipped[table] = f"mart not built yet: no creative-fatigue findings at {level} level"
        for dimension in self.config.breakdown_dimensions:
            table, columns = BREAKDOWN_MARTS[dimension]
            if self.present(table):
                self._breakdown(data, dimension, table, columns)
            else:
                data.skipped[table] = f"mart not built yet: no {dimension} breakdown findings"
        return data

    def _accounts(self, data: MartData, as_of: date) -> None:
        """Each account's newest day: the latest date_day not after night - 1. Extraction ends "yesterday in the
        account's timezone", so this is the account's last complete day whatever its timezone."""
        oldest = as_of - timedelta(days=self.config.max_staleness_days)
        # Bounded below so BigQuery prunes partitions. An account with nothing since is stale either way; the dims
        # still list it, so its skip is recorded below.
        since = oldest - timedelta(days=self.config.lookback_days)
        rows = self.query(
            "select account_id, max(date_day) as last_day, max(account_currency) as account_currency "
            f"from {self.ref(FCT_AD)} "
            "where workspace_id = @ws and date_day between @since and @as_of group by account_id",
            {"as_of": as_of, "since": since},
        )
        read_account_dims(self, data)
        names = data.account_dims
        for account_id in sorted(set(names) - {r["account_id"] for r in rows}):
            data.skipped[f"account:{account_id}"] = f"no data since {since}: stale"
        for r in sorted(rows, key=lambda r: r["account_id"]):
            account_id, last_day = r["account_id"], r["last_day"]
            if last_day < oldest:
                data.skipped[f"account:{account_id}"] = f"newest data is {last_day}, older than {oldest}: stale"
                continue
            dim = names.get(account_id)
            data.accounts[account_id] = Account(
                account_id=account_id,
                name=dim.name if dim else None,
                currency=(dim.currency if dim else None) or r["account_currency"],
                timezone=dim.timezone if dim else None,
                windows=AccountWindows.build(account_id, last_day, self.config),
            )

    def _ads(self, data: MartData) -> None:
        days = [f"d{i}" for i in range(self.config.window_days)]
        cte, params = _windows_cte(data.accounts.values(), (*ALL_WINDOWS, *days))
        with_frequency = self.has_column(FCT_AD, "frequency")
        frequency = (
            "".join(
                f", avg(case when {_in(w)} and f.impressions > 0 then f.frequency end) as {w}__frequency"
                for w in ("cur", "prev")
            )
            if with_frequency
            else ""
        )
        with_names = self.present(DIM_ADS)
        if not with_names:
            data.skipped[DIM_ADS] = "mart not built yet: ads are named by id only"
        name_join = (
            f"left join {self.ref(DIM_ADS)} as d on d.workspace_id = f.workspace_id and d.ad_id = f.ad_id "
            if with_names
            else ""
        )
        sql = (
            f"with w as ({cte}) "
            "select f.account_id, f.campaign_id, f.adset_id, f.ad_id, "
            + ("max(d.ad_name) as ad_name, " if with_names else "")
            + ", ".join(_window_sums((*ALL_WINDOWS, *days)))
            + frequency
            + f", min(case when {_in('cur')} and f.spend > 0 then f.date_day end) as first_spend_day"
            f", max(case when {_in('cur')} and f.spend > 0 then f.date_day end) as last_spend_day "
            f"from {self.ref(FCT_AD)} as f join w on f.account_id = w.account_id "
            + name_join
            + "where f.workspace_id = @ws and f.date_day between @lo and @hi "
            "and f.date_day between w.look_start and w.look_end "
            "group by f.account_id, f.campaign_id, f.adset_id, f.ad_id"
        )
        for r in self.query(sql, {**params, **_bounds(data.accounts.values(), ("look",))}):
            ad = EntityStats(
                level="ad",
                id=r["ad_id"],
                account_id=r["account_id"],
                campaign_id=r["campaign_id"],
                adset_id=r["adset_id"],
                name=r.get("ad_name"),
                sums={w: _sums(r, w) for w in ALL_WINDOWS},
                first_spend_day=r["first_spend_day"],
                last_spend_day=r["last_spend_day"],
                daily=[_sums(r, d) for d in days],
                frequency={w: _float(r.get(f"{w}__frequency")) for w in ("cur", "prev")} if with_frequency else {},
            )
            data.ads[ad.id] = ad
            # Roll up: every additive metric of a parent is the sum of its ads' (Meta's own invariant).
            for level, key, parent_kw in (
                ("adset", ad.adset_id, {"campaign_id": ad.campaign_id}),
                ("campaign", ad.campaign_id, {}),
                ("account", ad.account_id, {}),
            ):
                if key is None:
                    continue
                bucket = data.stats(level)
                if key not in bucket:
                    bucket[key] = EntityStats(level=level, id=key, account_id=ad.account_id, **parent_kw)
                bucket[key].absorb(ad)
        for adset in data.adsets.values():
            dim = data.adset_dims.get(adset.id)
            adset.name = dim.name if dim else None
        for campaign in data.campaigns.values():
            cdim = data.campaign_dims.get(campaign.id)
            campaign.name = cdim.name if cdim else None
        for account_id, stats in data.account_stats.items():
            stats.name = data.accounts[account_id].name

    def _account_daily(self, data: MartData) -> None:
        """Each account's daily sums over its lookback: the day-of-week baseline of auction costs, and the series
        behind account-level charts. Small: accounts x ~42 days."""
        cte, params = _windows_cte(data.accounts.values(), ())
        sql = (
            f"with w as ({cte}) select f.account_id, f.date_day, "
            + ", ".join(f"sum(coalesce(f.{m}, 0)) as {m}" for m in ADDITIVE)
            + f" from {self.ref(FCT_AD)} as f join w on f.account_id = w.account_id "
            "where f.workspace_id = @ws and f.date_day between @lo and @hi "
            "and f.date_day between w.look_start and w.look_end group by f.account_id, f.date_day"
        )
        for r in self.query(sql, {**params, **_bounds(data.accounts.values(), ("look",))}):
            sums = Sums(**{m: _num(r[m]) for m in ADDITIVE})
            data.account_daily.setdefault(r["account_id"], {})[r["date_day"]] = sums

    def _frequency(self, data: MartData, level: str, table: str, key: str) -> None:
        windows = ("cur", "prev")
        cte, params = _windows_cte(data.accounts.values(), windows)
        freq = [
            f"avg(case when {_in(w)} and f.impressions > 0 then f.frequency end) as {w}__frequency" for w in windows
        ]
        sql = (
            f"with w as ({cte}) select f.account_id, f.{key} as entity_id, "
            + ", ".join(freq + _window_sums(windows, ("impressions", "clicks")))
            + f" from {self.ref(table)} as f join w on f.account_id = w.account_id "
            "where f.workspace_id = @ws and f.date_day between @lo and @hi "
            "and f.date_day between w.prev_start and w.cur_end "
            f"group by f.account_id, f.{key}"
        )
        out = data.frequency[level]
        for r in self.query(sql, {**params, **_bounds(data.accounts.values(), windows)}):
            out[r["entity_id"]] = FrequencyStats(
                level=level,
                id=r["entity_id"],
                account_id=r["account_id"],
                frequency={
                    w: (float(r[f"{w}__frequency"]) if r[f"{w}__frequency"] is not None else None) for w in windows
                },
                sums={w: _sums(r, w, ("impressions", "clicks")) for w in windows},
            )

    def _breakdown(self, data: MartData, dimension: str, table: str, columns: tuple[str, ...]) -> None:
        cte, params = _windows_cte(data.accounts.values(), ("ccur",))
        cols = ", ".join(f"f.{c}" for c in columns)
        sql = (
            f"with w as ({cte}) select f.account_id, f.campaign_id, {cols}, "
            + ", ".join(_window_sums(("ccur",)))
            + f" from {self.ref(table)} as f join w on f.account_id = w.account_id "
            "where f.workspace_id = @ws and f.date_day between @lo and @hi "
            "and f.date_day between w.ccur_start and w.ccur_end "
            f"group by f.account_id, f.campaign_id, {cols}"
        )
        cells = []
        for r in self.query(sql, {**params, **_bounds(data.accounts.values(), ("ccur",))}):
            if r["campaign_id"] is None:
                continue
            cell = tuple((c, str(r[c]) if r[c] is not None else "unknown") for c in columns)
            cells.append(BreakdownCell(dimension, r["account_id"], r["campaign_id"], cell, _sums(r, "ccur")))
        data.breakdowns[dimension] = cells
