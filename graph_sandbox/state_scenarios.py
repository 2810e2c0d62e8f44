"""`diagnostics_state`: one planted problem of each kind the state detectors look for (the objects' state, not
their trends), in a world of healthy delivery. Same fixed "now" as the other diagnostics scenarios
(`DIAGNOSTICS_NOW`, night 2026-11-20, L = 2026-11-19 the newest complete day).

One workspace (`diagnostics-state`, token `sandbox-token-diagnostics-state`), three accounts, daily budgets paced
to the spend. `STATE_PLANTS` lists each problem with the finding it should give (type, entity, severity by the
detectors' documented thresholds, diagnostics/README.md):

- act_1311 "State Delivery" (USD, America/New_York), spend cap 1.5 days of spend away: `spend_cap` high (<= 2 days).
  campaign 0, ad set 0: learning_stage_info FAIL ("Learning limited") with 6 weekly events: `learning_limited` high
  (fewer than a fifth of the 50 needed); ad set 1: still LEARNING 10 days after its last significant edit with 18
  events: `learning_limited` warning. Campaign 1, ad set 0: ad 0 DISAPPROVED (no delivery since L-1), one ad of two,
  so it carried far more than 20% of its ad set's spend: `ad_disapproved` high; ad set 1: ad 0 WITH_ISSUES (still
  delivering): `ad_with_issues` warning. Campaign 2, ad set 0: ad 0 of four ACTIVE with no delivery on the newest 3
  days (L-2..L): `ad_not_delivering` warning (well under half its ad set's spend). Campaign 3: healthy traffic.
- act_1312 "State Unpaid" (EUR, Europe/Berlin): account_status 3 UNSETTLED since this morning: `account_unpaid` high.
- act_1313 "State Disabled" (GBP, Europe/London): account_status 2 DISABLED, disable_reason 1 (ADS_INTEGRITY_POLICY)
  since this morning: `account_disabled` high.

The two accounts stopped at the night (no delivery on its day), so the synced days are whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from graph_sandbox.anomalies import Anomaly
from graph_sandbox.diagnostics_scenarios import DIAGNOSTICS_LAST_DAY, DIAGNOSTICS_NIGHT, DIAGNOSTICS_NOW
from graph_sandbox.specs import AccountSpec, AdSetSpec, CampaignSpec, ScenarioSpec, Workspace

STATE_WORKSPACE = Workspace(
    "diagnostics-state", "Diagnostics State Co", "sandbox-token-diagnostics-state", ("act_1311", "act_1312", "act_1313")
)
_L = DIAGNOSTICS_LAST_DAY


@dataclass(frozen=True)
class StatePlant:
    """One planted problem and the finding it should give: `kind` (finding type), `severity`, and the entity by its
    position in the spec (`account` number, then campaign / ad set / ad indexes; none: the account)."""

    kind: str
    severity: str
    account: int
    campaign: int | None = None
    adset: int | None = None
    ad: int | None = None
    label: str = ""

    @property
    def level(self) -> str:
        if self.ad is not None:
            return "ad"
        if self.adset is not None:
            return "adset"
        return "campaign" if self.campaign is not None else "account"


STATE_PLANTS: tuple[StatePlant, ...] = (
    StatePlant("spend_cap", "high", 1311, label="spend cap 1.5 days of spend away"),
    StatePlant("learning_limited", "high", 1311, 0, 0, label="learning limited, 6 events a week"),
    StatePlant("learning_limited", "warning", 1311, 0, 1, label="still learning 10 days after an edit"),
    StatePlant("ad_disapproved", "high", 1311, 1, 0, 0, label="disapproved, half of its ad set's spend"),
    StatePlant("ad_with_issues", "warning", 1311, 1, 1, 0, label="with issues"),
    StatePlant("ad_not_delivering", "warning", 1311, 2, 0, 0, label="active, no impressions for 3 days"),
    StatePlant("account_unpaid", "high", 1312, label="UNSETTLED"),
    StatePlant("account_disabled", "high", 1313, label="DISABLED, integrity policy"),
)

_STOPS: tuple[Anomaly, ...] = (
    Anomaly("delivery_stop", 1311, campaign=1, adset=0, ad=0, start=_L - timedelta(days=1), label="disapproved"),
    Anomaly("delivery_stop", 1311, campaign=2, adset=0, ad=0, start=_L - timedelta(days=2), label="stalled"),
    Anomaly("delivery_stop", 1312, start=DIAGNOSTICS_NIGHT, label="unpaid since this morning"),
    Anomaly("delivery_stop", 1313, start=DIAGNOSTICS_NIGHT, label="disabled since this morning"),
)


def _campaign(objective: str, *adsets: AdSetSpec, spend_usd: float = 60.0) -> CampaignSpec:
    return CampaignSpec("ACTIVE", objective, adsets, budget="adset", spend_usd=spend_usd)


def _healthy(objective: str) -> CampaignSpec:
    return _campaign(objective, AdSetSpec("ACTIVE", ("ACTIVE", "ACTIVE")), AdSetSpec("ACTIVE", ("ACTIVE", "ACTIVE")))


def _accounts() -> tuple[AccountSpec, ...]:
    sales, leads, traffic = "OUTCOME_SALES", "OUTCOME_LEADS", "OUTCOME_TRAFFIC"
    biz, name = "5551311001", "Diagnostics State Co"
    return (
        AccountSpec(
            1311, "State Delivery", "USD", "America/New_York", biz, name,
            (
                _campaign(
                    sales,
                    AdSetSpec("ACTIVE", ("ACTIVE", "ACTIVE"), learning=("FAIL", 6, 12)),
                    AdSetSpec("ACTIVE", ("ACTIVE", "ACTIVE"), learning=("LEARNING", 18, 10)),
                ),
                _campaign(
                    sales,
                    AdSetSpec("ACTIVE", ("DISAPPROVED", "ACTIVE")),
                    AdSetSpec("ACTIVE", ("WITH_ISSUES", "ACTIVE")),
                ),
                _campaign(sales, AdSetSpec("ACTIVE", ("ACTIVE",) * 4)),
                _healthy(traffic),
            ),
            spend_cap_days_left=1.5,
        ),
        AccountSpec(
            1312, "State Unpaid", "EUR", "Europe/Berlin", biz, name, (_healthy(sales), _healthy(leads)),
            account_status=3,
        ),
        AccountSpec(
            1313, "State Disabled", "GBP", "Europe/London", biz, name, (_healthy(sales), _healthy(leads)),
            account_status=2, disable_reason=1,
        ),
    )  # fmt: skip


def diagnostics_state(seed: int) -> ScenarioSpec:
    del seed  # the shape is fixed; the seed drives ids and numbers
    return ScenarioSpec(
        accounts=_accounts(),
        workspaces=(STATE_WORKSPACE,),
        anchor=DIAGNOSTICS_LAST_DAY - timedelta(days=80),
        history_days=120,
        anomalies=_STOPS,
        paced_budgets=True,
        now=DIAGNOSTICS_NOW,
        world="diagnostics-state",
        # as in the other diagnostics scenarios: conversions reach small breakdown cells by a random split, not
        # handed to the biggest cells, which would make every small cell an outlier
        random_cell_split=True,
        ad_spread=0.12,
    )
