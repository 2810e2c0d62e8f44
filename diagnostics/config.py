"""Detector thresholds and minimum volumes, one frozen dataclass so a run's settings are a single value.

Every gate is currency-free (counts, shares, ratios, multiples of the account's own CPA): one workspace can hold USD
and JPY accounts, and "spend at least 50" means nothing across both.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# Campaign objectives that buy conversions: the efficiency, zero-conversion, tracking and breakdown detectors only judge
# these (an awareness campaign with no conversions is doing its job). Campaigns with no objective recorded are judged.
CONVERSION_OBJECTIVES = (
    "OUTCOME_SALES",
    "OUTCOME_LEADS",
    "OUTCOME_APP_PROMOTION",
    # legacy (pre-ODAX) objectives still returned for old campaigns
    "CONVERSIONS",
    "LEAD_GENERATION",
    "PRODUCT_CATALOG_SALES",
    "APP_INSTALLS",
)

BREAKDOWN_DIMENSIONS = ("age_gender", "country", "placement", "device")


@dataclass(frozen=True)
class DiagnosticsConfig:
    # -- windows (days, in each account's timezone) -----------------------------------------------------------
    window_days: int = 7  # "the last 7 days" and "the 7 before"
    trailing_days: int = 28  # the longer baseline: the 28 days before the current window
    # Conversion-based detectors read windows shifted back by this many days, so they compare matured days with
    # matured days (the newest days under-count conversions for up to the attribution window; 7 = Meta's default
    # 7-day-click window). See README "Conversion maturity".
    maturity_days: int = 7
    tracking_window_days: int = 3  # tracking breakage looks at the newest days on purpose (it must be timely)
    # An account whose newest day is older than night - 1 - this is skipped: its windows would describe a stale past.
    max_staleness_days: int = 3
    # A change must also exceed noise_z / sqrt(events) (the relative standard error of a Poisson count), so a 30%
    # swing on 12 conversions is not reported as a deterioration.
    noise_z: float = 2.0
    conversion_objectives: tuple[str, ...] = CONVERSION_OBJECTIVES
    # At most this many findings per workspace and night, the most severe and actionable kept (see
    # detectors.TRIAGE_ORDER): nobody reads more, and one night is written in one atomic statement (BigQuery caps it).
    max_findings: int = 500

    # -- CPA / ROAS deterioration (matured windows) -----------------------------------------------------------
    min_conversions: int = 20  # in the current and the previous matured window
    cpa_increase_warning: float = 0.25
    cpa_increase_high: float = 0.50
    roas_decrease_warning: float = 0.20
    roas_decrease_high: float = 0.40

    # -- CTR drop (delivery windows; CTR does not mature) --------------------------------------------------------
    min_impressions: int = 5000  # in the current and the previous window
    min_clicks: int = 50  # in the previous window
    ctr_drop_warning: float = 0.25
    ctr_drop_high: float = 0.45

    # -- creative fatigue: mean daily frequency (as fetched at adset/campaign grain) rising, CTR falling ---------
    fatigue_min_frequency: float = 1.5
    fatigue_high_frequency: float = 2.5
    fatigue_frequency_rise: float = 0.15
    fatigue_ctr_drop: float = 0.15
    fatigue_ctr_drop_high: float = 0.30

    # -- spend with zero conversions (ad, ad set, campaign): the spend measured in conversions expected at the
    # siblings' CPA in the same window (same lag, so maturity-neutral), else at the account's matured CPA --------
    zero_conversions_warning_cpa_multiple: float = 3.0  # expected conversions (spend / baseline CPA)
    zero_conversions_high_cpa_multiple: float = 6.0
    zero_min_spend_days: int = 3  # it kept spending: days with spend in the current window
    zero_min_sibling_conversions: float = 5.0  # siblings "convert": at least this many in the window

    # -- delivery problems from the dims --------------------------------------------------------------------------
    stall_days: int = 3  # an ACTIVE ad with zero impressions on the newest days, while its account delivers
    stall_share_high: float = 0.5  # ...high when it carried this share of its ad set's spend the week before
    rejected_share_high: float = 0.2  # a disapproved ad that carried this share of its ad set's spend: high
    spend_cap_warning_days: float = 7.0  # days of spend left under the account's spend cap at the current rate
    spend_cap_high_days: float = 2.0

    # -- value tracking: conversions hold while their value collapses, or the reverse ------------------------------
    value_min_conversions: float = 10.0  # recent conversions (or conversions implied by value) at least

    # -- auction cost: account CPM of the newest days against the same weekdays of the weeks before ----------------
    cpm_recent_days: int = 3
    cpm_baseline_weeks: int = 4
    cpm_min_impressions: int = 10_000  # in the recent days
    cpm_spike_warning: float = 0.30
    cpm_spike_high: float = 0.60

    # -- lifetime budgets: projected spend by the end date at the current daily rate --------------------------------
    lifetime_under_warning: float = 0.60  # projected share of the budget spent by the end
    lifetime_under_high: float = 0.30
    lifetime_exhaust_share: float = 0.5  # budget gone before this share of the remaining days: warning

    # -- learning phase (learning_stage_info on ad sets, when extracted) ---------------------------------------------
    learning_weekly_events: float = 50.0  # Meta's rule of thumb to exit learning: ~50 optimisation events a week
    learning_stuck_days: int = 7  # still LEARNING this long after the last significant edit

    # -- tracking breakage: conversions per link click collapse while link clicks hold ---------------------------
    tracking_min_expected_conversions: float = 10.0
    tracking_click_hold: float = 0.5  # link clicks per day at least this share of the baseline's
    # The newest days are immature, so lag alone can look like a 50-60% fall with slow attribution; a broken pixel
    # is a ~100% fall. These sit between the two (a partial break shows a week later as a CPA increase).
    tracking_collapse_warning: float = 0.85
    tracking_collapse_high: float = 0.95

    # -- budget pacing: spend / (daily budget x days delivering) over the current window -------------------------
    pacing_min_days: int = 3
    pacing_under_warning: float = 0.60
    pacing_under_high: float = 0.30
    pacing_over_info: float = 1.25

    # -- concentration: one campaign or ad set's share of its account's spend -------------------------------------
    concentration_min_entities: int = 2  # a one-campaign account is a structure, not a drift
    concentration_info: float = 0.60
    concentration_warning: float = 0.80

    # -- breakdown cell vs its siblings in the same campaign (matured window) -------------------------------------
    breakdown_dimensions: tuple[str, ...] = BREAKDOWN_DIMENSIONS
    breakdown_min_spend_share: float = 0.10
    breakdown_min_expected_conversions: float = 10.0  # cell spend / siblings' CPA
    breakdown_ratio_warning: float = 2.0  # times worse than its siblings (CPA ratio, or ROAS ratio)
    breakdown_ratio_high: float = 3.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
                raise ValueError(f"DiagnosticsConfig.{f.name} must not be negative: {value}")
        if not 1 <= self.max_findings <= 5000:
            raise ValueError("max_findings must be 1..5000 (one night is replaced in one statement)")
        if self.window_days < 1 or self.trailing_days < self.window_days or self.tracking_window_days < 1:
            raise ValueError("window_days >= 1, trailing_days >= window_days and tracking_window_days >= 1")
        if not 1 <= self.cpm_recent_days <= 7 or self.cpm_baseline_weeks * 7 + 7 > self.lookback_days + 1:
            raise ValueError("cpm_recent_days 1..7, and the weekday baseline must fit in the lookback")
        if not 1 <= self.stall_days <= self.window_days:
            raise ValueError("stall_days must be 1..window_days")
        pairs = (
            ("cpa_increase_warning", "cpa_increase_high"),
            ("roas_decrease_warning", "roas_decrease_high"),
            ("ctr_drop_warning", "ctr_drop_high"),
            ("fatigue_min_frequency", "fatigue_high_frequency"),
            ("fatigue_ctr_drop", "fatigue_ctr_drop_high"),
            ("zero_conversions_warning_cpa_multiple", "zero_conversions_high_cpa_multiple"),
            ("tracking_collapse_warning", "tracking_collapse_high"),
            ("pacing_under_high", "pacing_under_warning"),
            ("cpm_spike_warning", "cpm_spike_high"),
            ("lifetime_under_high", "lifetime_under_warning"),
            ("spend_cap_high_days", "spend_cap_warning_days"),
            ("concentration_info", "concentration_warning"),
            ("breakdown_ratio_warning", "breakdown_ratio_high"),
        )
        for low, high in pairs:
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"DiagnosticsConfig: {low} must not exceed {high}")
        unknown = set(self.breakdown_dimensions) - set(BREAKDOWN_DIMENSIONS)
        if unknown:
            raise ValueError(f"unknown breakdown dimensions {sorted(unknown)}; known: {BREAKDOWN_DIMENSIONS}")

    @property
    def lookback_days(self) -> int:
        """Days before the newest day the readers need: the trailing baseline of the matured windows."""
        return self.maturity_days + self.window_days + self.trailing_days - 1
