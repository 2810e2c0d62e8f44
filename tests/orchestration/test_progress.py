"""The dbt asset's node count (orchestration/progress.py `DbtNodeLog`): few stored lines, the last one always."""

from __future__ import annotations

from orchestration.progress import DBT_NODE, DbtNodeLog


def _count(nodes: int, every_s: float) -> list[str]:
    lines: list[str] = []
    log = DbtNodeLog(lines.append)
    log.LOG_EVERY_S = every_s
    for i in range(nodes):
        log.seen(f"node_{i}")
    log.close()
    log.close()  # a second close adds nothing
    return lines


def test_within_the_interval_only_the_last_count_is_logged():
    assert _count(150, every_s=3600) == ["dbt node 150: node_149"]


def test_past_the_interval_each_node_is_logged_and_the_follower_reads_every_count():
    lines = _count(5, every_s=0)
    assert [int(DBT_NODE.match(line).group(1)) for line in lines] == [1, 2, 3, 4, 5]


def test_a_run_whose_dbt_reported_nothing_logs_nothing():
    assert _count(0, every_s=0) == []
