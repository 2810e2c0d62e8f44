"""`sentrum-dbt`: dbt's own command line (`dbt.cli.main`), the executable the Dagster runs start for dbt.

The one difference is `--version`, answered from the installed packages' metadata. dbt's own imports all of dbt and
asks pypi.org for the latest release (a request leaving the deployment, with a second's timeout): 3-4 s on two
cores. dagster-dbt asks it once in every run process that runs dbt (`DbtCliResource.cli`, to tell dbt-core from dbt
Fusion), so every nightly marts run paid it, and called pypi.org. Everything else is dbt's, unchanged. No Dagster
here: this is the dbt process.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version

VERSION_FLAGS = ("--version", "-V", "-v")  # dbt's spellings of the option
PLUGINS = ("duckdb", "bigquery")


def version_text() -> str:
    """dbt's `--version` report, without the "latest" line (the part that needs the network)."""
    lines = ["Core:", f"  - installed: {version('dbt-core')}", "", "Plugins:"]
    for plugin in PLUGINS:
        try:
            lines.append(f"  - {plugin}: {version(f'dbt-{plugin}')}")
        except PackageNotFoundError:
            continue
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 1 and args[0] in VERSION_FLAGS:
        print(version_text())
        return 0
    from orchestration.gc_tuning import collect_less, freeze_imported

    collect_less()
    from dbt.cli.main import cli

    freeze_imported()

    # dbt's own entry point, under dbt's name (its usage and error messages say `dbt`)
    return cli.main(args=args, prog_name="dbt")


if __name__ == "__main__":
    sys.exit(main())
