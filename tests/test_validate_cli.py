"""`cdisc validate` end to end: exit status, reports (JSON/HTML/XLSX), safe XML, the CDISC pilot."""
from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters.cli import main
from converters.validate import validate_package, write_reports
from converters.validate.report import cell
from validate_fixtures import frames, write_package

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PILOT = SHARED / "reference" / "cdiscpilot01" / "sdtm"


@pytest.fixture
def valid(tmp_path) -> Path:
    return write_package(tmp_path / "valid", frames())


@pytest.fixture
def broken(tmp_path) -> Path:
    d = frames()
    d["DM"].loc[0, "SEX"] = "=HYPERLINK(\"http://x\")"  # an error (CT) and a formula-looking value
    d["TS"] = d["TS"][d["TS"]["TSPARMCD"] != "TITLE"]  # a warning only
    return write_package(tmp_path / "broken", d)


def run(*args):
    return CliRunner().invoke(main, ["validate", *map(str, args)])


def test_exit_status(valid, broken, tmp_path):
    assert run(valid).exit_code == 0
    assert run(broken).exit_code == 1
    assert run(tmp_path / "nope").exit_code == 2
    (tmp_path / "empty").mkdir()
    assert run(tmp_path / "empty").exit_code == 2
    assert run(valid, "--report", tmp_path / "r.txt").exit_code == 2


def test_fail_on_warning(tmp_path):
    d = frames()
    d["TS"] = d["TS"][d["TS"]["TSPARMCD"] != "TITLE"]
    pkg = write_package(tmp_path / "p", d)
    assert run(pkg).exit_code == 0
    assert run(pkg, "--fail-on", "warning").exit_code == 1


def test_unreadable_file_exits_2(tmp_path, valid):
    (valid / "sdtm" / "xx.xpt").write_bytes(b"not a transport file")
    assert run(valid).exit_code == 2


def test_terminal_summary_and_quiet(broken):
    out = run(broken).output
    assert "SD0012" in out and "DM" in out and "first" in out
    quiet = run(broken, "-q").output.strip().splitlines()
    assert quiet == ["broken: 1 error(s), 1 warning(s)"]


def test_reports_are_deterministic_and_escaped(broken, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for folder in (a, b):
        res = run(broken, "--report", folder / "r.json", "--report", folder / "r.html", "--report", folder / "r.xlsx")
        assert res.exit_code == 1
    for name in ("r.json", "r.html", "r.xlsx"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    data = json.loads((a / "r.json").read_text())
    assert data["errors"] == 1 and data["warnings"] == 1
    assert [f["rule"] for f in data["findings"]] == ["SD0012", "SD0021"]
    page = (a / "r.html").read_text()
    assert "<script>" in page and "http://" not in page.replace('HYPERLINK(&quot;http://x&quot;)', "")
    assert "<link" not in page and "src=" not in page
    with zipfile.ZipFile(a / "r.xlsx") as z:
        sheets = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    assert "'=HYPERLINK" in sheets and "<f>" not in sheets  # data never becomes a formula
    assert [g["rule"] for g in data["groups"]] == ["SD0012", "SD0021"] and data["title"] == "ST"


def test_cell_escaping():
    assert cell("=1+1") == "'=1+1" and cell("+x") == "'+x" and cell("-2") == "'-2" and cell("@a") == "'@a"
    assert cell("ok") == "ok" and cell(3) == 3


def test_write_reports_api(valid, tmp_path):
    report = validate_package(valid)
    write_reports(report, [tmp_path / "reports" / "conformance.json", tmp_path / "reports" / "conformance.html"])
    assert json.loads((tmp_path / "reports" / "conformance.json").read_text())["errors"] == 0
    assert report.exit_status() == 0


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">]>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><Study OID="&lol9;"/></ODM>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE ODM [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><Study OID="&xxe;"/></ODM>
"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, XXE], ids=["billion-laughs", "external-entity"])
def test_hostile_define_is_refused_quickly(text, valid, tmp_path):
    define = tmp_path / "define.xml"
    define.write_text(text)
    start = time.perf_counter()
    report = validate_package(valid, define)
    assert time.perf_counter() - start < 5
    refused = [f for f in report.findings if f.rule == "DD0001"]
    assert len(refused) == 1 and "DTD" in refused[0].message
    assert "root:" not in json.dumps([f.message for f in report.findings])
    assert report.exit_status() == 1


def test_define_option_and_autodetect(valid, tmp_path):
    (valid / "sdtm" / "define.xml").write_text("<not xml")
    assert any(f.rule == "DD0001" for f in validate_package(valid).findings)
    assert run(valid, "--define", tmp_path / "missing.xml").exit_code == 2


@pytest.mark.skipif(not PILOT.is_dir(), reason="CDISC pilot reference data not available")
@pytest.mark.parametrize("folder", ["", "tdf"])
def test_cdisc_pilot_runs_to_the_end(folder):
    report = validate_package(PILOT / folder if folder else PILOT)
    assert len(report.datasets) == 18
    # ts.xpt holds a cp1252 apostrophe: read with the fallback, reported, not a crash
    assert report.counts.get(("TR0008", "TS")) == 1
    assert any(f.rule == "TR0007" and "Alzheimer\u2019s" in f.value for f in report.findings)
    assert report.counts.get(("DD0003", "DEFINE")) == 1  # Define-XML 1.0 / 2.0, not 2.1
    assert report.errors > 0


def test_our_sdtm_spec_chooses_the_codelist_where_the_ig_allows_several(tmp_path):
    """RSCAT of an oncology response is checked against ONCRSCAT (our spec), not the IG export's
    clinical-classification list, so a converted study has no 'codelist not checked' note and a bad
    RSCAT is caught as an extensible-codelist warning."""
    import pandas as pd
    import pyreadstat
    from studybuilder import make_study
    from converters.pipeline import convert_study
    from converters.validate import validate_package
    from converters.xpt import XptVariable, write_xpt

    res = convert_study(make_study(tmp_path / "study"), tmp_path / "pkg")
    assert res.ok
    report = validate_package(tmp_path / "pkg")
    assert not [k for k in report.counts if k[0] == "SD0014"]
    rs, meta = pyreadstat.read_xport(str(tmp_path / "pkg" / "sdtm" / "rs.xpt"))
    rs.loc[0, "RSCAT"] = "NOT A CATEGORY"
    variables = [XptVariable(c, meta.column_names_to_labels[c], "Char" if rs[c].dtype == object else "Num")
                 for c in rs.columns]
    write_xpt(tmp_path / "pkg" / "sdtm" / "rs.xpt", rs, dataset="RS", label=meta.file_label,
              variables=variables, created=pd.Timestamp("2024-01-01").to_pydatetime())
    report = validate_package(tmp_path / "pkg")
    assert report.counts.get(("SD0013", "RS")) == 1
