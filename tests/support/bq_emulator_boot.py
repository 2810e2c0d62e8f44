"""Starts the BigQuery stand-in (bqemulator) in its own virtualenv's interpreter, which cannot import the project:
`python -P bq_emulator_boot.py '<gc thresholds as JSON>' start ...` (tests/support/bq_emulator.py).

Two settings for its CPU, nothing of what it answers:
- the garbage collector as the pipeline's processes set it (orchestration/gc_tuning.py, passed in): the emulator makes
  many short-lived objects parsing and rewriting each query's SQL;
- a cache of parsed SQL. The emulator parses each statement again in each of its rewriting and classifying steps,
  mostly the same text (a step that changes nothing hands the next one the text it was given), and dbt sends the same
  statements again and again. A parse is the same tree every time, so the cache keeps one tree per text and hands
  out copies (its steps may change the trees they get); a text that fails to parse raises as before.
  Over test_pipeline_bigquery.py and test_dbt_bigquery.py, 94% of ~31,000 parses were of a text parsed before, and
  the emulator took 59 and 69 CPU-s instead of 84 and 88 (2026-12-06, two alternated pairs).
"""

from __future__ import annotations

import gc
import json
import sys

CACHE_LIMIT = 4096  # texts, then the cache starts again empty: bounded memory (two BigQuery modules parse ~1,900)


def cache_parses() -> None:
    from sqlglot.dialects.dialect import Dialect

    parse = Dialect.parse
    cache: dict[tuple, list] = {}

    def cached_parse(self, sql, **opts):
        dialect = (type(self), self.version, self.normalization_strategy, repr(self.settings))
        key = (*dialect, sql, repr(sorted(opts.items())))
        trees = cache.get(key)
        if trees is None:
            trees = parse(self, sql, **opts)
            if len(cache) >= CACHE_LIMIT:
                cache.clear()
            cache[key] = trees
        return [None if tree is None else tree.copy() for tree in trees]

    Dialect.parse = cached_parse


def main() -> None:
    gc.set_threshold(*json.loads(sys.argv.pop(1)))
    cache_parses()
    from bqemulator.cli import main as emulator

    gc.freeze()  # the imports' objects: never garbage, never walked again
    sys.argv[0] = "bqemulator"
    sys.exit(emulator())


if __name__ == "__main__":
    main()
