"""`sentrum`: the command line. Pipeline commands run through Dagster (in this process, on the project's
instance), so their runs show in the UI."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: printed without a traceback, exit status 2."""


def _settings():
    from pydantic import ValidationError

    from orchestration.settings import get_settings

    try:
        return get_settings()
    except ValidationError as exc:
        raise UsageError(f"invalid settings in the environment:\n{exc}") from None


def _dagster(settings):
    # Imported late: Dagster and dbt take seconds to import, and `workspaces list` does not need them.
    from orchestration.definitions import build_definitions
    from orchestration.runner import dagster_instance

    return build_definitions(settings), dagster_instance(settings)


def _registry(settings):
    """The registry of the settings: the YAML file (embedded default) or the BigQuery control table."""
    from orchestration.resources import registry_resource

    return registry_resource(settings).get()


def _secret_store(settings):
    """The secret store of the settings: the local encrypted file, or Secret Manager."""
    from orchestration.resources import secret_store_resource

    return secret_store_resource(settings).get()


def _check_token(settings, workspace_id: str, token: str, accounts: list[str]) -> str:
    """Ask Meta about the token before anything is stored: valid, `ads_read` granted, every account readable
    (insights_jobs/token_health.py). A refusal is a UsageError (exit 2) naming the problem; the token never shows."""
    from insights_jobs.token_health import TokenCheckError, check_token

    secret = settings.meta_app_secret.get_secret_value() if settings.meta_app_secret else None
    try:
        check = check_token(
            settings.meta_graph_url, settings.meta_api_version, token, accounts,
            app_id=settings.meta_app_id, app_secret=secret,
        )  # fmt: skip
    except TokenCheckError as exc:
        raise CheckFailed(f"cannot check the token of {workspace_id} ({exc}); nothing stored") from None
    if not check.ok:
        raise UsageError(f"token refused for {workspace_id}: {'; '.join(check.problems)}; nothing stored")
    left = check.health.reconnect_by()
    kind = check.health.kind or "token"
    return f"{kind}, never expires" if left is None else f"{kind}, reconnect before {left:%Y-%m-%d}"


class CheckFailed(Exception):
    """A check that could not be made (the Graph API unreachable): exit status 1, nothing changed."""


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _finish(outcomes) -> int:
    from orchestration.runner import describe

    if not outcomes:
        print("nothing to run: no active workspace in the registry")
        return EXIT_OK
    print(describe(outcomes))
    return EXIT_OK if all(o.all_ok for o in outcomes) else EXIT_FAILED


# -- commands ---------------------------------------------------------------------------------------------------
def cmd_sync(args: argparse.Namespace) -> int:
    from insights_jobs import Window
    from workspaces import WorkspaceNotFound

    if (args.start is None) != (args.end is None):
        raise UsageError("give both --start and --end, or neither (default: the restatement window)")
    window = None
    if args.start:
        if args.start > args.end:
            raise UsageError(f"--start {args.start} is after --end {args.end}")
        window = Window(args.start, args.end)
    settings = _settings()
    _registry(settings).get(args.workspace)  # an unknown workspace is a clear error before Dagster loads
    from orchestration.runner import sync_workspace

    defs, instance = _dagster(settings)
    try:
        outcomes = sync_workspace(defs, instance, settings, args.workspace, window)
    except (WorkspaceNotFound, ValueError) as exc:
        raise UsageError(str(exc)) from None
    return _finish(outcomes)


def cmd_nightly(args: argparse.Namespace) -> int:
    from orchestration.runner import run_nightly

    settings = _settings()
    defs, instance = _dagster(settings)
    return _finish(run_nightly(defs, instance, settings))


def cmd_workspaces_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from workspaces import MetaConnection, Workspace, default_token_secret

    settings = _settings()
    accounts = [a.strip() for a in args.ad_accounts.split(",") if a.strip()]
    try:
        ws = Workspace(
            id=args.id,
            name=args.name or args.id,
            meta=MetaConnection(ad_accounts=accounts, token_secret=args.token_secret or default_token_secret(args.id)),
        )
    except ValidationError as exc:
        raise UsageError(f"invalid workspace:\n{exc}") from None
    # a terminal gets a prompt that does not echo; a pipe is read whole
    token = getpass.getpass(f"Meta access token for {ws.id}: ") if sys.stdin.isatty() else sys.stdin.read()
    token = token.strip()
    if not token:
        raise UsageError("no token on standard input (pipe it in: printf '%s' TOKEN | sentrum workspaces add ...)")
    if any(c.isspace() for c in token):
        raise UsageError("the token contains whitespace; pass exactly one token on standard input")
    checked = _check_token(settings, ws.id, token, accounts)  # before anything is stored
    _secret_store(settings).put(ws.meta.token_secret, token)
    registry = _registry(settings)
    registry.upsert(ws)
    print(
        f"workspace {ws.id} saved: {len(accounts)} ad account(s), token stored as secret {ws.meta.token_secret!r} "
        f"({checked})"
    )
    return EXIT_OK


