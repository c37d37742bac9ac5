"""The conformance HTML as a browser renders it: headless Chromium draws the page of the CDISC pilot SDTM
package and of a clean package to PNG, and its DOM holds the rule texts, group counts and "No findings"."""
from __future__ import annotations

import shutil
import struct
import subprocess
import tempfile
import zlib
from collections import Counter
from pathlib import Path

import lxml.html
import pytest

from converters.validate import validate_package, write_reports
from converters.validate.registry import rule_specs
from validate_fixtures import frames, write_package

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PILOT = SHARED / "reference" / "cdiscpilot01" / "sdtm"
BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
WIDTH, HEIGHT = 1400, 2400

pytestmark = pytest.mark.skipif(BROWSER is None, reason="no chromium on this machine")


def chromium(*args: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        res = subprocess.run(
            [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", f"--user-data-dir={profile}", *args],
            capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def screenshot(page: Path, png: Path) -> None:
    chromium(f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={png}", page.as_uri())


def dom(page: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(chromium("--dump-dom", page.as_uri()))


def png_pixels(png: Path) -> tuple[int, int, bytes]:
    """(width, height, raw scanlines) of a PNG."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def assert_drawn(png: Path) -> None:
    """The page was drawn at the window size, and with text in it: not a blank or error page."""
    width, height, raw = png_pixels(png)
    assert (width, height) == (WIDTH, HEIGHT)
    assert png.stat().st_size > 40_000
    assert len(set(raw)) > 64  # anti-aliased text gives many shades; a blank page a handful


def text(el) -> str:
    return " ".join(el.text_content().split())


def rule_rows(root) -> dict[str, list[str]]:
    """Rules table: rule id -> cell texts."""
    (table,) = root.xpath("//h2[.='Rules']/following-sibling::table[1]")
    return {cells[0]: cells for cells in ([text(td) for td in tr.xpath("td")] for tr in table.xpath("tbody/tr"))}


@pytest.mark.skipif(not PILOT.is_dir(), reason="CDISC pilot reference data not available")
def test_pilot_page_renders_with_rule_texts_and_group_counts(tmp_path):
    report = validate_package(PILOT)
    page, png = tmp_path / "conformance.html", tmp_path / "conformance.png"
    write_reports(report, [page])
    screenshot(page, png)
    assert_drawn(png)

    root = dom(page)
    assert text(root.xpath("//h1")[0]) == "Conformance report: CDISCPILOT01"
    groups = root.xpath("//tr[@data-ds]")
    counts = Counter((f.rule, f.dataset, f.variable, f.value, f.message) for f in report.findings)
    assert len(groups) == len(counts) < len(report.findings)
    # the most repeated finding (the pilot's CMDOSU units) is one row with its count
    (rule, ds, var, value, message), n = counts.most_common(1)[0]
    assert n > 1
    (row,) = [tr for tr in groups if text(tr.xpath("td[@class='m']")[0]) == message]
    cells = [text(td) for td in row.xpath("td")]
    spec = rule_specs()[rule]
    parts = [text(el) for el in row.xpath("td[2]/b | td[2]/div")]
    assert parts == [rule, spec.description, spec.clause] and cells[2:6] == [ds, var, value, str(n)]
    # every rule run is listed with its text and count, zero counts included
    rules = rule_rows(root)
    assert list(rules) == list(rule_specs())
    totals = Counter()
    for (rid, _), k in report.counts.items():
        totals[rid] += k
    for rid, cells in rules.items():
        assert cells[3] == rule_specs()[rid].description and cells[6] == str(totals[rid])
    assert "0" in {cells[6] for cells in rules.values()}
    assert "No findings" not in text(root)


def test_clean_page_renders_and_says_no_findings(tmp_path):
    report = validate_package(write_package(tmp_path / "clean", frames()))
    assert report.counts == {} and report.findings == []
    page, png = tmp_path / "conformance.html", tmp_path / "conformance.png"
    write_reports(report, [page])
    screenshot(page, png)
    assert_drawn(png)

    root = dom(page)
    assert text(root.xpath("//h1")[0]) == "Conformance report: ST"
    assert text(root.xpath("//p[contains(@class,'outcome')]")[0]).startswith("No findings: ")
    assert [text(p) for p in root.xpath("//h2[.='Findings']/following-sibling::*[1]")] == ["No findings."]
    assert not root.xpath("//tr[@data-ds]") and not root.xpath("//select")
    rules = rule_rows(root)
    assert list(rules) == list(rule_specs()) and {cells[6] for cells in rules.values()} == {"0"}
