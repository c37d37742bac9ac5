"""`cdisc explain`: values of the example package walked back to the raw rows they came from."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters.cli import main
from converters.compare.explain import Walker, sas_date
from converters.compare.lineage import read_lineage
from converters.compare.raw import read_row
from converters.compare.tables import read_table
from converters.pipeline import convert_study
from studybuilder import EXAMPLE


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("explain") / "pkg"
    assert convert_study(EXAMPLE, out).ok
    return out


@pytest.fixture(scope="module")
def walker(package) -> Walker:
    return Walker(package, EXAMPLE)


def frame(package: Path, name: str):
    folder = "adam" if name.startswith("AD") else "sdtm"
    return read_table(package / folder / f"{name.lower()}.xpt").frame


def raw_hops(hops):
    return [h for h in hops if h.where.startswith("source/")]


def test_every_adtte_value_reaches_a_raw_row_holding_its_date(package, walker):
    adtte, adsl = frame(package, "ADTTE"), frame(package, "ADSL")
    subjid = dict(zip(adsl["USUBJID"], adsl["SUBJID"]))
    assert set(adtte["PARAMCD"]) == {"OS", "PFS", "EFS", "DOR"}
    for r in adtte.itertuples():
        hops = walker.explain("ADTTE", {"USUBJID": r.USUBJID, "PARAMCD": r.PARAMCD}, "AVAL")
        assert hops[0].where == "ADTTE" and hops[0].value == f"{r.AVAL:g}"
        assert hops[1].where == r.SRCDOM and hops[1].variable == r.SRCVAR  # ADRS or ADSL
        sdtm = [h.where for h in hops if h.where in ("RS", "DM", "EX")]
        raws = raw_hops(hops)
        assert sdtm and raws, (r.USUBJID, r.PARAMCD)
        for h in raws:  # the subject's own row
            assert h.values.get("SUBJNO", h.values.get("subject_id")) == subjid[r.USUBJID]
        if r.SRCVAR == "AVALC":  # no CR/CRi at month 3: an event on day 1, from the month-3 NR
            assert [h.value for h in raws] == ["NR"] and r.AVAL == 1
        else:
            date = sas_date(r.ADT)
            assert any(date in h.values.values() for h in raws), (r.USUBJID, r.PARAMCD, date)


def test_pfs_relapse_walks_adtte_adrs_rs_to_the_response_row(package, walker):
    adtte = frame(package, "ADTTE")
    event = adtte[(adtte["PARAMCD"] == "PFS") & (adtte["SRCDOM"] == "ADRS") & (adtte["CNSR"] == 0)].iloc[0]
    hops = walker.explain("ADTTE", {"USUBJID": event["USUBJID"], "PARAMCD": "PFS"}, "ADT")
    assert [h.where for h in hops][:3] == ["ADTTE", "ADRS", "RS"]
    assert hops[1].keys["ASEQ"] == f"{event['SRCSEQ']:g}"
    rs = frame(package, "RS")
    record = rs[(rs["USUBJID"] == event["USUBJID"]) & (rs["RSSEQ"] == float(hops[1].values["SRCSEQ"]))].iloc[0]
    assert record["RSSTRESC"] in ("RELAPSED DISEASE", "PD") and record["RSDTC"][:10] == sas_date(event["ADT"])
    raw = raw_hops(hops)[0]
    line = int(raw.where.split()[-1])
    assert raw.where.startswith("source/response.csv")
    assert read_row(EXAMPLE / "source" / "response.csv", line) == raw.values
    assert raw.values["assessment_date"] == record["RSDTC"] and raw.value == record["RSORRES"]


@pytest.mark.parametrize("dataset,variable,column", [
    ("AE", "AETERM", "verbatim_term"), ("AE", "AETOXGR", "grade"), ("DM", "AGE", "age"),
    ("DM", "SUBJID", "SUBJNO"), ("EX", "EXDOSE", "dose"), ("EX", "EXSTDTC", "start_date"),
])
def test_sdtm_values_reach_their_raw_cell(package, walker, dataset, variable, column):
    data = frame(package, dataset)
    seq = f"{dataset}SEQ"
    for i in range(0, len(data), max(1, len(data) // 7)):
        rec = data.iloc[i]
        keys = {"USUBJID": rec["USUBJID"], **({seq: f"{rec[seq]:g}"} if seq in data else {})}
        hops = walker.explain(dataset, keys, variable)
        raw = raw_hops(hops)
        assert len(raw) == 1 and raw[0].variable == column
        value = rec[variable]
        assert raw[0].value == (f"{value:g}" if isinstance(value, float) else value) or \
            float(raw[0].value) == float(value), (dataset, variable, i)


def test_lineage_covers_every_record_once(package):
    lineage = read_lineage(package)
    for name in ("DM", "AE", "RS", "EX"):
        part = lineage[lineage["DATASET"] == name]
        assert len(part) == len(frame(package, name))
        assert not part.duplicated(["USUBJID", "SEQ"]).any()
    assert set(lineage["FORM"]) == {"subjects", "adverse_events", "response", "exposure"}


def test_lineage_bytes_are_reproducible(package, tmp_path):
    again = tmp_path / "again"
    assert convert_study(EXAMPLE, again).ok
    assert (again / "reports" / "lineage.parquet").read_bytes() == (package / "reports" / "lineage.parquet").read_bytes()


def test_cli_prints_the_walk_and_refuses_bad_keys(package):
    run = CliRunner().invoke
    res = run(main, ["explain", str(package), "ADTTE", "USUBJID=SSCART19-101-006,PARAMCD=PFS", "AVAL",
                     "--study", str(EXAMPLE)])
    assert res.exit_code == 0, res.output
    assert "ADTTE USUBJID=SSCART19-101-006, PARAMCD=PFS: AVAL = 799" in res.output
    assert "<- source/response.csv line" in res.output and "overall_response = RELAPSE" in res.output
    res = run(main, ["explain", str(package), "ADTTE", "USUBJID=SSCART19-101-006,PARAMCD=PFS", "AVAL"])
    assert res.exit_code == 0 and "give --study STUDY_DIR" in res.output
    for args, message in ((["ADTTE", "USUBJID=SSCART19-101-006"], "4 records where USUBJID=SSCART19-101-006; "
                                                                 "give the dataset's key variables (USUBJID PARAMCD)"),
                          (["ADTTE", "USUBJID=NOBODY,PARAMCD=PFS"], "no record"),
                          (["XX", "USUBJID=A"], "no dataset XX"),
                          (["ADTTE", "USUBJID=SSCART19-101-006,PARAMCD=PFS", "NOSUCH"], "no variable NOSUCH"),
                          (["ADTTE", "PFS"], "not VARIABLE=value")):
        res = run(main, ["explain", str(package), *args])
        assert res.exit_code == 2 and message in res.output, (args, res.output)


def test_changed_source_file_is_flagged(package, tmp_path):
    study = tmp_path / "study"
    shutil.copytree(EXAMPLE, study)
    path = study / "source" / "adverse_events.csv"
    path.write_bytes(path.read_bytes() + b"\n")
    hops = Walker(package, study).explain("AE", {"USUBJID": "SSCART19-101-001", "AESEQ": "1"}, "AETERM")
    assert "SHA-256 differs" in raw_hops(hops)[0].how


def test_package_without_lineage_says_so(package, tmp_path):
    copy = tmp_path / "old"
    shutil.copytree(package, copy)
    (copy / "reports" / "lineage.parquet").unlink()
    hops = Walker(copy).explain("AE", {"USUBJID": "SSCART19-101-001", "AESEQ": "1"}, "AETERM")
    assert hops[-1].where == "(no lineage)"


def test_adsl_treatment_start_walks_to_the_infusion_record(package, walker):
    adsl = frame(package, "ADSL")
    treated = adsl[adsl["TRTSDT"].notna()]
    for rec in treated.head(5).itertuples():
        hops = walker.explain("ADSL", {"USUBJID": rec.USUBJID}, "TRTSDT")
        assert [h.where for h in hops][:2] == ["ADSL", "EX"]
        assert hops[1].variable == "EXSTDTC" and hops[1].value[:10] == sas_date(rec.TRTSDT)
        raw = raw_hops(hops)
        assert [h.where.split()[0] for h in raw] == ["source/exposure.jsonl"]
        assert raw[0].values["start_date"][:10] == sas_date(rec.TRTSDT) and raw[0].values["treatment"] == "ssCART-19"


def test_method_text_comes_from_the_package_define(package, tmp_path):
    copy = tmp_path / "pkg"
    shutil.copytree(package, copy)
    define = copy / "adam" / "define.xml"
    text = define.read_text(encoding="utf-8")
    assert text.count("AVAL = ADT - STARTDT + 1, in days") == 1
    define.write_text(text.replace("AVAL = ADT - STARTDT + 1, in days", "AVAL as the sponsor defines it"), encoding="utf-8")
    hops = Walker(copy).explain("ADTTE", {"USUBJID": "SSCART19-101-006", "PARAMCD": "PFS"}, "AVAL")
    assert hops[0].how.startswith("Derived: AVAL as the sponsor defines it")
    define.write_text('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>', encoding="utf-8")
    hops = Walker(copy).explain("ADTTE", {"USUBJID": "SSCART19-101-006", "PARAMCD": "PFS"}, "AVAL")
    assert "AVAL = ADT - STARTDT + 1, in days" in hops[0].how  # an unsafe define is not read: the specs' text


def test_predecessor_follows_the_source_record(package, walker):
    adrs = frame(package, "ADRS")
    rec = adrs[(adrs["PARAMCD"] == "OVRLRESP")].iloc[3]
    hops = walker.explain("ADRS", {"USUBJID": rec["USUBJID"], "ASEQ": f"{rec['ASEQ']:g}"}, "AVISIT")
    assert [(h.where, h.variable) for h in hops[:2]] == [("ADRS", "AVISIT"), ("RS", "VISIT")]
    assert hops[1].keys["RSSEQ"] == f"{rec['SRCSEQ']:g}" and raw_hops(hops)[0].value == rec["AVISIT"]
