"""Graph API sandbox: a deterministic Meta Ads world and a loopback server the facebook-business SDK
can talk to.

Stdlib only. See README.md in this folder.
"""

from __future__ import annotations

from insights_jobs.sandbox.errors import GraphError
from insights_jobs.sandbox.graph import CallInfo, GraphApp, RequestRecord
from insights_jobs.sandbox.model import (
    LEVELS,
    WINDOWS,
    Account,
    ActionValue,
    Ad,
    AdSet,
    Campaign,
    Creative,
    TruthRow,
)
from insights_jobs.sandbox.scenario import (
    SCENARIOS,
    AccountSpec,
    AdSetSpec,
    CampaignSpec,
    Scenario,
    ScenarioSpec,
    Workspace,
    demo_workspaces,
    generate_spec,
    register_scenario,
)
from insights_jobs.sandbox.server import SandboxServer, serve

__all__ = [
    "LEVELS",
    "SCENARIOS",
    "WINDOWS",
    "Account",
    "AccountSpec",
    "ActionValue",
    "Ad",
    "AdSet",
    "AdSetSpec",
    "CallInfo",
    "Campaign",
    "CampaignSpec",
    "Creative",
    "GraphApp",
    "GraphError",
    "RequestRecord",
    "SandboxServer",
    "Scenario",
    "ScenarioSpec",
    "TruthRow",
    "Workspace",
    "demo_workspaces",
    "generate_spec",
    "register_scenario",
    "serve",
]
