"""`cdisc compare`: a package against itself, against a copy with three known changes, a data cut,
other formats (Dataset-JSON, CSV) and bad input."""
from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters.cli import main
from converters.compare.cut import cut_view
from converters.compare.package import compare_packages
from converters.compare.tables import read_table
from converters.pipeline import convert_study
from converters.xpt import XptVariable, write_xpt
from datacut import cut_example
from studybuilder import EXAMPLE

SHARED = Path(__file__).resolve().parents[2] / "shared" / "reference"
CUTOFF = "2023-06-30"


@pytest.fixture(scope="module")
def packages(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("compare")
    new = convert_study(EXAMPLE, base / "new")
    old = convert_study(cut_example(base / "cut-study", CUTOFF), base / "old")
    assert new.ok and old.ok, (new.problems[:3], old.problems[:3])
    return {"new": base / "new", "old": base / "old", "cut-study": base / "cut-study", "root": base}


def rewrite(path: Path, change) -> None:
    """Write an XPT file again with the project's writer after ``change(table)`` edits frame or labels."""
    t = read_table(path)
    change(t)
    variables = [XptVariable(c, t.labels[c], t.types[c], t.lengths.get(c) if t.types[c] == "Char" else 8,
                             t.formats.get(c, "")) for c in t.frame.columns]
    write_xpt(path, t.frame, dataset=t.name, label=t.label, variables=variables, created=dt.datetime(2024, 12, 31))


def run(*args) -> tuple[int, str]:
    res = CliRunner().invoke(main, ["compare", *map(str, args)])
    return res.exit_code, res.output


def test_a_package_equals_itself(packages):
    code, out = run(packages["new"], packages["new"])
    assert code == 0, out
    assert out.rstrip().endswith("EQUAL")
    assert "ADTTE: equal (62 records)" in out


def test_three_changes_are_reported_exactly(packages, tmp_path):
    copy = tmp_path / "changed"
    shutil.copytree(packages["new"], copy)

    def ae_cell(t):
        t.frame.loc[4, "AETERM"] = "Changed term"

    def rs_row(t):
        t.frame.drop(index=7, inplace=True)
        t.frame.reset_index(drop=True, inplace=True)

    def relabel(t):
        t.labels["AGE"] = "Age at Consent"

    rewrite(copy / "sdtm" / "ae.xpt", ae_cell)
    rewrite(copy / "sdtm" / "rs.xpt", rs_row)
    rewrite(copy / "sdtm" / "dm.xpt", relabel)
    ae = read_table(packages["new"] / "sdtm" / "ae.xpt").frame
    rs = read_table(packages["new"] / "sdtm" / "rs.xpt").frame
    result = compare_packages(packages["new"], copy)
    different = [d for d in result.datasets if not d.equal]
    assert [d.name for d in different] == ["AE", "DM", "RS"]
    ae_diff, dm_diff, rs_diff = different
    assert [(c.variable, c.count) for c in ae_diff.cells] == [("AETERM", 1)]
    example = ae_diff.cells[0].examples[0]
    assert example["base"] == ae.loc[4, "AETERM"] and example["compare"] == "Changed term"
    assert example["keys"]["USUBJID"] == ae.loc[4, "USUBJID"] and example["keys"]["AESPID"] == ae.loc[4, "AESPID"]
    assert (ae_diff.only_base, ae_diff.only_compare, ae_diff.attributes) == (0, 0, [])
    assert [(a.variable, a.attribute, a.base, a.compare) for a in dm_diff.attributes] == [
        ("AGE", "label", "Age", "Age at Consent")]
    assert dm_diff.cells == [] and dm_diff.only_base == 0
    assert (rs_diff.only_base, rs_diff.only_compare, rs_diff.cells, rs_diff.attributes) == (1, 0, [], [])
    assert rs_diff.only_base_examples[0]["RSDTC"] == rs.loc[7, "RSDTC"]
    assert rs_diff.only_base_examples[0]["RSTESTCD"] == rs.loc[7, "RSTESTCD"]
    code, out = run(packages["new"], copy, "--report", tmp_path / "r.json", "--report", tmp_path / "r.html",
                    "--report", tmp_path / "r.xlsx")
    assert code == 1
    assert "AETERM: 1" in out and "label of AGE: Age (base) vs Age at Consent (compare)" in out
    assert "records only in base: 1" in out
    data = json.loads((tmp_path / "r.json").read_text())
    assert [d["dataset"] for d in data["datasets"] if not d["equal"]] == ["AE", "DM", "RS"]
    assert "Changed term" in (tmp_path / "r.html").read_text()
    assert (tmp_path / "r.xlsx").stat().st_size > 0


def test_tolerance_and_keys_options(packages, tmp_path):
    copy = tmp_path / "num"
    shutil.copytree(packages["new"], copy)

    def nudge(t):
        t.frame.loc[0, "AVAL"] = t.frame.loc[0, "AVAL"] + 0.001  # 7.7e-7 relative

    rewrite(copy / "adam" / "adtte.xpt", nudge)
    assert run(packages["new"], copy, "-d", "ADTTE")[0] == 1
    assert run(packages["new"], copy, "-d", "ADTTE", "--tolerance", "1e-5")[0] == 0
    code, out = run(packages["new"], copy, "-d", "ADTTE", "--keys", "USUBJID,PARAMCD", "--tolerance", "1e-5")
    assert code == 0, out
    code, out = run(packages["new"], copy, "-d", "ADTTE", "--keys", "NOSUCHVAR")
    assert code == 2 and "NOSUCHVAR" in out


def test_csv_and_dataset_json_files_compare_with_xpt(packages, tmp_path):
    t = read_table(packages["new"] / "sdtm" / "dm.xpt")
    path = tmp_path / "dm.csv"
    t.frame.to_csv(path, index=False)  # numbers as 45.0, text untyped: compared as the XPT's types
    result = compare_packages(path, packages["new"] / "sdtm" / "dm.xpt")
    d = result.datasets[0]
    assert d.equal and d.matched == 31


def dataset_json(t, path: Path, labels: dict | None = None) -> Path:
    """Dataset-JSON 1.1 of a table (what another tool might hand over)."""
    columns = [{"itemOID": f"IT.{t.name}.{c}", "name": c, "label": (labels or {}).get(c, t.labels[c]),
                "dataType": "double" if t.types[c] == "Num" else "string",
                **({"length": t.lengths[c]} if c in t.lengths else {})} for c in t.frame.columns]
    rows = [[None if isinstance(v, float) and v != v else v for v in r] for r in t.frame.itertuples(index=False)]
    path.write_text(json.dumps({"datasetJSONCreationDateTime": "2025-01-01T00:00:00", "datasetJSONVersion": "1.1.0",
                                "itemGroupOID": f"IG.{t.name}", "records": len(rows), "name": t.name,
                                "label": t.label, "columns": columns, "rows": rows}), encoding="utf-8")
    return path


def test_dataset_json_against_xpt(packages, tmp_path):
    xpt = packages["new"] / "sdtm" / "dm.xpt"
    t = read_table(xpt)
    same = compare_packages(dataset_json(t, tmp_path / "dm.json"), xpt).datasets[0]
    assert same.equal and same.matched == 31
    relabelled = compare_packages(dataset_json(t, tmp_path / "dm2.json", {"SEX": "Gender"}), xpt).datasets[0]
    assert [(a.variable, a.attribute, a.base, a.compare) for a in relabelled.attributes] == [("SEX", "label", "Gender", "Sex")]


def test_bad_input_cannot_run(packages, tmp_path):
    assert run(packages["new"], tmp_path / "missing")[0] == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    code, out = run(packages["new"], empty)
    assert code == 2 and "no dataset files" in out
    code, out = run(packages["new"], packages["new"], "-d", "XX")
    assert code == 2 and "XX" in out
    broken = tmp_path / "broken"
    shutil.copytree(packages["new"], broken)
    (broken / "sdtm" / "ae.xpt").write_bytes(b"not a transport file")
    code, out = run(packages["new"], broken, "-d", "AE")
    assert code == 2 and "ae.xpt" in out
    assert run(packages["new"], packages["new"], "--report", tmp_path / "r.md")[0] == 2  # .md only with --cut
    code, out = run(packages["new"], packages["new"] / "sdtm" / "dm.xpt")
    assert code == 2 and "not one of each" in out
    (tmp_path / "x.json").write_text('{"rows": []}')
    code, out = run(tmp_path / "x.json", tmp_path / "x.json")
    assert code == 2 and "x.json" in out and "lacks a required attribute" in out


# --- data cut ------------------------------------------------------------------------------------

def raw_rows(study: Path, name: str) -> list[dict]:
    with open(study / "source" / name, newline="", encoding="utf-8-sig") as fh:
        return list(csv.DictReader(fh))


def events_by(study: Path, cutoff: str) -> dict[str, tuple[set[str], set[str]]]:
    """Independently of the ADaM code, from the raw files: per parameter, (population, subjects with an
    event) by ``cutoff``; OS and PFS count from the infusion, DOR from a CR/CRi."""
    subjects = {s["SUBJNO"]: s for s in raw_rows(study, "subjects.csv")
                if s["infusion_date"] and s["infusion_date"] <= cutoff}
    rs = [r for r in raw_rows(study, "response.csv") if r["assessment_date"] <= cutoff]
    died = {k for k, s in subjects.items() if s["death_date"] and s["death_date"] <= cutoff}
    prog = {r["SUBJNO"] for r in rs if r["overall_response"] in ("PD", "RELAPSE")}
    responders = {r["SUBJNO"] for r in rs if r["overall_response"] in ("CR", "CRi")}
    infused = set(subjects)
    return {"OS": (infused, died), "PFS": (infused, (died | prog) & infused), "DOR": (responders, (died | prog) & responders)}


def test_cut_lists_the_subjects_whose_censoring_changed(packages):
    view = cut_view(packages["old"], packages["new"])
    old, new = events_by(EXAMPLE, CUTOFF), events_by(EXAMPLE, "2024-11-30")
    usubjid = "SSCART19-101-{}".format
    for param in ("OS", "PFS", "DOR"):
        in_both = old[param][0] & new[param][0]
        flipped = (old[param][1] ^ new[param][1]) & in_both
        assert set(view.parameter(param).flipped()) == {usubjid(s) for s in flipped}, param
        added = new[param][0] - old[param][0]
        assert {c.usubjid for c in view.parameter(param).changes if c.change == "added"} == {usubjid(s) for s in added}
    assert len(view.parameter("PFS").flipped()) == 4  # the cut does change PFS censoring
    assert view.cutoff == (CUTOFF, "2024-11-30")
    consented_later = {s["SUBJNO"] for s in raw_rows(EXAMPLE, "subjects.csv") if s["informed_consent_date"] > CUTOFF}
    assert set(view.added) == {usubjid(s) for s in consented_later} and view.removed == []


def test_cut_reports_in_markdown_html_and_json(packages, tmp_path):
    code, out = run(packages["old"], packages["new"], "--cut", "-q", "--report", tmp_path / "cut.md",
                    "--report", tmp_path / "cut.html", "--report", tmp_path / "cut.json")
    assert code == 1
    md = (tmp_path / "cut.md").read_text()
    assert "| SSCART19-101-006 | censored -> event |" in md and "RELAPSE OR DISEASE PROGRESSION" in md
    assert "<h1>Data cut comparison</h1>" in (tmp_path / "cut.html").read_text()
    data = json.loads((tmp_path / "cut.json").read_text())
    pfs = next(p for p in data["cut"]["tte"] if p["paramcd"] == "PFS")
    assert {c["usubjid"] for c in pfs["changes"] if "->" in c["change"]} == set(
        cut_view(packages["old"], packages["new"]).parameter("PFS").flipped())


def test_cut_needs_adam(packages, tmp_path):
    sdtm_only = tmp_path / "sdtm-only"
    shutil.copytree(packages["new"] / "sdtm", sdtm_only / "sdtm")
    code, out = run(sdtm_only, sdtm_only, "--cut")
    assert code == 2 and "ADSL" in out


# --- real data -------------------------------------------------------------------------------------

@pytest.mark.skipif(not (SHARED / "pharmaverse" / "sdtm").is_dir() or not (SHARED / "cdiscpilot01" / "sdtm").is_dir(),
                    reason="../shared reference data absent")
def test_pilot_sdtm_csv_against_xpt():
    result = compare_packages(SHARED / "pharmaverse" / "sdtm", SHARED / "cdiscpilot01" / "sdtm")
    by = {d.name: d for d in result.datasets}
    assert by["AE"].equal and by["AE"].matched == 1191
    assert by["EX"].equal and by["DM"].records_pct == 100.0
    assert by["DM"].only_base_vars == ["BRTHDTC", "ARMNRS", "ACTARMUD"]
    assert 0 < by["DS"].cells_pct < 100
    assert "VS" in result.only_base


@pytest.mark.skipif(not (SHARED / "dataset-json-1.1" / "examples" / "adam").is_dir(), reason="../shared absent")
def test_dataset_json_equals_its_xpt():
    folder = SHARED / "dataset-json-1.1" / "examples" / "adam"
    for name in ("adsl", "adtte"):
        d = compare_packages(folder / f"{name}.json", folder / f"{name}.xpt").datasets[0]
        assert d.cells == [] and d.only_base == d.only_compare == 0 and d.matched > 0, name


@pytest.mark.parametrize("suffix", [".json", ".ndjson", ".dsjc"])
def test_dataset_json_written_by_the_package_compares_equal_to_its_xpt(packages, tmp_path, suffix):
    from converters.datasets import read, write

    xpt = packages["new"] / "sdtm" / "ae.xpt"
    frame, meta = read(xpt)
    write(tmp_path / f"ae{suffix}", frame, meta)
    result = compare_packages(xpt, tmp_path / f"ae{suffix}").datasets[0]
    assert result.equal and result.matched == len(frame) == 190
