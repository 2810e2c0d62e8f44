"""Graph API sandbox: a deterministic Meta Ads world and a loopback server the facebook-business SDK
can talk to.

Stdlib only. See README.md in this folder.
"""

from __future__ import annotations

from graph_sandbox.anomalies import Anomaly, PlantedAnomaly
from graph_sandbox.call_records import CallInfo, RequestRecord
from graph_sandbox.catalogue import SCENARIOS, register_scenario
from graph_sandbox.diagnostics_scenarios import (
    DIAGNOSTICS_LAST_DAY,
    DIAGNOSTICS_NIGHT,
    DIAGNOSTICS_NOW,
    diagnostics_clock,
)
from graph_sandbox.graph import GraphApp
from graph_sandbox.graph_errors import GraphError
from graph_sandbox.model import (
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
from graph_sandbox.scenario import Scenario, demo_workspaces
from graph_sandbox.server import SandboxServer, serve
from graph_sandbox.specs import AccountSpec, AdSetSpec, CampaignSpec, ScenarioSpec, Workspace, generate_spec

__all__ = [
    "DIAGNOSTICS_LAST_DAY",
    "DIAGNOSTICS_NIGHT",
    "DIAGNOSTICS_NOW",
    "LEVELS",
    "SCENARIOS",
    "WINDOWS",
    "Account",
    "AccountSpec",
    "ActionValue",
    "Ad",
    "AdSet",
    "AdSetSpec",
    "Anomaly",
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
    "PlantedAnomaly",
    "Workspace",
    "demo_workspaces",
    "diagnostics_clock",
    "generate_spec",
    "register_scenario",
    "serve",
]
