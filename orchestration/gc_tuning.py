"""CPython's cyclic garbage collector, set for SENTRUM's long Python processes: the CLI, the code location's
processes (code server, run workers) and `sentrum-dbt`, the dbt process of every marts run.

Each collection of the oldest generation walks every live object, and the imports of Dagster and dbt leave over a
million. At CPython's default thresholds (700, 10, 10) a marts run's dbt process collected ~1,700 times, ~1.5-1.9
of its ~14 CPU-seconds passing while it did, the CLI running the sync ~1.1 of ~12; with these settings ~80 and ~70
times, ~0.7 and ~0.5 s (one workspace, a month; three runs each, 2026-12-06). No Dagster or dbt import here:
`sentrum-dbt` uses it before dbt is loaded.
"""

from __future__ import annotations

import gc

# A first-generation collection every 20,000 new container objects instead of 700, the older generations' in step.
# The young generation then holds up to 20,000 objects more before a collection: nothing beside what imports hold.
THRESHOLDS = (20_000, 20, 10)


def collect_less() -> None:
    """Collect less often from now on: call it first thing (the imports themselves make a million objects)."""
    gc.set_threshold(*THRESHOLDS)


def freeze_imported() -> None:
    """Never walk again what is alive now: call it once the imports are done. What they left (modules, classes,
    functions, Dagster's definitions) lives as long as the process, so the collector has nothing to find in it
    (`gc.freeze()`). A cycle of it that did become garbage stays: a few objects at most."""
    gc.freeze()
