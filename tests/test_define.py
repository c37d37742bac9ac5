"""Define-XML 2.1: schema validity, references, agreement with the XPT files, determinism, rendering."""
from __future__ import annotations

import copy
import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from lxml import etree

import specs
from converters.cli import main
from converters.define import (DefineError, build_define, reference_errors, schema_errors, standard_ref,
                               write_define)
from converters.define import items, resources
from converters.define.build import _class_names, standard_for_folder
from converters.define.package import XptFile, package_datetime, read_folder
from converters.define.valuelevel import param_slices
from converters.define.xmlns import DEF, ODM
from converters.pipeline import convert_study
from converters.xpt import XptVariable, write_xpt
from schemas.config import load_config
from studybuilder import make_study

NS = {"odm": ODM, "def": DEF}
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("define")
    study = make_study(root / "study")
    out = root / "pkg"
    assert convert_study(study, out).ok
    write_define(out, "sdtmig-3.4", load_config(study))
    return out


@pytest.fixture(scope="module")
def tree(package: Path) -> etree._ElementTree:
    return resources.parse(package / "sdtm" / "define.xml")


@pytest.fixture(scope="module")
def xpts(package: Path) -> dict[str, XptFile]:
    return {f.name: f for f in read_folder(package / "sdtm")}


def _by_oid(tree, tag: str) -> dict[str, etree._Element]:
    return {e.get("OID"): e for e in tree.getroot().iter(tag)}


def _codelist_values(tree, oid: str) -> set[str]:
    cl = _by_oid(tree, f"{{{ODM}}}CodeList")[oid]
    return {e.get("CodedValue") for e in cl if etree.QName(e).localname in ("CodeListItem", "EnumeratedItem")}


def _as_text(v) -> str:
    return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)


# --- schema and references --------------------------------------------------------------------------

def test_define_is_schema_valid_and_references_resolve(tree):
    assert schema_errors(tree) == []
    assert reference_errors(tree) == []


def test_removed_required_attribute_fails_schema(tree):
    broken = copy.deepcopy(tree)
    del next(broken.getroot().iter(f"{{{ODM}}}ItemDef")).attrib["DataType"]
    errors = schema_errors(broken)
    assert errors and any("DataType" in e for e in errors)


def test_dangling_item_ref_is_reported(tree):
    broken = copy.deepcopy(tree)
    next(broken.getroot().iter(f"{{{ODM}}}ItemRef")).set("ItemOID", "IT.NOWHERE")
    assert any("IT.NOWHERE" in e for e in reference_errors(broken))


def test_write_define_refuses_an_undescribable_dataset(tmp_path, package):
    pkg = tmp_path / "pkg"
    shutil.copytree(package / "sdtm", pkg / "sdtm")
    (pkg / "sdtm" / "define.xml").unlink()
    write_xpt(pkg / "sdtm" / "xx.xpt", pd.DataFrame({"STUDYID": ["S"]}), dataset="XX", label="Custom",
              variables=[XptVariable("STUDYID", "Study Identifier", "Char")], created=dt.datetime(2024, 1, 1))
    with pytest.raises(DefineError, match="XX|xx.xpt"):
        write_define(pkg, "sdtmig-3.4", None)
    assert not (pkg / "sdtm" / "define.xml").exists()
    (pkg / "sdtm" / "xx.xpt").unlink()
    shutil.copyfile(pkg / "sdtm" / "dm.xpt", pkg / "sdtm" / "dm2.xpt")  # the same dataset twice
    with pytest.raises(DefineError, match="more than one file"):
        write_define(pkg, "sdtmig-3.4", None)


# --- agreement with the data --------------------------------------------------------------------------

def test_every_xpt_variable_has_an_item_ref_and_back(tree, xpts):
    groups = _by_oid(tree, f"{{{ODM}}}ItemGroupDef")
    assert set(groups) == {f"IG.{n}" for n in xpts}
    for name, f in xpts.items():
        refs = [r.get("ItemOID") for r in groups[f"IG.{name}"].findall("odm:ItemRef", NS)]
        assert refs == [f"IT.{name}.{c}" for c in f.frame.columns]
        leaf = groups[f"IG.{name}"].find("def:leaf", NS)
        assert leaf.get("{http://www.w3.org/1999/xlink}href") == f.path.name


