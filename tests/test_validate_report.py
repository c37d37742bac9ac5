"""Conformance reports (JSON, HTML, XLSX): rule texts and clauses from specs/rules/rules.csv, every rule run
listed with its count, identical findings grouped, the study named from its data, "No findings" when clean."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

from converters import __version__
from converters.validate import run_rules, validate_package, write_reports
from converters.validate.package import load_package
from converters.validate.registry import rule_specs
from converters.validate.report import COLUMNS
from converters.validate.study import sas_datetime
from converters.validate.summary import finding_groups
from validate_fixtures import S1, S2, frames, write_package

HOSTILE = "<script>alert(1)</script>"


def dirty_frames():
    d = frames()
    d["AE"]["AEOUT"] = ["NOPE", "NOPE", "OTHER"]  # two identical findings (S1, records 1-2) and one more
    d["DM"].loc[0, "SEX"] = '=HYPERLINK("http://x")'  # formula-looking value
    d["DM"].loc[1, "RACE"] = HOSTILE
    return d


@pytest.fixture(scope="module")
def dirty(tmp_path_factory) -> Path:
    return write_package(tmp_path_factory.mktemp("dirty") / "pkg", dirty_frames())


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    return write_package(tmp_path_factory.mktemp("clean") / "pkg", frames())


@pytest.fixture(scope="module")
def dirty_reports(dirty, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dirty-reports")
    write_reports(validate_package(dirty), [out / "r.json", out / "r.html", out / "r.xlsx"])
    return out


@pytest.fixture(scope="module")
def clean_reports(clean, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("clean-reports")
    report = validate_package(clean)
    assert report.counts == {} and report.findings == []  # really clean: not even a note
    write_reports(report, [out / "r.json", out / "r.html", out / "r.xlsx"])
    return out


# --- grouping ------------------------------------------------------------------------------------------


def test_identical_findings_are_one_group_with_count_and_examples(dirty):
    groups = [g for g in finding_groups(validate_package(dirty)) if g.variable == "AEOUT"]
    assert [(g.rule, g.dataset, g.value, g.count, g.usubjids, g.records) for g in groups] == [
        ("SD0012", "AE", "NOPE", 2, (S1,), (1, 2)),
        ("SD0012", "AE", "OTHER", 1, (S2,), (3,))]


def test_json_keeps_every_finding_and_adds_groups(dirty_reports):
    data = json.loads((dirty_reports / "r.json").read_text())
    aeout = [f for f in data["findings"] if f["variable"] == "AEOUT"]
    assert len(aeout) == 3 and all(set(f) == set(COLUMNS) for f in data["findings"])
    (nope,) = [g for g in data["groups"] if g["value"] == "NOPE"]
    spec = rule_specs()["SD0012"]
    assert nope["count"] == 2 and nope["records"] == [1, 2] and nope["usubjids"] == [S1]
    assert nope["description"] == spec.description and nope["clause"] == spec.clause
    assert sum(g["count"] for g in data["groups"]) == len(data["findings"])


# --- rules run -----------------------------------------------------------------------------------------


def test_json_lists_every_rule_run_with_its_count(dirty_reports):
    data = json.loads((dirty_reports / "r.json").read_text())
    specs_ = rule_specs()
    assert [r["id"] for r in data["rules"]] == list(specs_)  # every rule, in rules.csv order
    by_id = {r["id"]: r for r in data["rules"]}
    for rid, r in by_id.items():
        assert (r["description"], r["clause"], r["core_id"]) == (specs_[rid].description, specs_[rid].clause,
                                                                 specs_[rid].core_id)
    assert by_id["SD0012"]["findings"] == 5 and by_id["SD0012"]["status"] == "checked"
    assert by_id["TR0001"]["findings"] == 0 and by_id["TR0001"]["status"] == "checked"
    # no define.xml in this package: the define rules could not apply, and say so
    assert {r["status"] for rid, r in by_id.items() if rid.startswith("DD")} == {"not applicable (no define.xml)"}
    assert sum(r["findings"] for r in data["rules"]) == data["errors"] + data["warnings"] + data["notes"]


def test_adam_rules_are_not_applicable_without_adam_datasets(tmp_path):
    d = frames()
    pkg = write_package(tmp_path / "sdtm-only", {k: d[k] for k in ("DM", "AE", "TS")})
    write_reports(validate_package(pkg), [tmp_path / "r.json"])
    rules = {r["id"]: r["status"] for r in json.loads((tmp_path / "r.json").read_text())["rules"]}
    assert {s for rid, s in rules.items() if rid.startswith("AD")} == {"not applicable (no ADaM datasets)"}
    assert {s for rid, s in rules.items() if rid.startswith(("SD", "TR"))} == {"checked"}


def test_every_rule_has_a_text_in_the_spec():
    for r in rule_specs().values():
        assert r.description and "{" not in r.description, r.id


# --- title --------------------------------------------------------------------------------------------


def test_title_is_the_studyid_with_standards_date_and_tool(dirty_reports):
    data = json.loads((dirty_reports / "r.json").read_text())
    assert (data["title"], data["studyid"], data["package"]) == ("ST", "ST", "pkg")
    assert data["standards"] == ["SDTMIG 3.4", "ADaMIG 1.3"]
    assert data["created"] == "2026-01-01T00:00:00"  # the datasets' XPT header date, not the clock
    assert data["tool"] == {"name": "cdisc-converter", "version": __version__}
    page = (dirty_reports / "r.html").read_text()
    assert "<title>Conformance report: ST</title>" in page and "<h1>Conformance report: ST</h1>" in page
    assert f"checked against SDTMIG 3.4 and ADaMIG 1.3 by cdisc-converter {__version__}" in page
    assert "datasets created 2026-01-01T00:00:00" in page


def test_title_falls_back_to_the_folder_without_studyid(tmp_path):
    d = {k: f.drop(columns="STUDYID") for k, f in frames().items()}
    report = validate_package(write_package(tmp_path / "nostudy", d))
    write_reports(report, [tmp_path / "r.html"])
    assert report.studyid == "" and "<h1>Conformance report: nostudy</h1>" in (tmp_path / "r.html").read_text()


def test_studyid_of_dm_comes_first(tmp_path):
    d = frames()
    d["TS"]["STUDYID"] = "TS-ONLY"
    d["ADSL"]["STUDYID"] = "AD-ONLY"
    assert validate_package(write_package(tmp_path / "p", d)).studyid == "ST"
    del d["DM"]
    assert validate_package(write_package(tmp_path / "q", d)).studyid == "TS-ONLY"


def test_sas_header_datetime():
    assert sas_datetime("04APR12:22:16:21") == dt.datetime(2012, 4, 4, 22, 16, 21)
    assert sas_datetime("01JAN60:00:00:00") == dt.datetime(1960, 1, 1)
    assert sas_datetime("31dec99:23:59:59") == dt.datetime(1999, 12, 31, 23, 59, 59)
    assert sas_datetime("        ") is None and sas_datetime("32JAN20:00:00:00") is None


# --- HTML ---------------------------------------------------------------------------------------------


def test_html_shows_rule_text_and_clause_beside_the_rule_and_escapes_data(dirty_reports):
    page = (dirty_reports / "r.html").read_text()
    spec = rule_specs()["SD0012"]
    assert f'<b>SD0012</b><div class="rt">{spec.description}</div><div class="cl">{spec.clause}</div>' in page
    assert '<td class="n">2</td><td class="m">AEOUT = &#x27;NOPE&#x27;' in page
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "No findings" not in page


def test_clean_html_says_no_findings_without_an_empty_table(clean_reports):
    page = (clean_reports / "r.html").read_text()
    assert '<p class="none">No findings.</p>' in page and "No findings: " in page
    assert "example USUBJIDs" not in page and 'id="fd"' not in page  # no findings table, no filter
    for rid in rule_specs():
        assert f"<b>{rid}</b>" in page


def test_truncated_listing_is_stated(dirty, tmp_path):
    report = run_rules(load_package(dirty), limit=1)
    write_reports(report, [tmp_path / "r.html", tmp_path / "r.json"])
    assert "Only the first 1 findings per rule and dataset are listed: SD0012 AE (1 of 3 listed)" in \
        (tmp_path / "r.html").read_text()
    summary = json.loads((tmp_path / "r.json").read_text())["summary"]
    assert {"rule": "SD0012", "dataset": "AE", "count": 3, "listed": 1}.items() <= \
        next(r for r in summary if (r["rule"], r["dataset"]) == ("SD0012", "AE")).items()


# --- XLSX ---------------------------------------------------------------------------------------------


def _header_ok(ws, head: tuple[str, ...]) -> None:
    assert tuple(c.value for c in ws[1]) == head
    assert all(c.font.b for c in ws[1])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:{ws.cell(1, len(head)).column_letter}{ws.max_row}"


def _widths_fit(ws) -> None:
    """Every column at least as wide as its header, as its longest text up to 60, never wider than 60."""
    for col in ws.iter_cols():
        letter = col[0].column_letter
        longest = max(len(str(c.value)) for c in col if c.value is not None)
        width = ws.column_dimensions[letter].width
        assert min(longest + 2, 60) <= width <= 60, (ws.title, letter, width, longest)


def test_xlsx_sheets_headers_filters_and_widths(dirty_reports):
    wb = load_workbook(dirty_reports / "r.xlsx")
    assert wb.sheetnames == ["Summary", "Findings", "Rules", "Details"]
    _header_ok(wb["Findings"], ("Severity", "Rule", "Rule text", "Clause", "Dataset", "Variable", "Value", "Count",
                                "Message", "Example USUBJIDs", "Example records"))
    _header_ok(wb["Rules"], ("Rule", "Severity", "Scope", "Rule text", "Clause", "CORE ID", "Findings", "Status"))
    _header_ok(wb["Details"], ("Rule", "Severity", "Dataset", "Record", "USUBJID", "Variable", "Value", "Message"))
    for name in ("Findings", "Rules", "Details"):
        _widths_fit(wb[name])
    summary = {r[0]: r[1] for r in wb["Summary"].iter_rows(max_row=12, values_only=True)}
    assert summary["Study"] == "ST" and summary["Standards"] == "SDTMIG 3.4, ADaMIG 1.3"
    assert summary["Checked by"] == f"cdisc-converter {__version__}" and summary["Errors"] == 5


def test_xlsx_findings_are_grouped_with_rule_texts(dirty_reports):
    wb = load_workbook(dirty_reports / "r.xlsx")
    rows = list(wb["Findings"].iter_rows(min_row=2, values_only=True))
    spec = rule_specs()["SD0012"]
    nope = [r for r in rows if r[5] == "AEOUT" and r[6] == "NOPE"]
    assert nope == [("error", "SD0012", spec.description, spec.clause, "AE", "AEOUT", "NOPE", 2,
                     "AEOUT = 'NOPE' is not in the non-extensible codelist OUT (C66768)", S1, "1, 2")]
    assert sum(r[7] for r in rows) == wb["Details"].max_row - 1  # groups cover every listed finding
    assert any(r[6] == "'=HYPERLINK(\"http://x\")" for r in rows)  # formula-looking data stays text


def test_xlsx_rules_sheet_lists_zero_count_rules(dirty_reports):
    wb = load_workbook(dirty_reports / "r.xlsx")
    rows = {r[0]: r for r in wb["Rules"].iter_rows(min_row=2, values_only=True)}
    assert list(rows) == list(rule_specs())
    specs_ = rule_specs()
    assert rows["TR0001"][3:] == (specs_["TR0001"].description, specs_["TR0001"].clause, None, 0, "checked")
    assert rows["SD0012"][6] == 5 and rows["DD0001"][7] == "not applicable (no define.xml)"
    assert rows["SD0008"][3].startswith("--DY")  # texts from specs/ are not formula-escaped


def test_clean_xlsx_says_no_findings(clean_reports):
    wb = load_workbook(clean_reports / "r.xlsx")
    for name in ("Findings", "Details"):
        ws = wb[name]
        assert ws.max_row == 1 and ws["A1"].value.startswith("No findings: ") and ws["A1"].font.b
        assert ws.auto_filter.ref is None
    rules = list(wb["Rules"].iter_rows(min_row=2, values_only=True))
    assert len(rules) == len(rule_specs()) and {r[6] for r in rules} == {0}
