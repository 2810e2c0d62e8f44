"""`sentrum`: the command line. Pipeline commands run the jobs of the `sentrum` code location on the project's
Dagster instance (launch.py: queued for the daemon when one is running, else executed here), so their runs show in
the UI under their jobs."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from orchestration.cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CheckFailed,
    UsageError,
    load_dagster,
    load_settings,
    open_registry,
    open_warehouse,
    parse_date,
    parse_workspace_id,
)
from orchestration.cli_workspaces import (
    cmd_workspaces_add,
    cmd_workspaces_delete,
    cmd_workspaces_disconnect,
    cmd_workspaces_list,
)
from orchestration.gc_tuning import collect_less


def _finish(outcomes, instance) -> int:
    from orchestration.outcomes import describe
    from orchestration.summary import collect, describe_landed

    if not outcomes:
        print("nothing to run: no active workspace in the registry")
        return EXIT_OK
    print(describe(outcomes))
    landed = describe_landed(collect(instance, outcomes))
    if landed:
        print(landed)
    return EXIT_OK if all(o.all_ok for o in outcomes) else EXIT_FAILED


# -- commands ---------------------------------------------------------------------------------------------------
def cmd_sync(args: argparse.Namespace) -> int:
    from dates import Window
    from workspaces import WorkspaceNotFound

    if (args.start is None) != (args.end is None):
        raise UsageError("give both --start and --end, or neither (default: the restatement window)")
    window = None
    if args.start:
        if args.start > args.end:
            raise UsageError(f"--start {args.start} is after --end {args.end}")
        window = Window(args.start, args.end)
    settings = load_settings()
    open_registry(settings).get(args.workspace)  # an unknown workspace is a clear error before Dagster loads
    defs, instance = load_dagster(settings)
    from orchestration.runner import sync_workspace  # (after load_dagster: dbt's manifest is prepared there)

    try:
        outcomes = sync_workspace(defs, instance, settings, args.workspace, window, verbose=args.verbose)
    except (WorkspaceNotFound, ValueError) as exc:
        raise UsageError(str(exc)) from None
    return _finish(outcomes, instance)


def cmd_nightly(args: argparse.Namespace) -> int:
    settings = load_settings()
    defs, instance = load_dagster(settings)
    from orchestration.runner import run_nightly

    return _finish(run_nightly(defs, instance, settings, verbose=args.verbose), instance)


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
    from retention import SweepRefused, plan_sweep, swept_refs, workspace_ref

    if args.force and not args.workspace:
        raise UsageError("--force sweeps one workspace: give --workspace W")
    if args.force and args.dry_run:
        raise UsageError("--dry-run changes nothing and needs no --force")
    settings = load_settings()
    known = open_registry(settings).list()
    confirm = _confirm_force(args.workspace, args.yes) if args.force else None
    # Refused here, before Dagster loads: the same rule the sweep asset applies (retention.plan_sweep).
    with open_warehouse(settings) as wh:
        refs = swept_refs(wh)
    try:
        plan_sweep(known, refs, args.workspace, force=args.force, confirm=confirm, dry_run=args.dry_run)
    except SweepRefused as exc:
        raise UsageError(str(exc)) from None
    defs, instance = load_dagster(settings)
    config: dict = {"dry_run": args.dry_run, "force": args.force}
    if args.workspace:
        config["workspace"] = args.workspace
    if confirm:
        config["confirm"] = confirm
    from orchestration.runner import run_sweep

    outcome, audit = run_sweep(defs, instance, config, verbose=args.verbose)

    # Dagster's record names swept workspaces by digest; the person at the terminal gets the ids back.
    names = {workspace_ref(w.id): w.id for w in known}
    if args.workspace:
        names[workspace_ref(args.workspace)] = args.workspace

    def readable(text: str) -> str:
        for ref, wid in names.items():
            text = text.replace(f"workspace {ref}", wid).replace(ref, wid)
        return text

    if not outcome.success:
        print(f"sentrum sweep: {readable(outcome.error or 'the run failed')}", file=sys.stderr)
        return EXIT_FAILED
    print(readable(audit["report"]) or "no workspace waiting for deletion")
    if audit["warehouse_compacted"]:
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

    settings = load_settings()
    open_registry(settings).get(args.workspace)  # a clear error for an unknown workspace
    name = args.out or datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        owned_child(settings.exports_dir, name)  # a plain folder name: `..`, `/x` and `a/b` are refused here
    except PathRefused as exc:
        raise UsageError(f"--out: {exc}") from None
    out = settings.exports_dir / args.workspace / name
    if out.exists():
        raise UsageError(f"--out: {out} already exists; choose another name")
    defs, instance = load_dagster(settings)
    from orchestration.runner import run_export

    outcome = run_export(defs, instance, args.workspace, name, verbose=args.verbose)
    if not outcome.success:
        print(f"sentrum export: {outcome.error}", file=sys.stderr)
        return EXIT_FAILED
    manifest = json.loads((out / "manifest.json").read_text())
    print(f"exported {manifest['total_rows']} rows of {args.workspace} in {len(manifest['files'])} file(s) to {out}")
    return EXIT_OK


def cmd_diagnose(args: argparse.Namespace) -> int:
    settings = load_settings()
    open_registry(settings).get(args.workspace)  # a clear error for an unknown workspace
    night = args.night or datetime.now(UTC).date()
    defs, instance = load_dagster(settings)
    from orchestration.runner import run_diagnostics_job

    outcome = run_diagnostics_job(defs, instance, args.workspace, night, verbose=args.verbose)
    if not outcome.success:
        print(f"sentrum diagnose: {outcome.error}", file=sys.stderr)
        return EXIT_FAILED
    from diagnostics import FINDINGS_TABLE

    with open_warehouse(settings) as wh:
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
    from retention import owned_child
    from retention.paths import private_dir

    settings = load_settings()
    open_registry(settings).get(args.workspace)  # a clear error for an unknown workspace
    night = args.night or datetime.now(UTC).date()
    if args.out is None:
        # Under the workspace's exports folder: the report names its campaigns, and the sweep removes that folder.
        out = private_dir(owned_child(settings.exports_dir, args.workspace) / "reports")
    else:
        out = Path(args.out).resolve()
    if not out.is_dir() and not out.parent.is_dir():
        raise UsageError(f"--out: no such directory {out.parent}")
    with open_warehouse(settings) as wh:
        path, count = write_report(wh, args.workspace, night, out)
    print(f"{count} finding(s) for {args.workspace}, night {night}: {path}")
    return EXIT_OK


def cmd_dbt_prepare(args: argparse.Namespace) -> int:
    """dbt's manifest for the definitions, under $SENTRUM_HOME/dbt/target: what a deployment's image build runs."""
    from orchestration.dbt_prepare import prepare_dbt

    settings = load_settings()
    try:
        path = prepare_dbt(settings, force=args.force)
    except RuntimeError as exc:
        print(f"sentrum: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"dbt manifest ready: {path}")
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
    return run_demo(port=args.port, scenario=args.scenario, verbose=args.verbose)


# -- parser -----------------------------------------------------------------------------------------------------
# Every command's exit status: what 1 means is the command's own (`exits`); 2 is always bad input.
EXIT_OK_TEXT, EXIT_FAILED_TEXT = "exit status: 0 ok; ", "1 {failed}; "
EXIT_USAGE_TEXT = "2 bad input or settings (the reason on stderr, nothing changed); 130 interrupted"


def exits(failed: str | None) -> str:
    """The exit statuses a command can return (`failed`: what 1 means for it; None: it never returns 1)."""
    return EXIT_OK_TEXT + (EXIT_FAILED_TEXT.format(failed=failed) if failed else "") + EXIT_USAGE_TEXT


def _command(
    sub: argparse._SubParsersAction, name: str, help: str, example: str, failed: str | None, pipeline: bool = False
) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with an example and its exit statuses. `pipeline`: it runs Dagster jobs, so it
    takes -v/--verbose."""
    command = sub.add_parser(
        name,
        help=help,
        description=help,
        epilog=f"example:\n  {example}\n\n{exits(failed)}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if pipeline:
        command.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,  # else it would undo a `sentrum -v` before the command
            help="show Dagster's event log and dbt's node log as they come, instead of progress and a summary",
        )
    return command


