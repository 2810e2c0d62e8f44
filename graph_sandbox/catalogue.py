"""The named scenarios: `SCENARIOS` maps each name (`--scenario NAME`) to the builder of its shape.

Every name is listed here, in one place, so a lookup works whatever was imported before it (the diagnostics
scenarios' shapes live in `diagnostics_scenarios.py`, but their names are registered here).
"""

from __future__ import annotations

from collections.abc import Callable

from graph_sandbox.diagnostics_scenarios import diagnostics_clean, diagnostics_planted
from graph_sandbox.specs import AccountSpec, AdSetSpec, CampaignSpec, ScenarioSpec, Workspace, generate_spec
from graph_sandbox.state_scenarios import diagnostics_state

ScenarioBuilder = Callable[[int], ScenarioSpec]


def _ads(*statuses: str) -> tuple[str, ...]:
    return tuple(statuses)


# fmt: off
def _demo(seed: int) -> ScenarioSpec:
    del seed  # the demo's shape is fixed; the seed drives ids, dates and numbers
    acme_biz, globex_biz, initech_biz = "5550001001", "5550002001", "5550003001"
    accounts = (
        AccountSpec(
            1001, "Acme US", "USD", "America/Los_Angeles", acme_biz, "Acme Corp",
            (
                CampaignSpec("ACTIVE", "OUTCOME_SALES", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE", "PAUSED")),
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "DELETED", "ARCHIVED")),
                )),
                CampaignSpec("ACTIVE", "OUTCOME_LEADS", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE")),
                    AdSetSpec("PAUSED", _ads("ACTIVE", "ACTIVE")),
                )),
                CampaignSpec("ARCHIVED", "OUTCOME_TRAFFIC", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "PAUSED")),
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE", "ACTIVE")),
                )),
            ),
        ),
        AccountSpec(
            1002, "Acme EU", "EUR", "Europe/Berlin", acme_biz, "Acme Corp",
            (
                CampaignSpec("ACTIVE", "OUTCOME_SALES", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE", "DELETED")),
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ARCHIVED")),
                    # deleted in October under a live campaign: its ads' spend counts in the campaign's rows
                    AdSetSpec("DELETED", _ads("ACTIVE", "ACTIVE")),
                )),
                CampaignSpec("PAUSED", "OUTCOME_LEADS", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE")),
                    AdSetSpec("DELETED", _ads("ACTIVE", "ACTIVE")),
                )),
            ),
        ),
        AccountSpec(
            2001, "Globex Japan", "JPY", "Asia/Tokyo", globex_biz, "Globex Corporation",
            (
                CampaignSpec("ACTIVE", "OUTCOME_SALES", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE", "ACTIVE")),
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "PAUSED")),
                )),
                CampaignSpec("ACTIVE", "OUTCOME_TRAFFIC", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "DELETED")),
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE", "ARCHIVED")),
                )),
                CampaignSpec("DELETED", "OUTCOME_SALES", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE")),
                    AdSetSpec("ACTIVE", _ads("PAUSED", "ACTIVE")),
                )),
            ),
        ),
        AccountSpec(
            3001, "Initech UK", "GBP", "Europe/London", initech_biz, "Initech Ltd",
            (
                CampaignSpec("ACTIVE", "OUTCOME_LEADS", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE", "DELETED")),
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "PAUSED", "ARCHIVED")),
                )),
                CampaignSpec("ACTIVE", "OUTCOME_SALES", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE")),
                    AdSetSpec("ARCHIVED", _ads("ACTIVE", "ACTIVE")),
                )),
            ),
        ),
    )
    workspaces = (
        Workspace("acme", "Acme Corp", "sandbox-token-acme", ("act_1001", "act_1002")),
        Workspace("globex", "Globex Corporation", "sandbox-token-globex", ("act_2001",)),
        Workspace("initech", "Initech Ltd", "sandbox-token-initech", ("act_3001",)),
    )
    return ScenarioSpec(accounts=accounts, workspaces=workspaces, history_days=180)


def _small(seed: int) -> ScenarioSpec:
    del seed
    accounts = (
        AccountSpec(
            1101, "Small US", "USD", "America/New_York", "5551101001", "Small Co",
            (
                CampaignSpec("ACTIVE", "OUTCOME_SALES", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "PAUSED")),
                    AdSetSpec("ACTIVE", _ads("ARCHIVED", "DELETED")),
                )),
            ),
        ),
        AccountSpec(
            1102, "Small EU", "EUR", "Europe/Paris", "5551101001", "Small Co",
            (
                CampaignSpec("ACTIVE", "OUTCOME_LEADS", (AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE")),)),
                CampaignSpec("ARCHIVED", "OUTCOME_SALES", (AdSetSpec("ACTIVE", _ads("ACTIVE")),)),
            ),
        ),
        AccountSpec(
            1201, "Tiny JP", "JPY", "Asia/Tokyo", "5551201001", "Tiny KK",
            (
                CampaignSpec("ACTIVE", "OUTCOME_TRAFFIC", (
                    AdSetSpec("ACTIVE", _ads("ACTIVE", "ACTIVE")),
                    AdSetSpec("DELETED", _ads("ACTIVE")),
                )),
            ),
        ),
    )
    workspaces = (
        Workspace("small-a", "Small Co", "sandbox-token-small-a", ("act_1101", "act_1102")),
        Workspace("small-b", "Tiny KK", "sandbox-token-small-b", ("act_1201",)),
    )
    return ScenarioSpec(accounts=accounts, workspaces=workspaces, history_days=120)
# fmt: on


def _bench(seed: int) -> ScenarioSpec:
    return generate_spec(
        "bench",
        seed,
        accounts=20,
        campaigns_per_account=10,
        adsets_per_campaign=4,
        ads_per_adset=5,
        tokens=5,
        history_days=400,
    )


# Builders by name, so `--scenario NAME` works. Add one at run time with `register_scenario`.
SCENARIOS: dict[str, ScenarioBuilder] = {
    "demo": _demo,
    "small": _small,
    "bench": _bench,
    "diagnostics_planted": diagnostics_planted,
    "diagnostics_clean": diagnostics_clean,
    "diagnostics_state": diagnostics_state,
}


def register_scenario(name: str, builder: ScenarioBuilder) -> None:
    """Make a scenario shape available by name."""
    SCENARIOS[name] = builder


def spec_for(name: str, seed: int) -> ScenarioSpec:
    """The shape registered as `name`, built for `seed`; ValueError naming the known scenarios otherwise."""
    try:
        builder = SCENARIOS[name]
    except KeyError:
        raise ValueError(f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}") from None
    return builder(seed)