def cmd_workspaces_list(args: argparse.Namespace) -> int:
    settings = _settings()
    workspaces = _registry(settings).list()
    if not workspaces:
        print(f"no workspaces in {settings.registry_location}")
        return EXIT_OK
    store = _secret_store(settings)
    health = _token_health(settings)
    rows = [("ID", "NAME", "STATUS", "AD ACCOUNTS", "TOKEN", "TOKEN HEALTH (last night)")]
    for w in workspaces:
        token = "stored" if store.exists(w.meta.token_secret) else "MISSING"
        rows.append(
            (w.id, w.name, w.status.value, ",".join(w.meta.ad_accounts) or "-", f"{w.meta.token_secret} ({token})",
             health.get(w.id, "not checked yet"))
        )  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    return EXIT_OK


def _token_health(settings) -> dict[str, str]:
    """Workspace -> what its token needs (ops.workspace_health, written by each night's extraction); empty when
    there is no warehouse or no health table yet (listing never creates either)."""
    from contextlib import AbstractContextManager

    from orchestration.resources import warehouse_resource
    from warehouse import DuckDBWarehouse
    from workspaces.health import describe_token, read_health

    if settings.warehouse == "duckdb" and not settings.duckdb_file.exists():
        return {}
    try:
        opened: AbstractContextManager = (
            DuckDBWarehouse(settings.duckdb_file, read_only=True)
            if settings.warehouse == "duckdb"
            else warehouse_resource(settings).open()
        )
        with opened as wh:
            return {ws: describe_token(row) for ws, row in read_health(wh).items()}
    except Exception:  # noqa: BLE001 - advisory column: no table yet, an older table, a warehouse unreachable
        return {}


def cmd_workspaces_disconnect(args: argparse.Namespace) -> int:
    from retention import disconnect

    settings = _settings()
    ws, deleted = disconnect(_registry(settings), _secret_store(settings), args.id)
    token = "token deleted from the secret store" if deleted else "no token was stored"
    print(f"workspace {ws.id} is {ws.status.value}: {token}; extraction stops, its data is kept until deletion")
    return EXIT_OK


def cmd_workspaces_delete(args: argparse.Namespace) -> int:
    from retention import request_deletion

    settings = _settings()
    registry = _registry(settings)
    ws = registry.get(args.id)
    if not args.yes:
        if not sys.stdin.isatty():
            raise UsageError("deleting needs confirmation: run it on a terminal, or pass --yes")
        answer = input(f"Delete all data of workspace {ws.id} ({ws.name})? This cannot be undone. Type its id: ")
        if answer.strip() != ws.id:
            print("not confirmed; nothing changed")
            return EXIT_FAILED
    ws = request_deletion(registry, ws.id)
    print(
        f"workspace {ws.id}: deletion requested at {ws.deletion_requested_at:%Y-%m-%d %H:%M} UTC; extraction stopped. "
        "The daily sweep removes its data (now: sentrum sweep)."
    )
    return EXIT_OK