def build_parser() -> argparse.ArgumentParser:
    from graph_sandbox import SCENARIOS

    # Listed, not argparse `choices`: an unknown name is then refused in one line, like all bad input.
    scenario_help = f"the sandbox's world, one of: {', '.join(sorted(SCENARIOS))} (default: demo)"
    p = argparse.ArgumentParser(
        prog="sentrum",
        description="SENTRUM data platform: the nightly Meta Ads pipeline. `sentrum COMMAND --help` for a command.",
        epilog="example:\n  sentrum demo\n\n" + exits("a run or a workspace failed"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show Dagster's event log and dbt's node log as they come, instead of progress and a summary",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = _command(
        sub,
        "demo",
        "run the nightly pipeline against the local Graph API sandbox, then print a summary",
        "sentrum demo --scenario demo",
        "the nightly run or a workspace failed",
        pipeline=True,
    )
    demo.add_argument("--port", type=int, default=0, help="sandbox port (default: any free port)")
    demo.add_argument("--scenario", default="demo", metavar="NAME", help=scenario_help)
    demo.set_defaults(func=cmd_demo)

    sync = _command(
        sub,
        "sync",
        "extract one workspace, then build the marts; prints what landed",
        "sentrum sync --workspace acme --start 2026-10-01 --end 2026-10-31",
        "the extraction or the marts run failed",
        pipeline=True,
    )
    sync.add_argument("--workspace", required=True, type=parse_workspace_id, help="the workspace's id")
    sync.add_argument(
        "--start", type=parse_date, help="first day (account timezone), YYYY-MM-DD (default: the restatement window)"
    )
    sync.add_argument("--end", type=parse_date, help="last day (account timezone), YYYY-MM-DD; with --start")
    sync.set_defaults(func=cmd_sync)

    nightly = _command(
        sub,
        "nightly",
        "what the nightly schedule does, now: every active workspace, in batches, then the marts",
        "sentrum nightly",
        "a run or a workspace failed",
        pipeline=True,
    )
    nightly.set_defaults(func=cmd_nightly)

    ws = _command(
        sub, "workspaces", "manage the workspace registry (`sentrum workspaces ACTION --help`)",
        "sentrum workspaces list", "the registry, the secret store or the warehouse could not be used",
    )  # fmt: skip
    ws_sub = ws.add_subparsers(dest="workspaces_command", required=True, metavar="ACTION")
    add = _command(
        ws_sub,
        "add",
        "add or update a workspace; the Meta token is read from standard input and checked with Meta first",
        "printf '%s' \"$META_TOKEN\" | sentrum workspaces add acme --name 'Acme Inc' --ad-accounts act_101,act_102",
        "the token could not be checked (Meta unreachable), nothing stored",
    )
    add.add_argument("id", type=parse_workspace_id, help="the workspace's id (letters, digits, - and _)")
    add.add_argument("--name", help="a display name (default: the id)")
    add.add_argument("--ad-accounts", required=True, help="comma-separated, e.g. act_1,act_2")
    add.add_argument("--token-secret", help="secret name (default meta-token-<id>)")
    add.set_defaults(func=cmd_workspaces_add)
    lst = _command(
        ws_sub, "list", "list workspaces and their token's health (never the token)", "sentrum workspaces list",
        "the registry or the warehouse could not be read",
    )  # fmt: skip
    lst.set_defaults(func=cmd_workspaces_list)
    disc = _command(
        ws_sub, "disconnect", "delete the Meta token and stop extraction; data is kept",
        "sentrum workspaces disconnect acme", "the secret store could not be changed",
    )  # fmt: skip
    disc.add_argument("id", type=parse_workspace_id, help="the workspace's id")
    disc.set_defaults(func=cmd_workspaces_disconnect)
    delete = _command(
        ws_sub, "delete", "request deletion of all the workspace's data (swept daily)",
        "sentrum workspaces delete acme --yes", "not confirmed at the prompt, nothing changed",
    )  # fmt: skip
    delete.add_argument("id", type=parse_workspace_id, help="the workspace's id")
    delete.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    delete.set_defaults(func=cmd_workspaces_delete)

    sweep = _command(
        sub, "sweep", "run the retention sweep now", "sentrum sweep --dry-run",
        "the sweep run failed or could not verify a deletion", pipeline=True,
    )  # fmt: skip
    sweep.add_argument("--dry-run", action="store_true", help="print what would be deleted; change nothing")
    sweep.add_argument(
        "--workspace",
        type=parse_workspace_id,
        help="sweep one workspace whose deletion was requested, or re-verify one already swept",
    )
    sweep.add_argument(
        "--force", action="store_true", help="sweep --workspace W although its deletion was not requested"
    )
    sweep.add_argument("--yes", action="store_true", help="confirm --force without a prompt")
    sweep.set_defaults(func=cmd_sweep)

    export = _command(
        sub,
        "export",
        "a workspace's data as Parquet + a manifest",
        "sentrum export --workspace acme --out before-delete",
        "the export run failed",
        pipeline=True,
    )
    export.add_argument("--workspace", required=True, type=parse_workspace_id, help="the workspace's id")
    export.add_argument(
        "--out", help="folder name under $SENTRUM_HOME/exports/<workspace>/ (default: the UTC time); not a path"
    )
    export.set_defaults(func=cmd_export)

    diagnose = _command(
        sub,
        "diagnose",
        "run the diagnostics of one workspace over the marts as they are",
        "sentrum diagnose --workspace acme",
        "the diagnostics run failed",
        pipeline=True,
    )
    diagnose.add_argument("--workspace", required=True, type=parse_workspace_id, help="the workspace's id")
    diagnose.add_argument("--night", type=parse_date, help="the nightly run's date judged (default: today, UTC)")
    diagnose.set_defaults(func=cmd_diagnose)

    report = _command(
        sub, "report", "write a night's findings of one workspace, with charts, as one HTML file",
        "sentrum report --workspace acme --night 2026-12-05", "the warehouse could not be read",
    )  # fmt: skip
    report.add_argument("--workspace", required=True, help="the workspace's id")
    report.add_argument("--night", type=parse_date, help="the nightly run's date (default: today, UTC)")
    report.add_argument("--out", help="a file or a directory (default: $SENTRUM_HOME/exports/<workspace>/reports/)")
    report.set_defaults(func=cmd_report)

    prepare = _command(
        sub, "dbt-prepare", "build dbt's manifest under $SENTRUM_HOME/dbt/target (an image runs it at build time)",
        "sentrum dbt-prepare --force", "dbt could not parse the project",
    )  # fmt: skip
    prepare.add_argument("--force", action="store_true", help="parse even when the manifest is up to date")
    prepare.set_defaults(func=cmd_dbt_prepare)

    sandbox = _command(
        sub, "sandbox", "the local Graph API sandbox (`sentrum sandbox serve --help`)", "sentrum sandbox serve", None
    )
    sb_sub = sandbox.add_subparsers(dest="sandbox_command", required=True, metavar="ACTION")
    serve = _command(
        sb_sub, "serve", "serve the sandbox on 127.0.0.1 until Ctrl-C (prints its tokens)",
        "sentrum sandbox serve --port 8765 --scenario demo --faults transient=0.05", None,
    )  # fmt: skip
    serve.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default: 8765)")
    serve.add_argument("--scenario", default="demo", metavar="NAME", help=scenario_help)
    serve.add_argument("--seed", type=int, default=42, help="the world's random seed (default: 42)")
    serve.add_argument("--latency-ms", type=int, default=0, help="added to every response (default: 0)")
    serve.add_argument("--job-seconds", type=float, default=1.0, help="wall time of an async report run (default: 1)")
    serve.add_argument(
        "--faults", help="e.g. transient=0.05,ratelimit=0.02,jobfail=0.1,stuck=0.05,badjson=0.01,expired_token=act_1"
    )
    serve.add_argument(
        "--calls-per-minute", type=int, default=6000, help="per ad account, behind the usage headers (default: 6000)"
    )
    serve.add_argument("--insights-calls-per-minute", type=int, help="insights budget per ad account")
    serve.add_argument(
        "--as-of", help="the last day the numbers include (YYYY-MM-DD, today, today-N): they restate night to night"
    )
    serve.set_defaults(func=cmd_sandbox_serve)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    collect_less()  # before the imports (gc_tuning.py)
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
