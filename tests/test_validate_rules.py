"""Each rule of `cdisc validate` on a passing package and on a package broken for that rule."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from converters.validate import run_rules
from converters.validate.package import load_package
from converters.validate.registry import CHECKS, rule_specs
from validate_fixtures import define_xml, frames, write_package


def _set(name, col, row, value):
    def mutate(d):
        d[name].loc[row, col] = value
        return d
    return mutate


def _drop(name, col):
    def mutate(d):
        d[name] = d[name].drop(columns=[col])
        return d
    return mutate


def _apply(*fns):
    def mutate(d):
        for fn in fns:
            d = fn(d)
        return d
    return mutate


def _dup_row(name, row=0):
    def mutate(d):
        d[name] = pd.concat([d[name], d[name].iloc[[row]]], ignore_index=True)
        return d
    return mutate


def _ts_without(code):
    def mutate(d):
        d["TS"] = d["TS"][d["TS"]["TSPARMCD"] != code].reset_index(drop=True)
        return d
    return mutate


# rule -> mutation of the valid frames that must make the rule fire
FRAME_CASES = {
    "TR0009": None,  # storage length: see LENGTH_CASES
    "SD0001": _drop("AE", "AEDECOD"),
    "SD0002": _set("AE", "AETERM", 1, ""),
    "SD0003": _drop("AE", "AESTDTC"),
    "SD0004": _dup_row("DM"),
    "SD0005": _set("AE", "USUBJID", 2, "ST-999"),
    "SD0006": _set("AE", "AESEQ", 1, 1.0),
    "SD0007": _set("AE", "AESTDTC", 0, "2021-02-30"),
    "SD0008": _set("AE", "AESTDY", 0, 2.0),
    "SD0009": _apply(_set("AE", "AESTDTC", 0, "2021-02"), _set("AE", "AEENDTC", 0, "2021-02")),
    "SD0010": _set("AE", "AEENDTC", 0, "2021-01-15"),
    "SD0011": _set("AE", "EPOCH", 0, "BASELINE PERIOD X"),
    "SD0012": _set("DM", "SEX", 0, "FEMALE"),
    "SD0013": _set("DM", "ARMNRS", 0, "NOT TREATED X"),
    "SD0015": _set("DM", "ARM", 1, "Arm B"),
    "SD0016": _apply(_set("DM", "ACTARMCD", 1, ""), _set("DM", "ACTARM", 1, "")),
    "SD0017": _set("DM", "DTHFL", 1, "N"),
    "SD0018": _set("DM", "DTHFL", 0, ""),
    "SD0019": _set("DM", "DTHDTC", 0, ""),
    "SD0020": _ts_without("SSTDTC"),
    "SD0021": _ts_without("TITLE"),
    "SD0022": lambda d: {name: frame for name, frame in d.items() if name != "DM"},
    "AD0001": _dup_row("ADSL"),
    "AD0002": _set("ADSL", "USUBJID", 1, "ST-999"),
    "AD0003": _drop("ADSL", "TRT01P"),
    "AD0004": _set("ADTTE", "AVAL", 0, np.nan),
    "AD0005": _set("ADTTE", "CNSR", 0, 0.5),
    "AD0006": _set("ADTTE", "AVAL", 0, -3.0),
    "AD0007": _set("ADTTE", "STARTDT", 0, 22500.0),
    "AD0008": _set("ADTTE", "EVNTDESC", 0, ""),
    "AD0009": _set("ADTTE", "CNSDTDSC", 1, ""),
    "AD0010": _set("ADTTE", "SRCDOM", 0, "XX"),
    "AD0011": _set("ADTTE", "SRCSEQ", 0, 7.0),
    "AD0012": _apply(_set("ADTTE", "PARAMCD", 0, "OVERALLSURV"), _set("ADTTE", "PARAMCD", 1, "OVERALLSURV")),
    "AD0013": _set("ADTTE", "PARAM", 1, "Overall survival (days)"),
}


def _count(pkg_dir: Path, rid: str, define: Path | None = None) -> int:
    report = run_rules(load_package(pkg_dir, define), only={rid})
    return sum(n for (r, _), n in report.counts.items() if r == rid)


@pytest.fixture(scope="module")
def valid(tmp_path_factory) -> Path:
    return write_package(tmp_path_factory.mktemp("valid"), frames())


def test_registry_and_spec_agree():
    assert set(CHECKS) == set(rule_specs())
    for r in rule_specs().values():
        assert r.severity in ("error", "warning", "info") and r.message and r.clause


def test_valid_package_has_no_errors_or_warnings(valid):
    report = run_rules(load_package(valid))
    noisy = {k: n for k, n in report.counts.items() if report.rules[k[0]].severity != "info"}
    assert noisy == {}


@pytest.mark.parametrize("rid", sorted(k for k, v in FRAME_CASES.items() if v is not None))
def test_rule_fails_and_passes(rid, valid, tmp_path):
    assert _count(valid, rid) == 0
    broken = write_package(tmp_path / "broken", FRAME_CASES[rid](frames()))
    assert _count(broken, rid) >= 1


def test_sd0007_trailing_placeholder(valid, tmp_path):
    d = frames()
    d["AE"].loc[0, "AESTDTC"] = "2021--"  # SDTMIG 3.4 4.4.2: "-" marks a missing component before a known one
    assert _count(write_package(tmp_path / "p", d), "SD0007") == 1


def test_sd0014_reports_unknown_codelist(valid, tmp_path):
    assert _count(valid, "SD0014") == 0
    d = frames()
    d["AE"]["AEACNDEV"] = "DEVICE REMOVED"  # the device-action codelist C111110 is not in the shipped CT subset
    assert _count(write_package(tmp_path / "p", d), "SD0014") == 1


def test_tr0009_storage_longer_than_longest_value(valid, tmp_path):
    assert _count(valid, "TR0009") == 0
    broken = write_package(tmp_path / "b", frames(), lengths={"AE": {"AETERM": 30}})
    assert _count(broken, "TR0009") == 1


def _pyreadstat_write(folder: Path, name: str, frame: pd.DataFrame, version: int = 5, table: str | None = None,
                      label: str = "Demographics", col_labels: list[str] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pyreadstat.write_xport(frame, str(folder / f"{name.lower()}.xpt"), file_format_version=version,
                           table_name=table or name, file_label=label, column_labels=col_labels)


def _one(tmp_path: Path, **kw) -> Path:
    d = frames()["DM"][["STUDYID", "USUBJID", "AGE"]]
    frame = kw.pop("frame", d)
    _pyreadstat_write(tmp_path / "pkg", "DM", frame, **kw)
    return tmp_path / "pkg"


def test_tr0001_v8(tmp_path, valid):
    assert _count(valid, "TR0001") == 0
    assert _count(_one(tmp_path, version=8), "TR0001") == 1


def test_tr0002_member_name(tmp_path, valid):
    assert _count(valid, "TR0002") == 0
    assert _count(_one(tmp_path, table="DEMOG"), "TR0002") == 1


def test_tr0003_dataset_name(tmp_path, valid):
    assert _count(valid, "TR0003") == 0
    d = frames()["DM"][["STUDYID"]]
    _pyreadstat_write(tmp_path / "pkg", "DEMOGRAPHICS", d, version=8, table="DEMOGRAPHICS")
    assert _count(tmp_path / "pkg", "TR0003") == 1


def test_tr0004_variable_name(tmp_path, valid):
    assert _count(valid, "TR0004") == 0
    frame = pd.DataFrame({"STUDYID": ["ST"], "LONGVARIABLE": ["x"]})
    assert _count(_one(tmp_path, version=8, frame=frame), "TR0004") == 1


def test_tr0005_variable_label(tmp_path, valid):
    assert _count(valid, "TR0005") == 0
    frame = pd.DataFrame({"STUDYID": ["ST"]})
    assert _count(_one(tmp_path, version=8, frame=frame, col_labels=["L" * 60]), "TR0005") == 1


def test_tr0006_dataset_label(tmp_path, valid):
    assert _count(valid, "TR0006") == 0
    assert _count(_one(tmp_path, label=""), "TR0006") == 1


def test_tr0007_tr0008_cp1252_text_is_read_and_reported(tmp_path, valid):
    assert _count(valid, "TR0007") == 0 and _count(valid, "TR0008") == 0
    d = frames()
    d["TS"].loc[0, "TSVAL"] = "Alzheimer's"
    pkg = write_package(tmp_path / "p", d)
    ts = pkg / "sdtm" / "ts.xpt"
    ts.write_bytes(ts.read_bytes().replace(b"Alzheimer's", b"Alzheimer\x92s"))  # a legacy Windows byte
    assert _count(pkg, "TR0008") == 1
    report = run_rules(load_package(pkg), only={"TR0007"})
    assert [f.value for f in report.findings] == ["Alzheimer\u2019s"]


def test_tr0010_tr0011_limits(valid):
    pkg = load_package(valid)
    assert run_rules(pkg, only={"TR0010", "TR0011"}).counts == {}
    pkg.datasets["AE"].widths["AETERM"] = 201
    pkg.datasets["AE"].size = 6 * 1024 ** 3
    counts = run_rules(pkg, only={"TR0010", "TR0011"}).counts
    assert counts == {("TR0010", "AE"): 1, ("TR0011", "AE"): 1}


# --- define <-> data ---------------------------------------------------------------------------

def _with_define(root: Path, text: str) -> Path:
    (root / "sdtm" / "define.xml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def sdtm_only(tmp_path) -> tuple[Path, dict]:
    d = {k: v for k, v in frames().items() if k in ("DM", "AE", "TS")}
    return write_package(tmp_path / "pkg", d), d


def test_define_matching_data_passes(sdtm_only):
    root, d = sdtm_only
    _with_define(root, define_xml(d, where=[("WC.1", "IT.TS.TSPARMCD", "SSTDTC")]))
    for rid in ("DD0001", "DD0003", "DD0004", "DD0005", "DD0006", "DD0007", "DD0008", "DD0009", "DD0010", "DD0011"):
        assert _count(root, rid) == 0, rid


@pytest.mark.parametrize("rid, edit", [
    ("DD0004", lambda d: {k: v for k, v in d.items() if k != "AE"}),
    ("DD0005", lambda d: {**d, "LB": pd.DataFrame({"STUDYID": ["ST"]})}),
    ("DD0006", lambda d: {**d, "DM": d["DM"].drop(columns=["AGE"])}),
    ("DD0007", lambda d: {**d, "DM": d["DM"].assign(EXTRA="x")}),
])
def test_define_dataset_and_variable_mismatch(rid, edit, sdtm_only):
    root, d = sdtm_only
    _with_define(root, define_xml(edit(dict(d))))
    assert _count(root, rid) >= 1


def test_define_length_type_codelist_where(sdtm_only):
    root, d = sdtm_only
    text = define_xml(d, codelists={"SEX": ["M"]}, where=[("WC.1", "IT.TS.TSPARMCD", "NOPE"),
                                                          ("WC.2", "IT.XX.YY", "A")])
    text = text.replace('Name="AETERM" DataType="text" Length="8"', 'Name="AETERM" DataType="text" Length="99"')
    text = text.replace('Name="AGE" DataType="float"', 'Name="AGE" DataType="text" Length="8"')
    _with_define(root, text)
    assert _count(root, "DD0008") == 1
    assert _count(root, "DD0009") == 1
    assert _count(root, "DD0010") == 1  # SEX = 'F' not in the define's codelist
    assert _count(root, "DD0011") == 2  # a clause matching no record + one naming an unknown variable


def test_define_version_and_schema(sdtm_only):
    root, d = sdtm_only
    _with_define(root, define_xml(d))  # minimal: not valid against the Define-XML 2.1 schema
    assert _count(root, "DD0002") >= 1
    _with_define(root, define_xml(d).replace("def/v2.1", "def/v2.0").replace('"2.1.0"', '"2.0.0"'))
    assert _count(root, "DD0003") == 1 and _count(root, "DD0002") == 0


SHARED = Path(__file__).resolve().parents[1].parent / "shared"
EXAMPLE = SHARED / "reference" / "define-xml-2.1" / "examples" / "DefineXML-2-1-SDTM" / "defineV21-SDTM.xml"


@pytest.mark.skipif(not EXAMPLE.is_file(), reason="shared Define-XML 2.1 example not available")
def test_schema_valid_example_define_passes_dd0002(valid, tmp_path):
    root = tmp_path / "p"
    shutil.copytree(valid, root)
    shutil.copy(EXAMPLE, root / "sdtm" / "define.xml")
    assert _count(root, "DD0002") == 0
