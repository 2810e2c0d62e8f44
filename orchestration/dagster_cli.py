"""`dagster`, Dagster's own command line, as `make ui` runs it (`python -m orchestration.dagster_cli dev ...`): the
same command, without its notice that `dagster dev` is superseded by `dg dev` (a tool this project does not ship):
running this module imports the `orchestration` package first, which hides it (quiet.py)."""

from __future__ import annotations

import sys


def main() -> int:
    from dagster._cli import main as dagster_main

    return dagster_main()


if __name__ == "__main__":
    sys.exit(main())
