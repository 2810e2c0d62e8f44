"""`sentrum workspaces add|list|disconnect|delete`: the embedded registry. No Dagster here: these answer at once."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import sys

from orchestration.cli_common import (
    EXIT_FAILED,
    EXIT_OK,
    CheckFailed,
    UsageError,
    load_settings,
    open_registry,
    open_secret_store,
    open_warehouse,
)

MIN_TOKEN_CHARS = 16


def check_token_with_meta(settings, workspace_id: str, token: str, accounts: list[str]) -> str:
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

    settings = load_settings()
    accounts = [a.strip() for a in args.ad_accounts.split(",") if a.strip()]
    try:
        ws = Workspace(
            id=args.id,
            name=args.name or args.id,
            meta=MetaConnection(ad_accounts=accounts, token_secret=args.token_secret or default_token_secret(args.id)),
        )
    except ValidationError as exc:
        raise UsageError(f"invalid workspace: {validation_summary(exc)}") from None
    registry, store = open_registry(settings), open_secret_store(settings)
    # Everything that can refuse the input is checked before the token is read or stored.
    _check_add(registry.list(), ws)
    token = _read_token(ws.id)
    checked = check_token_with_meta(
        settings, ws.id, token, accounts
    )  # the token works for every account: before storing
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
    settings = load_settings()
    workspaces = open_registry(settings).list()
    if not workspaces:
        print(f"no workspaces in {settings.registry_location}")
        return EXIT_OK
    store = open_secret_store(settings)
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

    from warehouse import DuckDBWarehouse
    from workspaces.health import describe_token, read_health

    if settings.warehouse == "duckdb" and not settings.duckdb_file.exists():
        return {}
    try:
        # DuckDB read-only, without the writer's lock: a listing never waits for a running night
        opened: AbstractContextManager = (
            DuckDBWarehouse(settings.duckdb_file, read_only=True)
            if settings.warehouse == "duckdb"
            else open_warehouse(settings)
        )
        with opened as wh:
            return {ws: describe_token(row) for ws, row in read_health(wh).items()}
    except Exception:  # noqa: BLE001 - advisory column: no table yet, an older table, a warehouse unreachable
        return {}


def cmd_workspaces_disconnect(args: argparse.Namespace) -> int:
    from retention import disconnect

    settings = load_settings()
    ws, deleted = disconnect(open_registry(settings), open_secret_store(settings), args.id)
    token = "token deleted from the secret store" if deleted else "no token was stored"
    print(f"workspace {ws.id} is {ws.status.value}: {token}; extraction stops, its data is kept until deletion")
    return EXIT_OK


def cmd_workspaces_delete(args: argparse.Namespace) -> int:
    from retention import request_deletion

    settings = load_settings()
    registry = open_registry(settings)
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
