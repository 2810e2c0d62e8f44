from datetime import date

import pytest

from insights_jobs import Window
from orchestration.planning import backfill_id, nightly_marts_window, plan_backfill_chunks


def test_backfill_chunks_cover_the_window_exactly_oldest_first():
    chunks = plan_backfill_chunks(Window(date(2026, 1, 1), date(2026, 1, 25)), 10)
    assert [(c.window.start, c.window.end) for c in chunks] == [
        (date(2026, 1, 1), date(2026, 1, 10)),
        (date(2026, 1, 11), date(2026, 1, 20)),
        (date(2026, 1, 21), date(2026, 1, 25)),
    ]
    assert [c.label for c in chunks] == ["1/3", "2/3", "3/3"]
    assert len(plan_backfill_chunks(Window(date(2026, 1, 1), date(2026, 1, 1)), 90)) == 1
    with pytest.raises(ValueError):
        plan_backfill_chunks(Window(date(2026, 1, 1), date(2026, 1, 2)), 0)


def test_37_months_in_90_day_chunks():
    chunks = plan_backfill_chunks(Window(date(2023, 10, 28), date(2026, 11, 26)), 90)
    assert len(chunks) == 13
    assert all(c.window.days <= 90 for c in chunks)
    assert sum(c.window.days for c in chunks) == Window(date(2023, 10, 28), date(2026, 11, 26)).days


def test_backfill_id_is_deterministic():
    w = Window(date(2026, 1, 1), date(2026, 3, 1))
    assert backfill_id("acme", w, 30) == backfill_id("acme", w, 30)
    assert backfill_id("acme", w, 30) != backfill_id("acme", w, 31)
    assert backfill_id("acme", w, 30) != backfill_id("globex", w, 30)


def test_marts_window_covers_every_timezone_s_restatement_window():
    w = nightly_marts_window(date(2026, 11, 27), 29)
    # Tokyo's yesterday is 26 Nov, Honolulu's (and UTC-12's) is 25 Nov on the morning of 27 Nov UTC: both 29-day
    # windows fit, Honolulu's from 28 Oct (25 Nov - 28 days), 30 days before the UTC date.
    assert w.start == date(2026, 10, 28) and w.end >= date(2026, 11, 26)
