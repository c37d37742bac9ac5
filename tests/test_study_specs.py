"""Study-level spec overrides: a study's specs/ (or --specs DIR) merged over the shipped specs, checked
once at load, reaching convert, adam, define and validate, and recorded in the manifest."""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pyreadstat
import pytest
from click.testing import CliRunner
from lxml import etree

import specs
from converters.cli import main
from converters.define.xmlns import DEF, ODM
from converters.pipeline import convert_study
from studybuilder import EX, changed, make_study

NS = {"odm": ODM, "def": DEF}
NEW_ROUTE = "INTRAVENOUS VIA CENTRAL LINE"  # not a CDISC ROUTE term: a sponsor extension
USUBJID_TEXT = "USUBJID = STUDYID, a hyphen and the subject number printed on the CRF."


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def add_overrides(folder: Path) -> Path:
    """An extensible CDISC codelist extended, a variable length fixed, a method reworded."""
    write(folder / "ct" / "sponsor.csv",
          f"codelist,codelist_code,codelist_name,extensible,term,term_code,decode\nROUTE,,,,{NEW_ROUTE},,"
          "Intravenous through a central venous line\n")
    write(folder / "sdtmig-3.4" / "variables.csv", "dataset,variable,length\nAE,AETERM,120\n")
    write(folder / "sdtmig-3.4" / "methods.csv", f'method,description\nMT.USUBJID,"{USUBJID_TEXT}"\n')
    return folder


def study_with_new_route(folder: Path) -> Path:
    return make_study(folder, ex=changed(EX, 3, route=NEW_ROUTE))


def codelist_values(define: Path, oid: str) -> set[str]:
    cl = etree.parse(str(define)).getroot().find(f".//odm:CodeList[@OID='{oid}']", NS)
    return {e.get("CodedValue") for e in cl}


def route_findings(report: Path) -> list[dict]:
    return [f for f in json.loads(report.read_text())["findings"] if f.get("variable") == "EXROUTE"]


# --- loading and merging --------------------------------------------------------------------------

def test_shipped_specs_without_overrides_are_the_defaults():
    assert specs.shipped().override_files == ()
    assert specs.active() is specs.shipped()
    assert specs.dataset("AE").variable("AETERM").length is None


def test_overrides_merge_over_the_shipped_specs(tmp_path):
    in_force = specs.load(add_overrides(tmp_path / "specs"))
    assert in_force.datasets("sdtmig-3.4")["AE"].variable("AETERM").length == 120
    # cells the override leaves out keep their shipped values
    aeterm = in_force.datasets("sdtmig-3.4")["AE"].variable("AETERM")
    assert (aeterm.label, aeterm.origin) == ("Reported Term for the Adverse Event", "Collected")
    route = in_force.codelist("ROUTE")
    assert NEW_ROUTE in route.values() and route.code == "C66729" and not route.sponsor
    assert route.values() - {NEW_ROUTE} == specs.shipped().codelist("ROUTE").values()
    method = next(r for r in in_force.table("methods", "sdtmig-3.4") if r["method"] == "MT.USUBJID")
    assert method["description"] == USUBJID_TEXT and method["name"] == "Unique subject identifier"
    assert [f.path for f in in_force.override_files] == ["ct/sponsor.csv", "sdtmig-3.4/methods.csv",
                                                         "sdtmig-3.4/variables.csv"]
    # the shipped set is untouched, and the override is in force only inside `using`
    assert NEW_ROUTE not in specs.codelist_values("ROUTE")
    with specs.using(in_force):
        assert NEW_ROUTE in specs.codelist_values("ROUTE")
        assert specs.dataset("AE").variable("AETERM").length == 120
    assert specs.dataset("AE").variable("AETERM").length is None


def test_new_rows_are_added(tmp_path):
    folder = tmp_path / "specs"
    write(folder / "ct" / "sponsor.csv", "codelist,codelist_name,extensible,term,decode\n"
                                         "SITEGR,Site Group,No,ASIA,Asian sites\nSITEGR,,,EUROPE,European sites\n")
    write(folder / "sdtmig-3.4" / "methods.csv", "method,name,type,description\n"
                                                 "MT.NEW,New method,Computation,Counted by hand.\n")
    in_force = specs.load(folder)
    assert in_force.codelist("SITEGR").sponsor and in_force.codelist_values("SITEGR") == {"ASIA", "EUROPE"}
    assert "MT.NEW" in {r["method"] for r in in_force.table("methods", "sdtmig-3.4")}


