from datetime import UTC, date, datetime

import pytest

from dates import Window
from insights_jobs.windows import clamp_window, months_before, oldest_available, restatement_window


def test_restatement_window_ends_yesterday_in_the_account_timezone():
    # 2026-11-27 03:00 UTC is still 26 November in Los Angeles and already 27 November in Tokyo
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    la = restatement_window("America/Los_Angeles", 29, now)
    tokyo = restatement_window("Asia/Tokyo", 29, now)
    assert la == Window(date(2026, 10, 28), date(2026, 11, 25))
    assert tokyo == Window(date(2026, 10, 29), date(2026, 11, 26))
    assert la.days == 29


def test_the_default_nightly_window_reaches_28_days_behind_yesterday():
    # Meta: insights "do not change after 28 days of being reported". Day D may still change during day D+28,
    # which the next night reads as its yesterday: that night's window must hold D = yesterday - 28.
    from insights_jobs import ExtractConfig
    from orchestration.settings import Settings

    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    for days in (
        ExtractConfig(graph_url="http://x", api_version="v26.0").restatement_days,
        Settings().restatement_days,
    ):
        window = restatement_window("UTC", days, now)
        assert window.end == date(2026, 11, 26) and (window.end - window.start).days == 28


def test_unknown_timezone_falls_back_to_utc():
    now = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    assert restatement_window("Mars/Olympus", 1, now) == Window(date(2026, 11, 26), date(2026, 11, 26))


def test_clamp_to_37_months_and_today():
    now = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    assert oldest_available(date(2026, 11, 27)) == date(2023, 10, 28)
    clamped = clamp_window(Window(date(2020, 1, 1), date(2027, 1, 1)), "UTC", now)
    assert clamped == Window(date(2023, 10, 28), date(2026, 11, 27))
    assert clamp_window(Window(date(2019, 1, 1), date(2019, 2, 1)), "UTC", now) is None


def test_months_before_clamps_short_months():
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2026, 1, 15), 37) == date(2022, 12, 15)


def test_reversed_window_is_an_error():
    with pytest.raises(ValueError):
        Window(date(2026, 2, 1), date(2026, 1, 1))


def test_chunks_cover_the_window_once():
    w = Window(date(2026, 1, 1), date(2026, 3, 3))
    chunks = w.chunks(31)
    assert [(c.start, c.end) for c in chunks] == [
        (date(2026, 1, 1), date(2026, 1, 31)),
        (date(2026, 2, 1), date(2026, 3, 3)),
    ]
    assert Window(date(2026, 1, 1), date(2026, 1, 1)).chunks(31) == [Window(date(2026, 1, 1), date(2026, 1, 1))]
    assert sum(c.days for c in w.chunks(7)) == w.days
    with pytest.raises(ValueError):
        w.chunks(0)


def test_one_window_type_for_every_room():
    # the extractor, diagnostics and orchestration share one definition (dates/), not look-alikes
    import dates
    import diagnostics
    import insights_jobs
    from orchestration import planning

    assert insights_jobs.Window is diagnostics.Window is planning.Window is dates.Window
    assert Window.ending(date(2026, 1, 7), 7) == Window(date(2026, 1, 1), date(2026, 1, 7))
    assert Window.ending(date(2026, 1, 7), 7).shifted(7) == Window(date(2025, 12, 25), date(2025, 12, 31))