def test_text_lengths_equal_xpt_storage_widths(tree, xpts):
    item_defs = _by_oid(tree, f"{{{ODM}}}ItemDef")
    checked = 0
    for name, f in xpts.items():
        for col in f.frame.columns:
            item = item_defs[f"IT.{name}.{col}"]
            if item.get("DataType") == "text":
                assert int(item.get("Length")) == f.widths[col], (name, col)
                checked += 1
            elif f.char[col]:  # ISO 8601 text has a date type and no Length (Define-XML 2.1 5.3.11.1)
                assert col.endswith(("DTC", "DUR")) and item.get("Length") is None
    assert checked > 50


def test_keys_mandatory_and_methods_follow_the_spec(tree):
    dm = _by_oid(tree, f"{{{ODM}}}ItemGroupDef")["IG.DM"]
    refs = {r.get("ItemOID"): r for r in dm.findall("odm:ItemRef", NS)}
    assert refs["IT.DM.STUDYID"].get("KeySequence") == "1" and refs["IT.DM.USUBJID"].get("KeySequence") == "2"
    assert refs["IT.DM.USUBJID"].get("MethodOID") == "MT.USUBJID"
    assert refs["IT.DM.SEX"].get("Mandatory") == "Yes" and refs["IT.DM.AGE"].get("Mandatory") == "No"
    assert refs["IT.DM.SEX"].get("Role") == "Record Qualifier"
    assert dm.find("def:Class", NS).get("Name") == "SPECIAL PURPOSE"
    groups = _by_oid(tree, f"{{{ODM}}}ItemGroupDef")
    assert groups["IG.TS"].get("IsReferenceData") == "Yes"
    assert groups["IG.SUPPDM"].find("def:Class", NS).get("Name") == "RELATIONSHIP"
    assert groups["IG.SUPPDM"].get("Domain") == "DM"
    methods = _by_oid(tree, f"{{{ODM}}}MethodDef")
    assert "SUBJID" in methods["MT.USUBJID"].findtext("odm:Description/odm:TranslatedText", namespaces=NS)


def test_every_value_of_a_coded_variable_is_in_its_codelist(tree, xpts):
    item_defs = _by_oid(tree, f"{{{ODM}}}ItemDef")
    checked = 0
    for name, f in xpts.items():
        for col in f.frame.columns:
            ref = item_defs[f"IT.{name}.{col}"].find("odm:CodeListRef", NS)
            if ref is None or ref.get("CodeListOID") == "CL.MEDDRA":
                continue
            allowed = _codelist_values(tree, ref.get("CodeListOID"))
            assert {_as_text(v) for v in f.values(col)} <= allowed, (name, col)
            checked += 1
    assert checked >= 10
    assert _codelist_values(tree, "CL.SEX") == set(xpts["DM"].values("SEX"))  # used terms only


def test_every_where_clause_selects_records_and_value_level_codelists_hold(tree, xpts):
    item_defs = _by_oid(tree, f"{{{ODM}}}ItemDef")
    clauses = _by_oid(tree, f"{{{DEF}}}WhereClauseDef")
    assert clauses
    for vl in tree.getroot().iter(f"{{{DEF}}}ValueListDef"):
        _, ds, target = vl.get("OID").split(".")
        for ref in vl.findall("odm:ItemRef", NS):
            check = clauses[ref.find("def:WhereClauseRef", NS).get("WhereClauseOID")].find("odm:RangeCheck", NS)
            key = item_defs[check.get(f"{{{DEF}}}ItemOID")].get("Name")
            rows = xpts[ds].frame[xpts[ds].frame[key] == check.findtext("odm:CheckValue", namespaces=NS)]
            assert len(rows) > 0
            cl = item_defs[ref.get("ItemOID")].find("odm:CodeListRef", NS)
            if cl is not None:
                assert set(rows[target].dropna()) <= _codelist_values(tree, cl.get("CodeListOID"))
    rs_orres = {r.get("ItemOID") for r in _by_oid(tree, f"{{{DEF}}}ValueListDef")["VL.RS.RSORRES"]}
    assert rs_orres == {f"IT.RS.RSORRES.{t}" for t in xpts["RS"].values("RSTESTCD")}
    overall = item_defs["IT.RS.RSORRES.OVRLRESP"].find("odm:CodeListRef", NS).get("CodeListOID")
    assert overall == "CL.RESPSRC"  # the collected list named by rs_tests.csv
    label = item_defs["IT.RS.RSORRES.OVRLRESP"].findtext("odm:Description/odm:TranslatedText", namespaces=NS)
    assert label.startswith(xpts["RS"].frame.loc[xpts["RS"].frame["RSTESTCD"] == "OVRLRESP", "RSTEST"].iloc[0])