def cmd_sweep(args: argparse.Namespace) -> int:
    settings = _settings()
    defs, instance = _dagster(settings)
    config: dict = {"dry_run": args.dry_run}
    if args.workspace:
        config["workspace"] = args.workspace
    result = defs.resolve_job_def("retention_sweep_job").execute_in_process(
        run_config={"ops": {"ops__retention_audit_log": {"config": config}}},
        instance=instance,
        tags={"sentrum/trigger": "cli-sweep"},
        raise_on_error=False,
    )
    from orchestration.runner import _step_failure

    if not result.success:
        print(f"sentrum sweep: {_step_failure(result)}", file=sys.stderr)
        return EXIT_FAILED
    [mat] = result.asset_materializations_for_node("ops__retention_audit_log")
    print(mat.metadata["report"].value or "no workspace waiting for deletion")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    settings = _settings()
    _registry(settings).get(args.workspace)  # a clear error for an unknown workspace
    defs, instance = _dagster(settings)
    out = Path(args.out).resolve()
    result = defs.resolve_job_def("export_workspace").execute_in_process(
        run_config={"ops": {"export_workspace_op": {"config": {"workspace": args.workspace, "out": str(out)}}}},
        instance=instance,
        tags={"sentrum/trigger": "cli-export", "workspace": args.workspace},
        raise_on_error=False,
    )
    if not result.success:
        from orchestration.runner import _step_failure

        print(f"sentrum export: {_step_failure(result)}", file=sys.stderr)
        return EXIT_FAILED
    manifest = json.loads((out / "manifest.json").read_text())
    print(f"exported {manifest['total_rows']} rows of {args.workspace} in {len(manifest['files'])} file(s) to {out}")
    return EXIT_OK


