"""`sentrum`: the command line. Pipeline commands run through Dagster (in this process, on the project's
instance), so their runs show in the UI."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
MIN_TOKEN_CHARS = 16


class UsageError(Exception):
    """Bad input from the user: printed without a traceback, exit status 2."""


def _settings():
    from pydantic import ValidationError

    from orchestration.settings import get_settings, prepare_home
    from workspaces.registry import validation_summary

    try:
        settings = get_settings()
    except ValidationError as exc:
        raise UsageError(f"invalid settings in the environment: {validation_summary(exc)}") from None
    prepare_home(settings)
    return settings


def _dagster(settings):
    # Imported late: Dagster and dbt take seconds to import, and `workspaces list` does not need them.
    from orchestration.definitions import build_definitions
    from orchestration.runner import dagster_instance

    return build_definitions(settings), dagster_instance(settings)


def _registry(settings):
    """The registry of the settings: the YAML file (embedded default) or the BigQuery control table. The YAML file
    is opened directly: `workspaces add/list` then answer without importing Dagster (seconds)."""
    if settings.registry_location != "bigquery":
        from workspaces import YamlRegistry

        return YamlRegistry(settings.registry_location)
    from orchestration.resources import registry_resource

    return registry_resource(settings).get()


def _secret_store(settings):
    """The secret store of the settings: the local encrypted file, or Secret Manager."""
    if settings.secrets == "local":
        from secret_store import LocalSecretStore

        return LocalSecretStore(settings.secrets_dir)
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


def _workspace_id(text: str) -> str:
    from workspaces import check_workspace_id

    try:
        return check_workspace_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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


def _read_token(workspace_id: str) -> str:
    # a terminal gets a prompt that does not echo; a pipe is read whole
    token = getpass.getpass(f"Meta access token for {workspace_id}: ") if sys.stdin.isatty() else sys.stdin.read()
    token = token.strip()
    if not token:
        raise UsageError("no token on standard input (pipe it in: printf '%s' TOKEN | sentrum workspaces add ...)")
    if any(c.isspace() for c in token) or not token.isprintable():
        raise UsageError("the token contains whitespace or control characters; pass exactly one token on stdin")
    if len(token) < MIN_TOKEN_CHARS:
        # Meta tokens are ~200 characters; a short one is a mistake, and redaction needs something to look for
        raise UsageError(f"the token is too short ({len(token)} characters): paste the whole Meta access token")
    return token


def cmd_workspaces_add(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from secret_store import SecretStoreError
    from workspaces import MetaConnection, Workspace, default_token_secret
    from workspaces.registry import validation_summary

    settings = _settings()
    accounts = [a.strip() for a in args.ad_accounts.split(",") if a.strip()]
    try:
        ws = Workspace(
            id=args.id,
            name=args.name or args.id,
            meta=MetaConnection(ad_accounts=accounts, token_secret=args.token_secret or default_token_secret(args.id)),
        )
    except ValidationError as exc:
        raise UsageError(f"invalid workspace: {validation_summary(exc)}") from None
    registry, store = _registry(settings), _secret_store(settings)
    # Everything that can refuse the input is checked before the token is read or stored.
    _check_add(registry.list(), ws)
    token = _read_token(ws.id)
    checked = _check_token(settings, ws.id, token, accounts)  # the token works for every account: before storing
    stored = {"new": False, "old_secret": None}

    def store_token(current) -> None:
        # Under the registry's lock: the check and the token write happen with no other add in between.
        old = _check_add(current, ws)
        stored["new"] = not store.exists(ws.meta.token_secret)
        store.put(ws.meta.token_secret, token)
        stored["old_secret"] = old.meta.token_secret if old and old.meta.token_secret != ws.meta.token_secret else None

    try:
        registry.upsert(ws, check=store_token)
    except BaseException:
        if stored["new"]:  # the registry write failed after the token was stored: no orphaned token
            with contextlib.suppress(SecretStoreError):
                store.delete(ws.meta.token_secret)
        raise
    if stored["old_secret"]:
        store.delete(stored["old_secret"])  # the workspace moved to another secret: its old token goes
    print(
        f"workspace {ws.id} saved: {len(accounts)} ad account(s), token stored as secret {ws.meta.token_secret!r} "
        f"({checked})"
    )
    return EXIT_OK


def _check_add(current, ws):
    """The registry's objections to adding `ws` (UsageError), else the workspace it replaces (or None)."""
    from workspaces import WorkspaceStatus

    old = next((w for w in current if w.id == ws.id), None)
    if old is not None and old.status is WorkspaceStatus.deletion_requested:
        raise UsageError(
            f"workspace {ws.id} is being deleted (requested {old.deletion_requested_at:%Y-%m-%d}); "
            "it can be added again after the sweep (sentrum sweep)"
        )
    owner = next((w for w in current if w.id != ws.id and w.meta.token_secret == ws.meta.token_secret), None)
    if owner is not None:
        raise UsageError(
            f"secret {ws.meta.token_secret!r} holds the token of workspace {owner.id}; "
            "give this workspace its own --token-secret"
        )
    return old


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


