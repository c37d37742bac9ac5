"""What a package says it is: the manifest's standards (as its define.xml files declare them) and the
study `cdisc adam` names a package after (STUDYID, never the folder the SDTM files sit in)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from click.testing import CliRunner
from lxml import etree

from converters.cli import main
from converters.package.manifest import package_standards
from converters.pipeline import sdtm_studyid
from studybuilder import make_study

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3", "def": "http://www.cdisc.org/ns/def/v2.1"}
DEF = "{http://www.cdisc.org/ns/def/v2.1}"


def invoke(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def pkg(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("identity")
    res = invoke("convert", make_study(base / "study"), "-o", base / "out", "-q")
    assert res.exit_code == 0, res.output
    return base / "out"


def manifest(package: Path) -> dict:
    return json.loads((package / "reports" / "manifest.json").read_text(encoding="ascii"))


def declared(define: Path) -> list[str]:
    """The standards a define.xml declares, written as the manifest writes them."""
    mdv = etree.parse(str(define)).find(".//odm:MetaDataVersion", NS)
    out = [f"Define-XML {mdv.get(DEF + 'DefineVersion')}"]
    for std in mdv.findall("def:Standards/def:Standard", NS):
        out.append(f"{std.get('Name')} {std.get('Version')}" if std.get("Type") == "IG"
                   else f"{std.get('PublishingSet')} CT {std.get('Version')}")
    return out


def test_manifest_lists_every_standard_of_the_package(pkg: Path):
    assert manifest(pkg)["standards"] == {"sdtm": "SDTMIG 3.4", "adam": "ADaMIG 1.3",
                                          "define": "Define-XML 2.1.0", "ct": "SDTM CT 2025-03-28"}


@pytest.mark.parametrize("sub", ["sdtm", "adam"])
def test_manifest_standards_agree_with_define_xml(pkg: Path, sub: str):
    standards = manifest(pkg)["standards"]
    assert sorted(declared(pkg / sub / "define.xml")) == sorted([standards[sub], standards["define"], standards["ct"]])


def test_standards_of_a_folder_without_define_xml(pkg: Path, tmp_path: Path):
    shutil.copytree(pkg / "sdtm", tmp_path / "p" / "sdtm", ignore=shutil.ignore_patterns("define*"))
    assert package_standards(tmp_path / "p") == {"sdtm": "SDTMIG 3.4", "ct": "SDTM CT 2025-03-28"}


def test_cdisc_adam_names_the_package_after_studyid_not_the_folder(pkg: Path, tmp_path: Path):
    sdtm = shutil.copytree(pkg / "sdtm", tmp_path / "export_2024")
    res = invoke("adam", sdtm, "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip().splitlines()[-1].split()[:2] == ["TST-01", "ok"]
    assert "export_2024" not in res.output
    assert manifest(tmp_path / "out")["studyid"] == "TST-01"
    assert manifest(tmp_path / "out")["standards"] == {"adam": "ADaMIG 1.3", "define": "Define-XML 2.1.0",
                                                      "ct": "SDTM CT 2025-03-28"}
    conformance = json.loads((tmp_path / "out" / "reports" / "conformance.json").read_text(encoding="utf-8"))
    assert conformance["package"] == "TST-01"


def frames(dm_ids: list, ts_ids: list) -> dict[str, pd.DataFrame]:
    return {"DM": pd.DataFrame({"STUDYID": dm_ids}), "TS": pd.DataFrame({"STUDYID": ts_ids})}


def test_studyid_from_dm_then_ts_then_none():
    assert sdtm_studyid(frames(["ABC-1", "ABC-1"], ["TS-1"]), None) == "ABC-1"
    assert sdtm_studyid(frames([None, "  "], ["TS-1"]), None) == "TS-1"  # blank DM values are not a name
    assert sdtm_studyid({"DM": pd.DataFrame({"USUBJID": ["x"]}), "TS": pd.DataFrame({"STUDYID": [None]})},
                        None) is None


def test_studyid_of_the_configuration_comes_first():
    config = SimpleNamespace(study=SimpleNamespace(studyid="CFG-9"))
    assert sdtm_studyid(frames(["ABC-1"], ["ABC-1"]), config) == "CFG-9"


def test_cdisc_adam_without_any_studyid_falls_back_to_the_folder_name(pkg: Path, tmp_path: Path, monkeypatch):
    import converters.pipeline as pipeline
    monkeypatch.setattr(pipeline, "sdtm_studyid", lambda sdtm, config: None)
    sdtm = shutil.copytree(pkg / "sdtm", tmp_path / "export_2024")
    res = invoke("adam", sdtm, "-o", tmp_path / "out", "-q")
    assert res.exit_code == 0, res.output
    assert res.stdout.strip().splitlines()[-1].split()[:2] == ["export_2024", "ok"]
