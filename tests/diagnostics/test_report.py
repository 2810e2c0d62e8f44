"""Pictures: every finding carries a chart of the series behind it, stored with the finding; the night's report is
one self-contained HTML file with one chart per finding, and it opens in headless Chromium without console errors."""

from __future__ import annotations

import os
import re

from diagnostics import run_diagnostics, write_report
from diagnostics.svg import Band, LineChart, render_line
from tests.diagnostics.browser import open_page
from tests.diagnostics.synthetic import NIGHT, PLANTS, WS, Dataset


def _planted_night(wh) -> int:
    ds = Dataset()
    for apply, _ in PLANTS.values():
        apply(ds)
    ds.campaign("c1").name = 'Prospecting <b>"Sales"</b> & more'  # names are typed by people: escaped everywhere
    ds.write(wh)
    return run_diagnostics(wh, WS, NIGHT).findings


def test_every_finding_is_stored_with_a_chart_of_its_series(wh):
    findings = _planted_night(wh)
    rows = wh.query(
        "select finding_type, severity, period_start, period_end, chart_svg from diagnostics.diagnostics_findings"
    )
    assert len(rows) == findings > 20
    for r in rows:
        svg = r["chart_svg"]
        assert svg.startswith("<svg") and svg.endswith("</svg>"), r["finding_type"]
        assert "<script" not in svg and "href" not in svg  # self-contained, nothing to load
        if r["finding_type"] == "breakdown_outlier":
            assert svg.count('class="bar anomaly"') == 1  # the outlier cell among its siblings
        else:
            assert 'class="band-current"' in svg and 'class="series"' in svg
    zero = next(r for r in rows if r["finding_type"] == "zero_conversions" and r["severity"] == "high")
    assert zero["chart_svg"].count('class="anomaly"') >= 3  # the days it spent without converting, marked


def test_report_has_one_chart_per_finding_and_opens_without_console_errors(wh, tmp_path):
    findings = _planted_night(wh)
    path, count = write_report(wh, WS, NIGHT, tmp_path)
    assert path.exists() and count == findings
    html = path.read_text()
    assert html.count('<section class="finding') == findings
    assert html.count("<svg") == findings
    assert "<script" not in html and not re.search(r"""(src|href)=["'](?!#)""", html)  # nothing external
    assert '<b>"Sales' not in html and "Prospecting &lt;b&gt;" in html  # a name is text, not markup
    dom, console = open_page(path)
    assert console == []
    # the browser built one svg element per finding (the charts parsed as part of the page)
    assert dom.count("<svg") == findings and dom.count('class="finding') == findings


def test_the_browser_check_sees_console_errors(tmp_path):
    """The control: the same harness reports a page that logs an error."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>console.error('chart failed')</script></body></html>")
    _, console = open_page(page)
    assert any("chart failed" in line for line in console)


def test_an_empty_night_still_renders(wh, tmp_path):
    Dataset().write(wh)
    run_diagnostics(wh, WS, NIGHT)
    path, count = write_report(wh, WS, NIGHT, tmp_path / "night.html")
    assert count == 0 and "No findings this night." in path.read_text()


def test_line_chart_marks_anomalous_days_and_shades_windows():
    from datetime import date, timedelta

    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(10)]
    svg = render_line(
        LineChart(
            title="CPA: ad set <x>",
            metric="CPA",
            days=days,
            values=[10, 11, None, 10, 12, 11, 20, 22, 25, 24],
            bands=[Band("previous", days[0], days[5]), Band("current", days[6], days[9])],
            marked=frozenset(days[6:]),
        )
    )
    assert svg.count('class="anomaly"') == 4 and svg.count('class="series"') == 2  # the gap splits the line
    assert 'class="band-current"' in svg and 'class="band-previous"' in svg and "&lt;x&gt;" in svg


def test_sentrum_report_writes_the_night_and_refuses_an_unknown_workspace(tmp_path, monkeypatch, capsys):
    from orchestration.cli import main
    from warehouse import DuckDBWarehouse
    from workspaces import MetaConnection, Workspace, YamlRegistry

    home = tmp_path / "home"
    with DuckDBWarehouse(home / "warehouse.duckdb") as wh:
        findings = _planted_night(wh)
    YamlRegistry(home / "workspaces.yaml").upsert(
        Workspace(id=WS, name="Acme", meta=MetaConnection(ad_accounts=["act_1"], token_secret="meta-token-acme"))
    )
    for key in [k for k in os.environ if k.startswith("SENTRUM_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("SENTRUM_HOME", str(home))
    out = tmp_path / "acme.html"
    assert main(["report", "--workspace", WS, "--night", NIGHT.isoformat(), "--out", str(out)]) == 0
    assert f"{findings} finding(s)" in capsys.readouterr().out
    assert out.read_text().count("<svg") == findings
    assert main(["report", "--workspace", "nobody", "--night", NIGHT.isoformat()]) == 2
    assert "nobody" in capsys.readouterr().err
