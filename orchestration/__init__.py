"""The only package that imports Dagster. Importing it hides Dagster's warnings nobody running SENTRUM can act on
(quiet.py), for every entry point: the `sentrum` CLI, the code location Dagster loads (`definitions.py`)."""

from orchestration.quiet import hide_unactionable_warnings

hide_unactionable_warnings()