def cmd_diagnose(args: argparse.Namespace) -> int:
    from orchestration.runner import run_diagnostics_job

    settings = _settings()
    _registry(settings).get(args.workspace)  # a clear error for an unknown workspace
    night = args.night or datetime.now(UTC).date()
    defs, instance = _dagster(settings)
    outcome = run_diagnostics_job(defs, instance, args.workspace, night)
    if not outcome.success:
        print(f"sentrum diagnose: {outcome.error}", file=sys.stderr)
        return EXIT_FAILED
    from diagnostics import FINDINGS_TABLE
    from orchestration.resources import warehouse_resource

    with warehouse_resource(settings).open() as wh:
        ref = wh.table_ref(FINDINGS_TABLE.schema, FINDINGS_TABLE.name)
        rows = wh.query(
            f"select severity, finding_type, entity_level, entity_name, entity_id, breakdown, summary from {ref} "
            "where workspace_id = @ws and night = @night order by case severity when 'high' then 0 "
            "when 'warning' then 1 else 2 end, finding_type, entity_id",
            {"ws": args.workspace, "night": night},
        )
    print(f"{len(rows)} finding(s) for {args.workspace}, night {night} (run {outcome.run_id}):")
    for r in rows:
        cell = f" {r['breakdown']}" if r["breakdown"] else ""
        entity = f"{r['entity_level']} {r['entity_name']} ({r['entity_id']}){cell}"
        print(f"  {r['severity']:<7}  {r['finding_type']:<18}  {entity}")
        print(f"           {r['summary']}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    """A read of stored findings (nothing runs), so no Dagster run: like `workspaces list`."""
    from diagnostics import write_report
    from orchestration.resources import warehouse_resource

    settings = _settings()
    _registry(settings).get(args.workspace)  # a clear error for an unknown workspace
    night = args.night or datetime.now(UTC).date()
    out = Path(args.out).resolve() if args.out else settings.home_dir / "reports"
    if args.out is None:
        out.mkdir(parents=True, exist_ok=True)
    elif not out.is_dir() and not out.parent.is_dir():
        raise UsageError(f"--out: no such directory {out.parent}")
    with warehouse_resource(settings).open() as wh:
        path, count = write_report(wh, args.workspace, night, out)
    print(f"{count} finding(s) for {args.workspace}, night {night}: {path}")
    return EXIT_OK


def cmd_sandbox_serve(args: argparse.Namespace) -> int:
    from graph_sandbox import serve

    try:
        serve(
            port=args.port,
            scenario=args.scenario,
            seed=args.seed,
            latency_ms=args.latency_ms,
            job_seconds=args.job_seconds,
            faults=args.faults,
            calls_per_minute=args.calls_per_minute,
            insights_calls_per_minute=args.insights_calls_per_minute,
            as_of=args.as_of,
        )
    except ValueError as exc:  # an unknown scenario, a malformed fault spec or date
        raise UsageError(str(exc)) from None
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from orchestration.demo import run_demo

    return run_demo(port=args.port, scenario=args.scenario)


# -- parser -----------------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="sentrum", description="SENTRUM data platform: the nightly Meta Ads pipeline.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the nightly pipeline against the local Graph API sandbox")
    demo.add_argument("--port", type=int, default=0, help="sandbox port (default: any free port)")
    demo.add_argument("--scenario", default="demo")
    demo.set_defaults(func=cmd_demo)

    sync = sub.add_parser("sync", help="extract one workspace, then build the marts")
    sync.add_argument("--workspace", required=True)
    sync.add_argument("--start", type=_date, help="first day (account timezone), YYYY-MM-DD")
    sync.add_argument("--end", type=_date, help="last day (account timezone), YYYY-MM-DD")
    sync.set_defaults(func=cmd_sync)

    nightly = sub.add_parser("nightly", help="what the nightly schedule does, now")
    nightly.set_defaults(func=cmd_nightly)

    ws = sub.add_parser("workspaces", help="manage the embedded workspace registry")
    ws_sub = ws.add_subparsers(dest="workspaces_command", required=True, metavar="ACTION")
    add = ws_sub.add_parser("add", help="add or update a workspace; the Meta token is read from standard input")
    add.add_argument("id")
    add.add_argument("--name")
    add.add_argument("--ad-accounts", required=True, help="comma-separated, e.g. act_1,act_2")
    add.add_argument("--token-secret", help="secret name (default meta-token-<id>)")
    add.set_defaults(func=cmd_workspaces_add)
    lst = ws_sub.add_parser("list", help="list workspaces (never the token)")
    lst.set_defaults(func=cmd_workspaces_list)
    disc = ws_sub.add_parser("disconnect", help="delete the Meta token and stop extraction; data is kept")
    disc.add_argument("id")
    disc.set_defaults(func=cmd_workspaces_disconnect)
    delete = ws_sub.add_parser("delete", help="request deletion of all the workspace's data (swept daily)")
    delete.add_argument("id")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(func=cmd_workspaces_delete)

    sweep = sub.add_parser("sweep", help="run the retention sweep now")
    sweep.add_argument("--dry-run", action="store_true", help="print what would be deleted; change nothing")
    sweep.add_argument("--workspace", help="sweep or re-verify one workspace (even one already gone)")
    sweep.set_defaults(func=cmd_sweep)

    export = sub.add_parser("export", help="a workspace's data as Parquet + a manifest")
    export.add_argument("--workspace", required=True)
    export.add_argument("--out", required=True, help="output directory")
    export.set_defaults(func=cmd_export)

    diagnose = sub.add_parser("diagnose", help="run the diagnostics of one workspace over the marts as they are")
    diagnose.add_argument("--workspace", required=True)
    diagnose.add_argument("--night", type=_date, help="the nightly run's date judged (default: today, UTC)")
    diagnose.set_defaults(func=cmd_diagnose)

    report = sub.add_parser("report", help="write a night's findings of one workspace, with charts, as one HTML file")
    report.add_argument("--workspace", required=True)
    report.add_argument("--night", type=_date, help="the nightly run's date (default: today, UTC)")
    report.add_argument("--out", help="a file or a directory (default: $SENTRUM_HOME/reports/)")
    report.set_defaults(func=cmd_report)

    sandbox = sub.add_parser("sandbox", help="the local Graph API sandbox")
    sb_sub = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    serve = sb_sub.add_parser("serve", help="serve the sandbox on 127.0.0.1 until Ctrl-C")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--scenario", default="demo")
    serve.add_argument("--seed", type=int, default=42)
    serve.add_argument("--latency-ms", type=int, default=0)
    serve.add_argument("--job-seconds", type=float, default=1.0, help="wall time of an async report run")
    serve.add_argument(
        "--faults", help="e.g. transient=0.05,ratelimit=0.02,jobfail=0.1,stuck=0.05,badjson=0.01,expired_token=act_1"
    )
    serve.add_argument("--calls-per-minute", type=int, default=6000, help="per ad account, behind the usage headers")
    serve.add_argument("--insights-calls-per-minute", type=int, help="insights budget per ad account")
    serve.add_argument(
        "--as-of", help="the last day the numbers include (YYYY-MM-DD, today, today-N): they restate night to night"
    )
    serve.set_defaults(func=cmd_sandbox_serve)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from secret_store import SecretStoreError
    from warehouse import WarehouseError
    from workspaces import RegistryError, WorkspaceNotFound

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, WorkspaceNotFound) as exc:
        print(f"sentrum: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (RegistryError, SecretStoreError, WarehouseError, CheckFailed) as exc:
        print(f"sentrum: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("sentrum: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
