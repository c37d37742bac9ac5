"""define.xml as a reviewer reads it: method and comment texts in clinical wording (no file, module,
configuration or code names), comments from the spec, and Collected values traced to annotated CRF pages."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

import specs
from converters.cli import main
from converters.define import build_define, reference_errors, resources, schema_errors
from converters.define.xmlns import DEF, ODM
from converters.pipeline import convert_study
from schemas.config import load_config
from studybuilder import EXAMPLE

NS = {"odm": ODM, "def": DEF}
SHARED_XSD = (Path(__file__).resolve().parents[2] / "shared" / "reference" / "define-xml-2.1" / "schema"
              / "cdisc-define-2.1" / "define2-1-0.xsd")

# Names a reviewer cannot look up: files, code and configuration keys, spec tables, internal OIDs
INTERNAL_NAMES = [
    re.compile(r"\b[\w-]+\.(csv|toml|py|json|jsonl)\b"),  # file names
    re.compile(r"\bspecs?\."),  # module attributes
    re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),  # snake_case identifiers (config keys, fields)
    re.compile(r"\b[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]{2,}\b"),  # dotted lower-case names (form.field)
    re.compile(r"\b(config|spec|derived|const):"),  # spec source prefixes
    re.compile(r"\bMT\.[A-Z]"),  # method OIDs
    re.compile(r"\[\[?[a-z]+\]"),  # TOML tables
]


def internal_names(text: str) -> list[str]:
    return [m.group(0) for pattern in INTERNAL_NAMES for m in pattern.finditer(text)]


@pytest.mark.parametrize("text", [
    "RFPENDTC = the later of subjects.last_known_alive_date and DTHDTC",
    "sorting by its keys (datasets.csv)", "the CT release (specs.CT_VERSION)", "through value_maps",
    "bounds from analysis.toml", "the source listed first in tte.toml", "see MT.RFPENDTC",
    "from the study's dose_groups ([adam])", "config:studyid",
])
def test_the_scan_finds_internal_names(text):
    assert internal_names(text)


@pytest.mark.parametrize("text", [
    "partial dates (e.g. 2023-05 vs 2023-05-10)", "i.e. for subject-level DM qualifiers", "CTCAE v5.0",
    "TRT01P = DM.ARM", "RS.RSSTRESC", "ADSL.DTHDT for DEATH", "SUPPDM.QVAL (QNAM = DTHCAUS)",
])
def test_the_scan_leaves_clinical_wording_alone(text):
    assert internal_names(text) == []


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("review") / "pkg"
    res = convert_study(EXAMPLE, out)
    assert res.ok, res.problems
    return out


@pytest.fixture(scope="module")
def trees(package: Path) -> dict[str, etree._ElementTree]:
    return {sub: resources.parse(package / sub / "define.xml") for sub in ("sdtm", "adam")}


def _texts(tree: etree._ElementTree, tag: str) -> dict[str, str]:
    return {e.get("OID"): e.findtext("odm:Description/odm:TranslatedText", namespaces=NS)
            for e in tree.getroot().iter(tag)}


def test_method_and_comment_texts_name_nothing_internal(trees):
    found = {}
    for sub, tree in trees.items():
        texts = {**_texts(tree, f"{{{ODM}}}MethodDef"), **_texts(tree, f"{{{DEF}}}CommentDef")}
        assert len(texts) > 10
        for oid, text in texts.items():
            if internal_names(text):
                found[f"{sub} {oid}"] = internal_names(text)
        for origin in tree.getroot().iter(f"{{{DEF}}}Origin"):
            text = origin.findtext("odm:Description/odm:TranslatedText", default="", namespaces=NS)
            if internal_names(text):
                found[f"{sub} origin {text}"] = internal_names(text)
    assert found == {}


def test_comments_from_the_spec(trees):
    sdtm = trees["sdtm"].getroot()
    comments = _texts(trees["sdtm"], f"{{{DEF}}}CommentDef")
    dm = sdtm.find(".//odm:ItemGroupDef[@OID='IG.DM']", NS)
    assert dm.get(f"{{{DEF}}}CommentOID") == "COM.DM"
    assert comments["COM.DM"].startswith("Every screened subject is included")
    aetoxgr = sdtm.find(".//odm:ItemDef[@OID='IT.AE.AETOXGR']", NS)
    assert aetoxgr.get(f"{{{DEF}}}CommentOID") == "COM.AE.AETOXGR"
    assert "ASTCT" in comments["COM.AE.AETOXGR"]
    # every CommentDef is referenced, every reference defined (no orphan comments)
    used = {e.get(f"{{{DEF}}}CommentOID") for e in sdtm.iter() if e.get(f"{{{DEF}}}CommentOID")}
    assert used == set(comments)


def _pages(tree: etree._ElementTree) -> dict[str, str]:
    out = {}
    for item in tree.getroot().iter(f"{{{ODM}}}ItemDef"):
        ref = item.find("def:Origin/def:DocumentRef/def:PDFPageRef", NS)
        if ref is not None:
            origin = item.find("def:Origin", NS)
            assert origin.get("Type") == "Collected" and ref.get("Type") == "PhysicalRef"
            assert ref.getparent().get("leafID") == "LF.acrf"
            out[item.get("OID")] = ref.get("PageRefs")
    return out


def test_collected_variables_cite_annotated_crf_pages(trees):
    pages = _pages(trees["sdtm"])
    assert pages["IT.DM.AGE"] == "3" and pages["IT.DM.RFICDTC"] == "2"
    assert pages["IT.EX.EXDOSE"] == "6 7" and pages["IT.AE.AETERM"] == "12"
    # value-level items of a Collected variable cite the pages of the variable
    assert pages["IT.RS.RSORRES.OVRLRESP"] == "9 10"
    assert len(pages) >= 35
    root = trees["sdtm"].getroot()
    leaf = root.find(".//def:leaf[@ID='LF.acrf']", NS)
    assert leaf.get("{http://www.w3.org/1999/xlink}href") == "acrf.pdf"
    assert leaf.findtext("def:title", namespaces=NS) == "Annotated CRF"
    assert root.find(".//def:AnnotatedCRF/def:DocumentRef", NS).get("leafID") == "LF.acrf"
    # ADaM cites no CRF page (its values are predecessors or derivations) and so has no aCRF leaf
    assert _pages(trees["adam"]) == {} and trees["adam"].getroot().find(".//def:leaf[@ID='LF.acrf']", NS) is None


def test_document_links_come_from_the_spec(package, tmp_path):
    overrides = tmp_path / "specs"
    shutil.copytree(EXAMPLE / "specs", overrides)
    (overrides / "sdtmig-3.4" / "documents.csv").write_text("document,href\nacrf,../crf/acrf-v2.pdf\n")
    sdtm = tmp_path / "sdtm"
    shutil.copytree(package / "sdtm", sdtm)
    (sdtm / "csdrg.pdf").write_bytes(b"%PDF-1.4\n")
    with specs.using(specs.load(overrides)):
        tree = build_define(sdtm, "sdtmig-3.4", load_config(EXAMPLE))
    root = tree.getroot()
    href = "{http://www.w3.org/1999/xlink}href"
    leaves = {leaf.get("ID"): leaf.get(href) for leaf in root.iter(f"{{{DEF}}}leaf")}
    assert leaves["LF.acrf"] == "../crf/acrf-v2.pdf" and leaves["LF.csdrg"] == "csdrg.pdf"
    assert "LF.adrg" not in leaves  # listed in the spec, but not beside the datasets
    assert root.find(".//def:SupplementalDoc/def:DocumentRef", NS).get("leafID") == "LF.csdrg"
    assert schema_errors(tree) == [] and reference_errors(tree) == []


def test_define_html_links_pages_and_shows_comments(package):
    html = (package / "sdtm" / "define.html").read_text(encoding="utf-8")
    assert "acrf.pdf#page=3" in html and "acrf.pdf#page=12" in html
    assert "Every screened subject is included" in html


def test_valid_against_the_define_xml_schema(trees):
    for tree in trees.values():
        assert schema_errors(tree) == [] and reference_errors(tree) == []


@pytest.mark.skipif(not SHARED_XSD.is_file(), reason="../shared Define-XML 2.1 schema absent")
def test_valid_against_the_published_schema(trees):
    schema = etree.XMLSchema(etree.parse(str(SHARED_XSD)))
    for sub, tree in trees.items():
        assert schema.validate(tree), (sub, [f"{e.line}: {e.message}" for e in schema.error_log][:5])


def test_cdisc_define_rewrites_the_same_define_and_refreshes_the_manifest(package, tmp_path):
    pkg = tmp_path / "pkg"
    shutil.copytree(package, pkg)
    before = {p.relative_to(pkg).as_posix(): p.read_bytes() for p in pkg.rglob("*") if p.is_file()}
    (pkg / "sdtm" / "define.xml").write_text("stale", encoding="utf-8")
    result = CliRunner().invoke(main, ["define", str(pkg), "--study", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    after = {p.relative_to(pkg).as_posix(): p.read_bytes() for p in pkg.rglob("*") if p.is_file()}
    assert after == before  # the study's specs/ applied again: same define, same report, same manifest
    manifest = json.loads((pkg / "reports" / "manifest.json").read_text())
    assert {o["file"]: o["sha256"] for o in manifest["outputs"]} == {
        name: hashlib.sha256(data).hexdigest() for name, data in after.items() if name != "reports/manifest.json"}
