"""Workspaces through the nightly path: total wall time, orchestration overhead and event writes per workspace.

    .venv/bin/python bench/orchestration/run.py --workspaces 100 --batch-size 50              # in-process runs
    .venv/bin/python bench/orchestration/run.py --workspaces 100 --batch-size 50 --deployed   # a process per run

Each workspace is one small sandbox ad account. The nightly path is the one `sentrum nightly` takes (and the
schedule + marts sensor): one Dagster run per batch of workspaces, then one marts run. Orchestration overhead is the
nightly's wall time minus the time when at least one step was running (extraction, dbt, diagnostics), divided by the
workspaces. Event writes: every entry the night's runs wrote to the Dagster event log, per workspace.

`--deployed`: Dagster as deployed (deploy/dagster.yaml as the deployed-mode test renders it: Postgres storage, the
queued run coordinator, the run launcher starting each run in a process of its own through the code server), with
the code server and the daemon started as that test starts them (tests/deployed/stack.py, postgres.py). The runs
are submitted to the queue, as `sentrum nightly` does when a daemon is running, so each run's process launch (the
launcher, the process loading the definitions) is part of the wall time and is reported on its own.
The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def run_events(instance, run_id: str) -> dict:
    """From the run's event log: its step intervals, every entry it wrote (by type), and its launch milestones."""
    import dagster as dg

    t = dg.DagsterEventType
    starts, steps, kinds, marks = {}, [], Counter(), {}
    for entry in instance.all_logs(run_id):
        ev = entry.dagster_event
        kinds[ev.event_type.name if ev else "log message"] += 1
        if ev is None:
            continue
        if ev.event_type == t.STEP_START:
            starts[ev.step_key] = entry.timestamp
        elif ev.event_type in (t.STEP_SUCCESS, t.STEP_FAILURE) and ev.step_key in starts:
            steps.append((starts.pop(ev.step_key), entry.timestamp))
        elif ev.event_type in (t.RUN_ENQUEUED, t.RUN_STARTING, t.RUN_START, t.RUN_SUCCESS, t.RUN_FAILURE):
            marks.setdefault(ev.event_type.name, entry.timestamp)
    return {"steps": steps, "kinds": kinds, "marks": marks}


def covered(intervals: list[tuple[float, float]]) -> float:
    """Seconds when at least one interval was open (steps of runs that overlap count once)."""
    total, end = 0.0, float("-inf")
    for a, b in sorted(intervals):
        if b > end:
            total += b - max(a, end)
            end = b
    return total


def launch_figures(events: list[dict]) -> dict:
    """Per run: queued -> handed to the launcher (RUN_ENQUEUED -> RUN_STARTING: the queue's limits and the daemon's
    loop), the launch (RUN_STARTING -> RUN_START: the process started and its definitions loaded), its last step ->
    run end (the process finishing)."""

    def span(e: dict, a: str, b: str) -> float | None:
        m = e["marks"]
        return m[b] - m[a] if a in m and b in m else None

    out: dict = {}
    for name, (a, b) in {
        "queued_s": ("RUN_ENQUEUED", "RUN_STARTING"),
        "launch_s": ("RUN_STARTING", "RUN_START"),
    }.items():
        values = [v for v in (span(e, a, b) for e in events) if v is not None]
        out[name] = [round(v, 1) for v in values]
    ends = []
    for e in events:
        end = e["marks"].get("RUN_SUCCESS", e["marks"].get("RUN_FAILURE"))
        if end is not None and e["steps"]:
            ends.append(round(end - max(b for _, b in e["steps"]), 1))
    out["last_step_to_run_end_s"] = ends
    return out


class TreeMemory:
    """Peak resident memory of process trees (a root and its descendants), sampled every 0.2 s."""

    def __init__(self, pids: list[int]) -> None:
        import psutil

        self.roots = [psutil.Process(pid) for pid in pids]
        self.peak_sum = 0
        self.peak_one = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import psutil

        while not self._stop.wait(0.2):
            total = 0
            for root in self.roots:
                with contextlib.suppress(psutil.Error):
                    for p in [root, *root.children(recursive=True)]:
                        with contextlib.suppress(psutil.Error):
                            rss = p.memory_info().rss
                            total += rss
                            self.peak_one = max(self.peak_one, rss)
            self.peak_sum = max(self.peak_sum, total)

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join()
        return {"peak_rss_mb_services_and_runs": round(self.peak_sum / 2**20),
                "peak_rss_mb_one_process": round(self.peak_one / 2**20)}  # fmt: skip


