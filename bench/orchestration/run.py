"""1,000 workspaces through the nightly path: total wall time, orchestration overhead per workspace, peak memory.

    .venv/bin/python bench/orchestration/run.py --workspaces 1000 --batch-size 50

Each workspace is one small sandbox ad account. The nightly path is the one `sentrum nightly` takes (and the
schedule + marts sensor): one Dagster run per batch of workspaces, then one marts run. Orchestration overhead is the
wall time of the runs minus the time spent inside their steps (extraction and dbt), divided by the workspaces.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def step_seconds(instance, run_id: str) -> float:
    """Time inside steps (STEP_START to STEP_SUCCESS/FAILURE), from the run's event log."""
    import dagster as dg

    starts, total = {}, 0.0
    kinds = {dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE}
    for entry in instance.all_logs(run_id, of_type=kinds):
        ev = entry.dagster_event
        if ev.event_type == dg.DagsterEventType.STEP_START:
            starts[ev.step_key] = entry.timestamp
        elif ev.step_key in starts:
            total += entry.timestamp - starts.pop(ev.step_key)
    return total


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workspaces", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--job-seconds", type=float, default=0.2)
    ap.add_argument("--restatement-days", type=int, default=7)
    ap.add_argument("--work", default=str(ROOT / "bench" / ".work" / "orchestration"))
    args = ap.parse_args()

    from graph_sandbox import SandboxServer, Scenario
    from secret_store import LocalSecretStore

    home = Path(args.work)
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    t0 = time.perf_counter()
    scenario = Scenario.generate(
        "fleet", 42, accounts=args.workspaces, campaigns_per_account=1, adsets_per_campaign=1, ads_per_adset=2,
        tokens=args.workspaces,
    )  # fmt: skip
    store = LocalSecretStore(home / "secrets")
    registry = []
    for w in scenario.workspaces():
        store.put(f"meta-token-{w.workspace_id}", w.token)
        registry.append(
            {
                "id": w.workspace_id,
                "name": w.name,
                "status": "active",
                "deletion_requested_at": None,
                "meta": {"ad_accounts": list(w.account_ids), "token_secret": f"meta-token-{w.workspace_id}"},
            }
        )
    (home / "workspaces.yaml").write_text(yaml.safe_dump({"workspaces": registry}, sort_keys=False))
    setup_s = time.perf_counter() - t0

    with SandboxServer(scenario, job_seconds=args.job_seconds) as server:
        os.environ.update(
            SENTRUM_HOME=str(home),
            SENTRUM_META_GRAPH_URL=server.url,
            SENTRUM_NIGHTLY_BATCH_SIZE=str(args.batch_size),
            SENTRUM_RESTATEMENT_DAYS=str(args.restatement_days),
        )
        from orchestration.cli_common import load_dagster
        from orchestration.dbt_prepare import prepare_dbt
        from orchestration.runner import run_nightly
        from orchestration.settings import get_settings

        settings = get_settings()
        prepare_dbt(settings)  # dbt's manifest, before the clock starts (a deployment prepares it at build time)
        t1 = time.perf_counter()
        defs, instance = load_dagster(settings)
        load_s = time.perf_counter() - t1
        t2 = time.perf_counter()
        outcomes = run_nightly(defs, instance, settings)
        night_s = time.perf_counter() - t2
        calls = server.stats()

    runs = [o for o in outcomes if o.run_id != "-"]
    inside = sum(step_seconds(instance, o.run_id) for o in runs)
    ok = sum(len(o.workspaces_ok) for o in outcomes)
    failed = sum(len(o.workspaces_failed) for o in outcomes)
    result = {
        "workspaces": args.workspaces,
        "batch_size": args.batch_size,
        "runs": len(runs),
        "workspaces_ok": ok,
        "workspaces_failed": failed,
        "setup_s": round(setup_s, 1),
        "definitions_load_s": round(load_s, 1),
        "nightly_wall_s": round(night_s, 1),
        "inside_steps_s": round(inside, 1),
        "orchestration_overhead_s": round(night_s - inside, 1),
        "overhead_per_workspace_s": round((night_s - inside) / args.workspaces, 3),
        "peak_rss_mb_self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_rss_mb_children": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "api_calls": calls.get("total"),
    }
    print(json.dumps(result, indent=2))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