def test_meddra_is_an_external_dictionary(tree):
    item = _by_oid(tree, f"{{{ODM}}}ItemDef")["IT.AE.AEDECOD"]
    assert item.find("odm:CodeListRef", NS).get("CodeListOID") == "CL.MEDDRA"
    ext = _by_oid(tree, f"{{{ODM}}}CodeList")["CL.MEDDRA"].find("odm:ExternalCodeList", NS)
    assert ext.get("Dictionary") == "MedDRA" and ext.get("Version")


def test_header_is_from_the_configuration_not_the_clock(tree, package):
    root = tree.getroot()
    config = load_config(package.parent / "study")
    assert root.get("CreationDateTime") == package_datetime(config, [])
    assert root.get(f"{{{DEF}}}Context") == "Submission" and root.get("FileType") == "Snapshot"
    std = {s.get("Type"): s for s in root.iter(f"{{{DEF}}}Standard")}
    assert (std["IG"].get("Name"), std["IG"].get("Version")) == ("SDTMIG", "3.4")
    assert (std["CT"].get("PublishingSet"), std["CT"].get("Version")) == ("SDTM", specs.CT_VERSION)
    assert root.find(".//odm:StudyDescription", NS).text == "Test study"


def test_without_configuration_study_comes_from_ts(package, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    tree = build_define(package / "sdtm", "sdtmig-3.4", None)
    gv = tree.getroot().find(".//odm:GlobalVariables", NS)
    assert gv.findtext("odm:StudyName", namespaces=NS) == "TST-01"
    assert gv.findtext("odm:StudyDescription", namespaces=NS) == "Test study"
    assert schema_errors(tree) == []


# --- determinism, files, rendering --------------------------------------------------------------------

def test_identical_bytes_across_runs(tmp_path, package):
    digests = []
    for run in ("a", "b"):
        pkg = tmp_path / run
        shutil.copytree(package / "sdtm", pkg / "sdtm")
        write_define(pkg, "sdtmig-3.4", None)
        digests.append(((pkg / "sdtm" / "define.xml").read_bytes(), (pkg / "sdtm" / "define.html").read_bytes()))
    assert digests[0] == digests[1]
    assert digests[0][0].startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet type="text/xsl" '
                                    b'href="define2-1.xsl"?>')


def test_stylesheet_and_html_beside_define(package, xpts):
    folder = package / "sdtm"
    assert (folder / "define2-1.xsl").read_bytes() == resources.stylesheet_path().read_bytes()
    html = (folder / "define.html").read_text(encoding="utf-8")
    for name in xpts:
        assert f"{name.lower()}.xpt" in html and name in html
    assert "Overall Response" in html and "Unique subject identifier" in html


def test_parser_does_not_expand_entities(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    evil = tmp_path / "evil.xml"
    evil.write_text(f'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file://{secret}">]><x>&e;</x>')
    assert b"TOPSECRET" not in etree.tostring(resources.parse(evil))


def test_cli_define_regenerates(tmp_path, package):
    pkg = tmp_path / "pkg"
    shutil.copytree(package / "sdtm", pkg / "sdtm")
    (pkg / "sdtm" / "define.xml").unlink()
    result = CliRunner().invoke(main, ["define", str(pkg)])
    assert result.exit_code == 0, result.output
    assert schema_errors(resources.parse(pkg / "sdtm" / "define.xml")) == []
    assert CliRunner().invoke(main, ["define", str(tmp_path)]).exit_code == 2


@pytest.mark.skipif(not CHROMIUM.exists(), reason="chromium not installed")
def test_define_html_renders_in_chromium(tmp_path, package, xpts):
    html = (package / "sdtm" / "define.html").resolve()
    base = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}"]
    png = tmp_path / "define.png"
    subprocess.run(base + [f"--screenshot={png}", "--window-size=1280,2000", html.as_uri()],
                   check=True, capture_output=True, timeout=120)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000  # a blank page compresses to a few KB
    dom = subprocess.run(base + ["--dump-dom", html.as_uri()], check=True, capture_output=True,
                         timeout=120, text=True).stdout
    for name in xpts:
        assert f"{name.lower()}.xpt" in dom


# --- generic parts (ADaM shapes) ----------------------------------------------------------------------