BAD = {
    "not an integer": ("sdtmig-3.4/variables.csv", "dataset,variable,length\nAE,AETERM,wide\n",
                       ["variables.csv", "row 2", "AE.AETERM", "length"]),
    "too long": ("sdtmig-3.4/variables.csv", "dataset,variable,length\nAE,AETERM,201\n",
                 ["row 2", "AE.AETERM", "length", "200"]),
    "unknown column": ("sdtmig-3.4/variables.csv", "dataset,variable,lenght\nAE,AETERM,20\n",
                       ["variables.csv", "unknown column", "lenght"]),
    "unknown codelist": ("sdtmig-3.4/variables.csv", "dataset,variable,codelist\nAE,AEOUT,NOSUCH\n",
                         ["row 2", "AE.AEOUT", "NOSUCH"]),
    "unknown method": ("adamig-1.3/variables.csv", "dataset,variable,method\nADSL,SAFFL,MT.NOSUCH\n",
                       ["adamig-1.3/variables.csv", "ADSL.SAFFL", "MT.NOSUCH"]),
    "incomplete new variable": ("sdtmig-3.4/variables.csv", "dataset,variable,label\nAE,AEXTRA,Extra\n",
                                ["row 2", "AE.AEXTRA", "order"]),
    "pages of a derived variable": ("sdtmig-3.4/variables.csv", "dataset,variable,crf_pages\nDM,AGE,3\nDM,ARM,4\n",
                                    ["row 3", "DM.ARM", "crf_pages", "Derived"]),
    "pages not numbers": ("sdtmig-3.4/variables.csv", "dataset,variable,crf_pages\nDM,AGE,three\n",
                          ["row 2", "DM.AGE", "crf_pages"]),
    "non-extensible CDISC list": ("ct/sponsor.csv", "codelist,term,decode\nSEX,X,Other\n",
                                  ["sponsor.csv", "row 2", "SEX", "non-extensible"]),
    "key missing": ("sdtmig-3.4/methods.csv", "name,description\nX,Y\n", ["methods.csv", "method", "missing"]),
    "same key twice": ("sdtmig-3.4/methods.csv", "method,description\nMT.SEQ,a\nMT.SEQ,b\n",
                       ["row 3", "MT.SEQ", "twice"]),
    "second annotated CRF": ("sdtmig-3.4/documents.csv", "document,kind,href,title\nsap,AnnotatedCRF,sap.pdf,SAP\n",
                             ["documents.csv", "row 2", "(sap)", "kind"]),
    "extra cell": ("sdtmig-3.4/methods.csv", "method,description\nMT.SEQ,a,b\n", ["methods.csv", "row 2", "more cells"]),
    "not overridable": ("sdtmig-3.4/ig-variables.csv", "dataset\nAE\n", ["ig-variables.csv", "not a spec file"]),
    "unknown standard": ("sdtmig-9.9/variables.csv", "dataset\nAE\n", ["sdtmig-9.9", "not a spec file"]),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_override_names_file_row_and_key(tmp_path, case):
    rel, text, expected = BAD[case]
    write(tmp_path / "specs" / rel, text)
    with pytest.raises(specs.SpecError) as err:
        specs.load(tmp_path / "specs")
    for part in expected:
        assert part in str(err.value), (part, str(err.value))


# --- through the commands ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    """The same study converted without and with its specs/ overrides."""
    root = tmp_path_factory.mktemp("study-specs")
    study = study_with_new_route(root / "study")
    refused = invoke("convert", study, "-o", root / "refused")
    add_overrides(study / "specs")
    result = invoke("convert", study, "-o", root / "pkg", "-q")
    return root, study, refused, result


def test_convert_uses_the_study_overrides(converted):
    root, study, refused, result = converted
    # the shipped ROUTE list refuses the new term at the source; the study's extension accepts it
    assert refused.exit_code == 1 and not (root / "refused").exists()
    assert NEW_ROUTE in refused.output
    assert result.exit_code == 0, result.output
    pkg = root / "pkg"
    _, meta = pyreadstat.read_xport(str(pkg / "sdtm" / "ae.xpt"), metadataonly=True)
    assert meta.variable_storage_width["AETERM"] == 120
    define = pkg / "sdtm" / "define.xml"
    root_el = etree.parse(str(define)).getroot()
    assert root_el.find(".//odm:ItemDef[@OID='IT.AE.AETERM']", NS).get("Length") == "120"
    assert NEW_ROUTE in codelist_values(define, "CL.ROUTE")
    item = root_el.find(f".//odm:CodeList[@OID='CL.ROUTE']/*[@CodedValue='{NEW_ROUTE}']", NS)
    assert item.get(f"{{{DEF}}}ExtendedValue") == "Yes"
    text = root_el.find(".//odm:MethodDef[@OID='MT.USUBJID']/odm:Description/odm:TranslatedText", NS).text
    assert text == USUBJID_TEXT
    assert route_findings(pkg / "reports" / "conformance.json") == []


def test_manifest_records_the_override_files(converted):
    root, study, _, _ = converted
    manifest = json.loads((root / "pkg" / "reports" / "manifest.json").read_text())
    recorded = {e["file"]: e["sha256"] for e in manifest["spec_overrides"]}
    assert set(recorded) == {"ct/sponsor.csv", "sdtmig-3.4/methods.csv", "sdtmig-3.4/variables.csv"}
    for rel, digest in recorded.items():
        assert hashlib.sha256((study / "specs" / rel).read_bytes()).hexdigest() == digest


def test_validate_takes_the_overrides_with_specs(converted, tmp_path):
    root, study, _, _ = converted
    shipped, overridden = tmp_path / "shipped.json", tmp_path / "overridden.json"
    invoke("validate", root / "pkg", "--report", shipped, "-q")
    invoke("validate", root / "pkg", "--specs", study / "specs", "--report", overridden, "-q")
    # under the shipped specs the sponsor term is outside the extensible list (a warning)
    assert [(f["rule"], f["dataset"]) for f in route_findings(shipped)] == [("SD0013", "EX")]
    assert route_findings(overridden) == []


def test_define_with_study_specs_and_manifest_refreshed(converted, tmp_path):
    root, study, _, _ = converted
    pkg = tmp_path / "pkg"
    shutil.copytree(root / "pkg", pkg)
    edited = tmp_path / "specs"
    shutil.copytree(study / "specs", edited)
    write(edited / "sdtmig-3.4" / "methods.csv", 'method,description\nMT.SEQ,"Records numbered per subject."\n')
    result = invoke("define", pkg, "--study", study, "--specs", edited)
    assert result.exit_code == 0, result.output
    define = etree.parse(str(pkg / "sdtm" / "define.xml")).getroot()
    texts = {m.get("OID"): m.findtext("odm:Description/odm:TranslatedText", namespaces=NS)
             for m in define.iter(f"{{{ODM}}}MethodDef")}
    assert texts["MT.SEQ"] == "Records numbered per subject."
    assert texts["MT.USUBJID"] != USUBJID_TEXT  # --specs replaces the study's folder, it does not stack
    manifest = json.loads((pkg / "reports" / "manifest.json").read_text())
    on_disk = {p.relative_to(pkg).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
               for p in sorted(pkg.rglob("*")) if p.is_file() and p.name != "manifest.json"}
    assert {o["file"]: o["sha256"] for o in manifest["outputs"]} == on_disk
    assert {e["file"] for e in manifest["spec_overrides"]} == {"ct/sponsor.csv", "sdtmig-3.4/methods.csv",
                                                               "sdtmig-3.4/variables.csv"}
    # the conformance report was re-run against the package as it is now, under the same name
    report = json.loads((pkg / "reports" / "conformance.json").read_text())
    assert report["package"] == "TST-01"


def test_a_bad_override_stops_every_command_before_writing(converted, tmp_path):
    root, study, _, _ = converted
    bad = write(tmp_path / "bad" / "sdtmig-3.4" / "variables.csv", "dataset,variable,length\nAE,AETERM,wide\n").parents[1]
    broken_study = study_with_new_route(tmp_path / "broken")
    write(broken_study / "specs" / "sdtmig-3.4" / "variables.csv", "dataset,variable,length\nAE,AETERM,wide\n")
    result = invoke("convert", broken_study, "-o", tmp_path / "out")
    assert result.exit_code == 1 and not (tmp_path / "out").exists()
    res = convert_study(broken_study, tmp_path / "out")
    assert not res.ok and not (tmp_path / "out").exists()
    assert [(p.file, p.row, p.field, p.value, p.rule) for p in res.problems] == [
        ("specs/sdtmig-3.4/variables.csv", 2, "length", "wide", "SPEC")]
    assert "AE.AETERM" in res.problems[0].message

    before = (root / "pkg" / "sdtm" / "define.xml").read_bytes()
    result = invoke("define", root / "pkg", "--specs", bad)
    assert result.exit_code == 1 and "row 2 (AE.AETERM): length" in result.output
    assert (root / "pkg" / "sdtm" / "define.xml").read_bytes() == before

    result = invoke("validate", root / "pkg", "--specs", bad, "--report", tmp_path / "r.json")
    assert result.exit_code == 2 and not (tmp_path / "r.json").exists()

    result = invoke("adam", root / "pkg" / "sdtm", "-o", tmp_path / "adam", "--specs", bad)
    assert result.exit_code == 1 and not (tmp_path / "adam").exists()


def test_adam_takes_the_overrides_with_specs(converted, tmp_path):
    root, _, _, _ = converted
    folder = tmp_path / "specs"
    write(folder / "adamig-1.3" / "methods.csv", 'method,description\nMT.SAFFL,"Y for every infused subject, else N."\n')
    result = invoke("adam", root / "pkg" / "sdtm", "-o", tmp_path / "adam", "--specs", folder, "-q")
    assert result.exit_code == 0, result.output
    define = etree.parse(str(tmp_path / "adam" / "adam" / "define.xml")).getroot()
    text = define.find(".//odm:MethodDef[@OID='MT.SAFFL']/odm:Description/odm:TranslatedText", NS).text
    assert text == "Y for every infused subject, else N."
    manifest = json.loads((tmp_path / "adam" / "reports" / "manifest.json").read_text())
    assert [e["file"] for e in manifest["spec_overrides"]] == ["adamig-1.3/methods.csv"]