def _confirm_force(workspace_id: str, yes: bool) -> str:
    """The id typed again (or --yes): a forced sweep deletes a workspace nobody asked to delete."""
    if yes:
        return workspace_id
    if not sys.stdin.isatty():
        raise UsageError("a forced sweep needs confirmation: run it on a terminal, or pass --yes")
    answer = input(
        f"Delete ALL data of workspace {workspace_id} now, although its deletion was not requested? "
        "This cannot be undone. Type its id: "
    )
    if answer.strip() != workspace_id:
        raise UsageError("not confirmed; nothing changed")
    return workspace_id


def cmd_sweep(args: argparse.Namespace) -> int:
    from orchestration.resources import warehouse_resource
    from retention import SweepRefused, plan_sweep, swept_refs, workspace_ref

    if args.force and not args.workspace:
        raise UsageError("--force sweeps one workspace: give --workspace W")
    if args.force and args.dry_run:
        raise UsageError("--dry-run changes nothing and needs no --force")
    settings = _settings()
    known = _registry(settings).list()
    confirm = _confirm_force(args.workspace, args.yes) if args.force else None
    # Refused here, before Dagster loads: the same rule the sweep asset applies (retention.plan_sweep).
    with warehouse_resource(settings).open() as wh:
        refs = swept_refs(wh)
    try:
        plan_sweep(known, refs, args.workspace, force=args.force, confirm=confirm, dry_run=args.dry_run)
    except SweepRefused as exc:
        raise UsageError(str(exc)) from None
    defs, instance = _dagster(settings)
    config: dict = {"dry_run": args.dry_run, "force": args.force}
    if args.workspace:
        config["workspace"] = args.workspace
    if confirm:
        config["confirm"] = confirm
    result = defs.resolve_job_def("retention_sweep_job").execute_in_process(
        run_config={"ops": {"ops__retention_audit_log": {"config": config}}},
        instance=instance,
        tags={"sentrum/trigger": "cli-sweep"},
        raise_on_error=False,
    )
    from orchestration.runner import _step_failure

    # Dagster's record names swept workspaces by digest; the person at the terminal gets the ids back.
    names = {workspace_ref(w.id): w.id for w in known}
    if args.workspace:
        names[workspace_ref(args.workspace)] = args.workspace

    def readable(text: str) -> str:
        for ref, wid in names.items():
            text = text.replace(f"workspace {ref}", wid).replace(ref, wid)
        return text

    if not result.success:
        print(f"sentrum sweep: {readable(_step_failure(result) or 'the run failed')}", file=sys.stderr)
        return EXIT_FAILED
    [mat] = result.asset_materializations_for_node("ops__retention_audit_log")
    print(readable(mat.metadata["report"].value) or "no workspace waiting for deletion")
    if mat.metadata["warehouse_compacted"].value:
        print("warehouse file rebuilt: the deleted rows are gone from its bytes")
    if args.workspace and not args.dry_run:
        # This run's config names the workspace: the run goes too, now that it has finished (the audit row stays).
        from orchestration.history import scrub_workspace_history, workspace_markers

        entry = next((w for w in known if w.id == args.workspace), None)
        markers = workspace_markers(args.workspace, entry, known)
        scrub_workspace_history(instance, markers, dbt_dir=settings.dbt_dir)
        print("the sweep's own Dagster run was removed (its config named the workspace); the audit row is the proof")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from retention import PathRefused, owned_child

    settings = _settings()
    _registry(settings).get(args.workspace)  # a clear error for an unknown workspace
    name = args.out or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        owned_child(settings.exports_dir, name)  # a plain folder name: `..`, `/x` and `a/b` are refused here
    except PathRefused as exc:
        raise UsageError(f"--out: {exc}") from None
    out = settings.exports_dir / args.workspace / name
    if out.exists():
        raise UsageError(f"--out: {out} already exists; choose another name")
    defs, instance = _dagster(settings)
    result = defs.resolve_job_def("export_workspace").execute_in_process(
        run_config={"ops": {"export_workspace_op": {"config": {"workspace": args.workspace, "out": name}}}},
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
    from retention.paths import owned_child, private_dir

    settings = _settings()
    _registry(settings).get(args.workspace)  # a clear error for an unknown workspace
    night = args.night or datetime.now(UTC).date()
    if args.out is None:
        # Under the workspace's exports folder: the report names its campaigns, and the sweep removes that folder.
        out = private_dir(owned_child(settings.exports_dir, args.workspace) / "reports")
    else:
        out = Path(args.out).resolve()
    if not out.is_dir() and not out.parent.is_dir():
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
    from orchestration.demo import check_scenario, run_demo

    try:
        check_scenario(args.scenario)
    except ValueError as exc:  # an unknown scenario: the message lists the known ones
        raise UsageError(str(exc)) from None
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
    sync.add_argument("--workspace", required=True, type=_workspace_id)
    sync.add_argument("--start", type=_date, help="first day (account timezone), YYYY-MM-DD")
    sync.add_argument("--end", type=_date, help="last day (account timezone), YYYY-MM-DD")
    sync.set_defaults(func=cmd_sync)

    nightly = sub.add_parser("nightly", help="what the nightly schedule does, now")
    nightly.set_defaults(func=cmd_nightly)

    ws = sub.add_parser("workspaces", help="manage the embedded workspace registry")
    ws_sub = ws.add_subparsers(dest="workspaces_command", required=True, metavar="ACTION")
    add = ws_sub.add_parser("add", help="add or update a workspace; the Meta token is read from standard input")
    add.add_argument("id", type=_workspace_id)
    add.add_argument("--name")
    add.add_argument("--ad-accounts", required=True, help="comma-separated, e.g. act_1,act_2")
    add.add_argument("--token-secret", help="secret name (default meta-token-<id>)")
    add.set_defaults(func=cmd_workspaces_add)
    lst = ws_sub.add_parser("list", help="list workspaces (never the token)")
    lst.set_defaults(func=cmd_workspaces_list)
    disc = ws_sub.add_parser("disconnect", help="delete the Meta token and stop extraction; data is kept")
    disc.add_argument("id", type=_workspace_id)
    disc.set_defaults(func=cmd_workspaces_disconnect)
    delete = ws_sub.add_parser("delete", help="request deletion of all the workspace's data (swept daily)")
    delete.add_argument("id", type=_workspace_id)
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(func=cmd_workspaces_delete)

    sweep = sub.add_parser("sweep", help="run the retention sweep now")
    sweep.add_argument("--dry-run", action="store_true", help="print what would be deleted; change nothing")
    sweep.add_argument(
        "--workspace",
        type=_workspace_id,
        help="sweep one workspace whose deletion was requested, or re-verify one already swept",
    )
    sweep.add_argument(
        "--force", action="store_true", help="sweep --workspace W although its deletion was not requested"
    )
    sweep.add_argument("--yes", action="store_true", help="confirm --force without a prompt")
    sweep.set_defaults(func=cmd_sweep)

    export = sub.add_parser("export", help="a workspace's data as Parquet + a manifest")
    export.add_argument("--workspace", required=True, type=_workspace_id)
    export.add_argument(
        "--out", help="folder name under $SENTRUM_HOME/exports/<workspace>/ (default: the UTC time); not a path"
    )
    export.set_defaults(func=cmd_export)

    diagnose = sub.add_parser("diagnose", help="run the diagnostics of one workspace over the marts as they are")
    diagnose.add_argument("--workspace", required=True, type=_workspace_id)
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
    from workspaces import InvalidRegistry, RegistryError, WorkspaceNotFound

    # Everything this process writes (the warehouse's WAL, Dagster's storage, dbt's logs) is the owner's only.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (UsageError, WorkspaceNotFound, InvalidRegistry) as exc:
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
