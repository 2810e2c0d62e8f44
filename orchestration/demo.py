"""`sentrum demo`: the nightly pipeline on the embedded default, against the Graph API sandbox."""

from __future__ import annotations

from orchestration.settings import Settings


def register_sandbox_workspaces(settings, sandbox_workspaces) -> list[str]:
    """Put the sandbox's workspaces in the registry and their tokens in the secret store (idempotent)."""
    from secret_store import LocalSecretStore
    from workspaces import MetaConnection, Workspace, YamlRegistry, default_token_secret

    registry = YamlRegistry(settings.registry_location)
    store = LocalSecretStore(settings.secrets_dir)
    ids = []
    for sw in sandbox_workspaces:
        secret = default_token_secret(sw.workspace_id)
        store.put(secret, sw.token)
        registry.upsert(
            Workspace(
                id=sw.workspace_id,
                name=sw.name,
                meta=MetaConnection(ad_accounts=list(sw.account_ids), token_secret=secret),
            )
        )
        ids.append(sw.workspace_id)
    return ids


def mart_summary(duckdb_file) -> str:
    import duckdb

    with duckdb.connect(str(duckdb_file), read_only=True) as con:
        rows = con.execute(
            """
            select workspace_id, account_currency, count(distinct ad_id) as ads, count(*) as ad_days,
                   min(date_day) as first_day, max(date_day) as last_day, sum(spend) as spend,
                   sum(impressions) as impressions, sum(conversions) as conversions
            from marts.fct_ad_insights_daily
            group by all
            order by workspace_id, account_currency
            """
        ).fetchall()
    lines = [
        f"{'workspace':<10} {'currency':<8} {'ads':>4} {'ad-days':>8}  {'window':<23} {'spend':>12} "
        f"{'impressions':>12} {'conversions':>11}"
    ]
    for ws, cur, ads, ad_days, first, last, spend, impressions, conversions in rows:
        lines.append(
            f"{ws:<10} {cur:<8} {ads:>4} {ad_days:>8}  {first}..{last} {spend:>12,.2f} {impressions:>12,} "
            f"{conversions:>11,.0f}"
        )
    return "\n".join(lines)


def check_scenario(name: str) -> None:
    """ValueError naming the known scenarios if `name` is not one of them."""
    from graph_sandbox import Scenario

    Scenario(name, 42)


def run_demo(port: int = 0, scenario: str = "demo", verbose: bool = False) -> int:
    from graph_sandbox import SandboxServer

    with SandboxServer(scenario, port=port, job_seconds=1.0) as server:
        # The environment's settings, pointed at the sandbox like at any other Graph API endpoint.
        settings = Settings(meta_graph_url=server.url)
        ids = register_sandbox_workspaces(settings, server.scenario.workspaces())
        print(
            f"Graph API sandbox at {server.url}; workspaces {', '.join(ids)} registered in {settings.registry_location}"
        )

        from orchestration.cli_common import load_dagster
        from orchestration.outcomes import describe
        from orchestration.summary import collect, describe_landed

        print("loading the Dagster definitions (dbt's manifest is parsed on the first run)")
        defs, instance = load_dagster(settings)
        from orchestration.runner import run_nightly  # (after load_dagster: dbt's manifest is prepared there)

        # Executed here even when a daemon is running: the sandbox lives in this process, unknown to the daemon's
        # code location.
        outcomes = run_nightly(defs, instance, settings, queue=False, verbose=verbose)
        print(describe(outcomes))
        print(describe_landed(collect(instance, outcomes)))
        stats = server.stats()
        print(f"Graph API calls: {stats['total']}" + (f" {stats}" if verbose else ""))
    if not outcomes or not all(o.success for o in outcomes):
        print("sentrum demo: the nightly run failed (see above)")
        return 1
    print(f"\nmarts.fct_ad_insights_daily in {settings.duckdb_file}:\n{mart_summary(settings.duckdb_file)}")
    print(
        f"\nQuery a workspace's marts: schema ws_<workspace> in {settings.duckdb_file} (docs/analysts.md)"
        f"\nBrowse the runs, assets and checks: make ui  (Dagster UI on this state, http://127.0.0.1:3000)"
    )
    return 0 if all(o.all_ok for o in outcomes) else 1
