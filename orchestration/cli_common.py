"""What the `sentrum` commands share: exit statuses, the errors that choose them, and how a command gets its
settings, registry, secret store, warehouse and Dagster definitions (each imported late: Dagster and dbt take
seconds to import, and `workspaces list` needs neither)."""

from __future__ import annotations

import argparse
from datetime import date

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad input from the user: printed without a traceback, exit status 2."""


def load_settings():
    from pydantic import ValidationError

    from orchestration.settings import get_settings, prepare_home
    from workspaces.registry import validation_summary

    try:
        settings = get_settings()
    except ValidationError as exc:
        raise UsageError(f"invalid settings in the environment: {validation_summary(exc)}") from None
    prepare_home(settings)
    return settings


def load_dagster(settings):
    # Imported late: Dagster and dbt take seconds to import, and `workspaces list` does not need them.
    from orchestration.dbt_prepare import prepare_dbt
    from orchestration.instance import dagster_instance

    prepare_dbt(settings)  # the definitions read dbt's manifest: built first when missing or stale (a fresh clone)
    from orchestration.definitions import build_definitions

    return build_definitions(settings), dagster_instance(settings)


def open_registry(settings):
    """The registry of the settings: the YAML file (embedded default) or the BigQuery control table. The YAML file
    is opened directly: `workspaces add/list` then answer without importing Dagster (seconds)."""
    if settings.registry_location != "bigquery":
        from workspaces import YamlRegistry

        return YamlRegistry(settings.registry_location)
    from orchestration.resources import registry_resource

    return registry_resource(settings).get()


def open_warehouse(settings):
    """The warehouse of the settings for the command's own reads: the DuckDB file in a session of the command line
    (the writer's lock, as the runs take it: duckdb_session.py), opened without importing Dagster; or BigQuery,
    through its resource (which does)."""
    if settings.warehouse == "duckdb":
        from orchestration.duckdb_session import duckdb_bounds, duckdb_session, tell_stderr

        return duckdb_session(**duckdb_bounds(settings), holder="the command line", waiting=tell_stderr)
    from orchestration.resources import warehouse_resource

    return warehouse_resource(settings).open()


def open_secret_store(settings):
    """The secret store of the settings: the local encrypted file, or Secret Manager."""
    if settings.secrets == "local":
        from secret_store import LocalSecretStore

        return LocalSecretStore(settings.secrets_dir)
    from orchestration.resources import secret_store_resource

    return secret_store_resource(settings).get()


class CheckFailed(Exception):
    """A check that could not be made (the Graph API unreachable): exit status 1, nothing changed."""


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def parse_workspace_id(text: str) -> str:
    from workspaces import check_workspace_id

    try:
        return check_workspace_id(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