@contextlib.contextmanager
def deployed_instance(home: Path, env: dict[str, str]) -> Iterator[tuple]:
    """Postgres, the code server and the daemon as the deployed-mode test starts them; the instance they share."""
    import dagster as dg

    from tests.deployed.postgres import start_postgres
    from tests.deployed.stack import make_stack

    logs = home / "deployed-logs"
    logs.mkdir()
    postgres = start_postgres(logs)
    stack = None
    try:
        stack = make_stack(home / "deployed", {**env, **postgres.env})
        started = time.perf_counter()
        stack.start_code_server()
        stack.start_daemon()
        dagster_env = {k: v for k, v in stack.env.items() if k.startswith("DAGSTER_")}
        with mock.patch.dict(os.environ, dagster_env):
            instance = dg.DagsterInstance.from_config(str(stack.dagster_home))
            from orchestration.launch import daemon_is_running

            deadline = time.monotonic() + 120
            while not daemon_is_running(instance):  # its first heartbeat
                if time.monotonic() > deadline or not stack.services["daemon"].alive():
                    raise RuntimeError(f"the Dagster daemon did not start: {stack.tails()}")
                time.sleep(0.5)
            services_s = time.perf_counter() - started
            memory = TreeMemory([stack.services["code-server"].pid, stack.services["daemon"].pid])
            try:
                yield instance, services_s, memory
            finally:
                instance.dispose()
    finally:
        if stack is not None:
            stack.stop()
        postgres.stop()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workspaces", type=int, default=100)
    ap.add_argument("--batch-size", type=int, default=50)
    ap.add_argument("--job-seconds", type=float, default=0.2)
    ap.add_argument("--restatement-days", type=int, default=7)
    ap.add_argument("--deployed", action="store_true", help="runs in processes of their own (see above)")
    ap.add_argument("--work", default=str(ROOT / "bench" / ".work" / "orchestration"))
    ap.add_argument("--prepared-dbt", metavar="DIR", help="a prepared dbt target to copy (default: parse)")
    args = ap.parse_args()
    if args.workspaces < 1 or args.batch_size < 1:
        print("run.py: --workspaces and --batch-size must be at least 1", file=sys.stderr)
        return 2
    prepared = Path(args.prepared_dbt) if args.prepared_dbt else None
    if prepared is not None and not (prepared / "manifest.json").is_file():
        print(f"run.py: --prepared-dbt {prepared} holds no manifest.json", file=sys.stderr)
        return 2

    from graph_sandbox import SandboxServer, Scenario
    from secret_store import LocalSecretStore

    home = Path(args.work)
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    if prepared is not None:  # what `prepare_dbt` below would write (it still parses if the project is newer)
        from orchestration.dbt_prepare import copy_prepared

        copy_prepared(prepared, home / "dbt")
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
    load_before = os.getloadavg()[0]
    extra: dict = {}

    with SandboxServer(scenario, job_seconds=args.job_seconds) as server:
        sentrum_env = {
            "SENTRUM_HOME": str(home),
            "SENTRUM_META_GRAPH_URL": server.url,
            "SENTRUM_NIGHTLY_BATCH_SIZE": str(args.batch_size),
            "SENTRUM_RESTATEMENT_DAYS": str(args.restatement_days),
        }
        os.environ.update(sentrum_env)
        from orchestration.cli_common import load_dagster
        from orchestration.dbt_prepare import prepare_dbt
        from orchestration.settings import get_settings

        settings = get_settings()
        prepare_dbt(settings)  # dbt's manifest, before the clock starts (a deployment prepares it at build time)
        t1 = time.perf_counter()
        defs, local_instance = load_dagster(settings)
        load_s = time.perf_counter() - t1
        from orchestration.runner import run_nightly  # (its imports read dbt's manifest, prepared just above)

        if args.deployed:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTRUM_", "DAGSTER_"))}
            with deployed_instance(home, {**env, **sentrum_env}) as (instance, services_s, memory):
                t2 = time.perf_counter()
                outcomes = run_nightly(defs, instance, settings, queue=True)
                night_s = time.perf_counter() - t2
                extra.update(memory.stop(), services_start_s=round(services_s, 1))
                runs = [o for o in outcomes if o.run_id != "-"]
                events = [run_events(instance, o.run_id) for o in runs]
        else:
            instance = local_instance
            t2 = time.perf_counter()
            outcomes = run_nightly(defs, instance, settings, queue=False)
            night_s = time.perf_counter() - t2
            runs = [o for o in outcomes if o.run_id != "-"]
            events = [run_events(instance, o.run_id) for o in runs]
        calls = server.stats()

    inside = covered([iv for e in events for iv in e["steps"]])
    kinds = sum((e["kinds"] for e in events), Counter())
    ok = sum(len(o.workspaces_ok) for o in outcomes)
    failed = sum(len(o.workspaces_failed) for o in outcomes)
    result = {
        "mode": "deployed" if args.deployed else "in-process",
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
        "event_log_entries": sum(kinds.values()),
        "event_log_entries_per_workspace": round(sum(kinds.values()) / args.workspaces, 1),
        "event_log_entries_by_type": dict(kinds.most_common()),
        **({"run_launch": launch_figures(events)} if args.deployed else {}),
        **extra,
        "peak_rss_mb_self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "peak_rss_mb_children": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024),
        "api_calls": calls.get("total"),
        "loadavg_1m_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(result))
    return 0 if failed == 0 and ok == args.workspaces else 1


if __name__ == "__main__":
    sys.exit(main())