def test_standard_folders_map_to_define_standards():
    assert (standard_ref("sdtmig-3.4").name, standard_ref("sdtmig-3.4").version) == ("SDTMIG", "3.4")
    adam = standard_ref("adamig-1.3")
    assert (adam.name, adam.version, adam.subdir, adam.purpose) == ("ADaMIG", "1.3", "adam", "Analysis")
    assert standard_for_folder("sdtm") == "sdtmig-3.4"
    with pytest.raises(DefineError):
        standard_ref("foo")


def _xpt(name: str, frame: pd.DataFrame) -> XptFile:
    char = {c: frame[c].dtype == object for c in frame.columns}
    return XptFile(name, Path(f"{name.lower()}.xpt"), frame, {c: 8 for c in frame.columns}, char, None)


def test_bds_value_level_by_paramcd_and_tte_subclass():
    frame = pd.DataFrame({"USUBJID": ["1", "1", "2"], "PARAMCD": ["OS", "PFS", "OS"],
                          "PARAM": ["Overall Survival (days)", "PFS (days)", "Overall Survival (days)"],
                          "AVAL": [10.0, 2.5, 7.0], "AVALC": [None, None, None], "CNSR": [0.0, 1.0, 0.0]})
    spec = specs.Dataset("ADTTE", "Time-to-Event", "BASIC DATA STRUCTURE", "One record per subject per parameter",
                         ("USUBJID", "PARAMCD"), ())
    f = _xpt("ADTTE", frame)
    got = [(s.target, s.value, s.label) for s in param_slices(spec, f, "adamig-1.3")]
    assert got == [("AVAL", "OS", "Overall Survival (days)"), ("AVAL", "PFS", "PFS (days)")]
    assert _class_names(spec, f) == ("BASIC DATA STRUCTURE", "TIME-TO-EVENT")


@pytest.mark.parametrize("values, expected", [
    (["2021-01-02", "2021-02-03"], "date"), (["2021-01", "2021-02-03"], "partialDate"),
    (["2021-01-02T10:00:00"], "datetime"), (["2021-01-02T10:00"], "partialDatetime"), ([], "date")])
def test_iso8601_data_types(values, expected):
    assert items.iso8601_type(pd.Series(values, dtype=object)) == expected


def test_numeric_types_and_sas_dates():
    assert items.numeric_type(pd.Series([30.0, 101.0])) == items.DataType("integer", 3)
    assert items.numeric_type(pd.Series([1.25, 10.5])) == items.DataType("float", 4, 2)
    d = items.item_type("TRTSDT", False, pd.Series([22000.0]), 8, "DATE9.")
    assert d.name == "integer"


def test_listed_terms_subset_extend_and_sponsor():
    ny = specs.codelist("NY")
    assert [t.term.value for t in items.listed_terms(ny, {"Y"})] == ["Y"]
    ext = next(c for c in specs.codelists().values() if c.extensible and not c.sponsor and c.code)
    terms = items.listed_terms(ext, {"SPONSOR VALUE"})
    assert [(t.term.value, t.extended) for t in terms] == [("SPONSOR VALUE", True)]
    resp = specs.codelist("RESPSRC")
    assert len(items.listed_terms(resp, {"CR"})) == len(resp.terms)


def test_adam_define_when_the_package_has_adam(package):
    assert (package / "adam").is_dir()  # cdisc convert always derives ADaM
    out = write_define(package, "adamig-1.3", None)
    tree = resources.parse(out)
    assert schema_errors(tree) == [] and reference_errors(tree) == []
    std = next(s for s in tree.getroot().iter(f"{{{DEF}}}Standard") if s.get("Type") == "IG")
    assert (std.get("Name"), std.get("Version")) == ("ADaMIG", "1.3")
    groups = _by_oid(tree, f"{{{ODM}}}ItemGroupDef")
    assert {g.get("Purpose") for g in groups.values()} == {"Analysis"}
    adams = {f.name: f for f in read_folder(package / "adam")}
    for name, f in adams.items():
        if "PARAMCD" in f.frame.columns and "AVAL" in f.frame.columns:
            vl = _by_oid(tree, f"{{{DEF}}}ValueListDef")[f"VL.{name}.AVAL"]
            assert {r.get("ItemOID") for r in vl} <= {f"IT.{name}.AVAL.{p}" for p in f.values("PARAMCD")}
    if "ADTTE" in groups:
        assert groups["ADTTE"].find("def:Class/def:SubClass", NS).get("Name") == "TIME-TO-EVENT"
    dates = [i for i in tree.getroot().iter(f"{{{ODM}}}ItemDef") if i.get(f"{{{DEF}}}DisplayFormat") == "DATE9."]
    assert dates and {i.get("DataType") for i in dates} == {"integer"}
