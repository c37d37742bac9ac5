"""The whole pipeline on the small study: files, XPT metadata from the spec, derived values, manifest,
byte-identical reruns."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from conftest import tree_digest
from converters.cli import main
from specs import dataset
from studybuilder import AES, make_study

DATASETS = ("dm", "ae", "rs", "ex", "ts", "suppdm", "suppae")

# two more events: the day before the infusion (study day -1) and the infusion day itself (day 1)
EXTRA_AES = AES + [
    dict(AES[0], ae_id="3", verbatim_term="headache", preferred_term="Headache",
         system_organ_class="Nervous system disorders", start_date="2021-01-31", end_date="2021-02-03", grade="1",
         grading_scale="CTCAE v5.0"),
    dict(AES[0], ae_id="4", verbatim_term="fever", preferred_term="Pyrexia",
         system_organ_class="General disorders and administration site conditions", start_date="2021-02-01T18:30",
         end_date="", grade="1", grading_scale="CTCAE v5.0", outcome="NOT RECOVERED/NOT RESOLVED"),
]


def run(study: Path, out: Path, env: dict | None = None):
    result = CliRunner().invoke(main, ["convert", str(study), "-o", str(out), "-q"], env=env)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def pkg(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("small")
    study = make_study(base / "study", aes=EXTRA_AES)
    run(study, base / "out")
    return base / "out"


@pytest.fixture(scope="module")
def study_dir(pkg: Path) -> Path:
    return pkg.parent / "study"


def read(pkg: Path, name: str) -> tuple[pd.DataFrame, object]:
    return pyreadstat.read_xport(str(pkg / "sdtm" / f"{name}.xpt"))


def test_package_layout(pkg: Path):
    assert sorted(p.name for p in (pkg / "sdtm").glob("*.xpt")) == sorted(f"{n}.xpt" for n in DATASETS)
    assert {"manifest.json", "source-validation.json"} <= {p.name for p in (pkg / "reports").iterdir()}
    assert not [p for p in pkg.parent.iterdir() if p.name.startswith(".")]  # no staging left behind


def test_source_validation_report_is_clean(pkg: Path):
    report = json.loads((pkg / "reports" / "source-validation.json").read_text())
    assert report == {"errors": 0, "warnings": 0, "problems": []}


@pytest.mark.parametrize("name", DATASETS)
def test_xpt_metadata_follows_the_spec(pkg: Path, name: str):
    df, meta = read(pkg, name)
    spec = dataset(name.upper())
    assert meta.table_name == name.upper()
    assert meta.file_label == spec.label
    # spec order; only permissible variables with no value at all may be left out
    assert list(df.columns) == [v for v in spec.names if v in df.columns]
    dropped = [v for v in spec.variables if v.name not in df.columns]
    assert all(v.core == "Perm" for v in dropped), [v.name for v in dropped]
    for v in spec.variables:
        if v.name in df.columns:
            assert meta.column_names_to_labels[v.name] == v.label, v.name
    assert len(df) > 0


@pytest.mark.parametrize("name", DATASETS)
def test_char_storage_width_is_the_longest_value(pkg: Path, name: str):
    """FDA TCG 4.1.5.2: character lengths are the longest value actually present."""
    df, meta = read(pkg, name)
    spec = dataset(name.upper())
    for col in df.columns:
        var = spec.variable(col)
        if var.is_char:
            longest = max([len(str(v).rstrip().encode("ascii")) for v in df[col]] + [1])
            assert meta.variable_storage_width[col] == (var.length or longest), col
        else:
            assert meta.variable_storage_width[col] == 8, col


def test_dm_one_row_per_subject(pkg: Path):
    dm, _ = read(pkg, "dm")
    assert dm["USUBJID"].tolist() == ["TST-01-001", "TST-01-002", "TST-01-003"]
    assert dm["SUBJID"].tolist() == ["001", "002", "003"]
    assert set(dm["STUDYID"]) == {"TST-01"} and set(dm["DOMAIN"]) == {"DM"}
    assert dm["SITEID"].tolist() == ["01", "01", "01"]  # leading zero kept
    assert dm["AGE"].tolist() == [30.0, 45.0, 52.0]


def test_dm_treated_subject(pkg: Path):
    dm, _ = read(pkg, "dm")
    s = dm.set_index("SUBJID").loc["001"]
    assert (s.ARMCD, s.ACTARMCD, s.ARMNRS) == ("DL1", "DL1", "")
    assert (s.RFSTDTC, s.RFICDTC) == ("2021-02-01", "2021-01-04")  # reference start = the infusion
    assert s.RFPENDTC == "2022-06-30" and s.RFENDTC == "2022-06-30" and s.DTHFL == ""


def test_dm_exposure_span_matches_ex(pkg: Path):
    """SDTMIG 3.4 DM: RFXSTDTC/RFXENDTC are the first/last exposure to any protocol treatment (EX)."""
    dm, _ = read(pkg, "dm")
    ex, _ = read(pkg, "ex")
    for u, start, end in zip(dm.USUBJID, dm.RFXSTDTC, dm.RFXENDTC):
        mine = ex[ex.USUBJID == u]
        assert start == (min(mine.EXSTDTC) if len(mine) else ""), u
        assert end == (max(mine.EXENDTC) if len(mine) else ""), u


def test_dm_screen_failure(pkg: Path):
    dm, _ = read(pkg, "dm")
    s = dm.set_index("SUBJID").loc["002"]
    assert s.ARMNRS == "SCREEN FAILURE"
    assert (s.ARMCD, s.ARM, s.ACTARMCD, s.ACTARM, s.RFSTDTC, s.RFXSTDTC) == ("", "", "", "", "", "")


def test_dm_assigned_not_treated(pkg: Path):
    dm, _ = read(pkg, "dm")
    s = dm.set_index("SUBJID").loc["003"]
    assert s.ARMNRS == "ASSIGNED, NOT TREATED"
    assert (s.ARMCD, s.ARM) == ("DL1", "Drug 1x10^6 cells/kg")
    assert (s.ACTARMCD, s.ACTARM, s.RFSTDTC, s.RFXSTDTC) == ("", "", "", "")


def test_suppdm_holds_the_qualifiers(pkg: Path):
    supp, _ = read(pkg, "suppdm")
    got = {(u[-3:], q): v for u, q, v in zip(supp.USUBJID, supp.QNAM, supp.QVAL)}
    assert got[("001", "COHORT")] == "ESCALATION"
    assert got[("001", "APHDTC")] == "2021-01-10"
    assert got[("003", "NTRTREAS")] == "Active lung infection"
    assert got[("002", "SFREAS")] == "Did not meet inclusion criteria"
    assert set(supp["RDOMAIN"]) == {"DM"}


def test_ae_study_days_have_no_day_zero(pkg: Path):
    ae, _ = read(pkg, "ae")
    by = ae.set_index("AESPID")
    assert by.loc["3", "AESTDY"] == -1 and by.loc["3", "AEENDY"] == 3  # day before infusion -> -1
    assert by.loc["4", "AESTDY"] == 1  # infusion day (with a time) -> 1
    assert by.loc["1", "AESTDY"] == 2 and by.loc["1", "AEENDY"] == 8
    assert pd.isna(by.loc["2", "AESTDY"])  # partial start date: no study day
    assert pd.isna(by.loc["4", "AEENDY"])  # ongoing
    assert 0 not in ae["AESTDY"].dropna().tolist() + ae["AEENDY"].dropna().tolist()


def test_ae_epoch(pkg: Path):
    ae, _ = read(pkg, "ae")
    by = ae.set_index("AESPID")["EPOCH"]
    assert by["1"] == "FOLLOW-UP"
    assert by["3"] == "TREATMENT"  # after lymphodepletion, before the infusion
    assert by["4"] == "TREATMENT"  # the infusion day
    assert by["2"] == ""  # "2021-02" straddles the infusion: not imputed


def test_ae_values(pkg: Path):
    ae, _ = read(pkg, "ae")
    crs = ae.set_index("AESPID").loc["1"]
    assert (crs.AETERM, crs.AEDECOD, crs.AETOXGR, crs.AESER, crs.AESTDTC, crs.AEENDTC) == (
        "CRS", "Cytokine release syndrome", "2", "N", "2021-02-02", "2021-02-08")
    assert ae.set_index("AESPID").loc["2", "AESTDTC"] == "2021-02"  # partial date kept as collected
    assert ae.set_index("AESPID").loc["4", "AESTDTC"] == "2021-02-01T18:30"


@pytest.mark.parametrize("name", ["ae", "rs", "ex"])
def test_seq_is_unique_and_consecutive_per_subject(pkg: Path, name: str):
    df, _ = read(pkg, name)
    seq = f"{name.upper()}SEQ"
    for _, g in df.groupby("USUBJID"):
        assert sorted(g[seq].tolist()) == list(map(float, range(1, len(g) + 1)))


def test_suppae_points_at_the_right_ae(pkg: Path):
    ae, _ = read(pkg, "ae")
    supp, _ = read(pkg, "suppae")
    assert len(supp) == len(ae)
    assert set(supp["IDVAR"]) == {"AESEQ"} and set(supp["QNAM"]) == {"AETOXSCL"}
    scale = {(u, float(i)): q for u, i, q in zip(supp.USUBJID, supp.IDVARVAL, supp.QVAL)}
    for u, seq, term in zip(ae.USUBJID, ae.AESEQ, ae.AEDECOD):
        assert scale[(u, seq)] == ("ASTCT" if term == "Cytokine release syndrome" else "CTCAE v5.0")


def test_rs_has_overall_and_mrd_response(pkg: Path):
    rs, _ = read(pkg, "rs")
    got = sorted(zip(rs.VISIT, rs.RSTESTCD, rs.RSORRES, rs.RSSTRESC, rs.RSDY))
    assert got == [("MONTH 1", "MRDRESP", "NEGATIVE", "NEGATIVE", 29.0), ("MONTH 1", "OVRLRESP", "CR", "CR", 29.0),
                   ("MONTH 3", "MRDRESP", "NEGATIVE", "NEGATIVE", 90.0), ("MONTH 3", "OVRLRESP", "CR", "CR", 90.0)]
    mrd = rs[rs.RSTESTCD == "MRDRESP"]
    assert set(mrd["RSMETHOD"]) == {"FLOW CYTOMETRY"}


def test_ex_records(pkg: Path):
    ex, _ = read(pkg, "ex")
    assert ex["EXTRT"].tolist() == ["FLUDARABINE"] * 3 + ["DRUG"]
    assert ex["EXSTDY"].tolist() == [-5.0, -4.0, -3.0, 1.0]
    assert ex["EXCAT"].tolist() == ["LYMPHODEPLETION"] * 3 + ["INVESTIGATIONAL"]
    assert ex["EXENDTC"].tolist() == ex["EXSTDTC"].tolist()  # single administrations end the day they start
    assert ex["EXDOSE"].tolist() == [30.0, 30.0, 30.0, 1.0]


def test_ts_has_required_parameters(pkg: Path):
    ts, _ = read(pkg, "ts")
    values = dict(zip(ts.TSPARMCD, ts.TSVAL))
    assert values["SSTDTC"] == "2021-01-04"  # FDA Technical Rejection Criteria 1734
    assert values["REGID"] == "NCT00000001"


def test_manifest_reconciles_every_row(pkg: Path, study_dir: Path):
    m = json.loads((pkg / "reports" / "manifest.json").read_text())
    assert m["studyid"] == "TST-01"
    rec = m["reconciliation"]
    assert set(rec) == {"subjects", "adverse_events", "response", "exposure"}
    assert {f: r["rows_read"] for f, r in rec.items()} == {"subjects": 3, "adverse_events": 4, "response": 2, "exposure": 4}
    for form, r in rec.items():
        assert r["rows_read"] == r["rows_mapped"] + r["rows_rejected"], form
        assert r["rows_rejected"] == 0
    counts = {}
    for r in rec.values():
        for ds, n in r["records_written"].items():
            counts[ds] = counts.get(ds, 0) + n
    for ds, n in counts.items():
        df, _ = read(pkg, ds.lower())
        assert len(df) == n, ds
    assert counts == {"DM": 3, "SUPPDM": 7, "AE": 4, "SUPPAE": 4, "RS": 4, "EX": 4}


def test_manifest_hashes_match_the_files(pkg: Path, study_dir: Path):
    m = json.loads((pkg / "reports" / "manifest.json").read_text())
    outputs = {o["file"]: o["sha256"] for o in m["outputs"]}
    # every file of the package but the manifest itself is listed, the SDTM files among them
    assert set(outputs) == set(tree_digest(pkg)) - {"reports/manifest.json"}
    assert {f"sdtm/{n}.xpt" for n in DATASETS} | {"reports/source-validation.json"} <= set(outputs)
    for rel, digest in outputs.items():
        assert hashlib.sha256((pkg / rel).read_bytes()).hexdigest() == digest, rel
    inputs = {i["file"]: i["sha256"] for i in m["inputs"]}
    assert set(inputs) == {"study.toml", "subjects.csv", "ae.csv", "rs.csv", "ex.jsonl"}
    for rel, digest in inputs.items():
        assert hashlib.sha256((study_dir / rel).read_bytes()).hexdigest() == digest, rel
    assert "response.marrow_blasts_pct" in m["unmapped_fields"]


def test_rerun_is_byte_identical(pkg: Path, study_dir: Path, tmp_path: Path):
    first = tree_digest(pkg)
    run(study_dir, tmp_path / "second")
    assert tree_digest(tmp_path / "second") == first
    run(study_dir, pkg)  # again into the same folder: replaced by identical bytes
    assert tree_digest(pkg) == first
    assert not [p for p in pkg.parent.iterdir() if p.name.startswith(".")]


def xpt_stamp(when: dt.datetime) -> bytes:
    return when.strftime("%d%b%y:%H:%M:%S").upper().encode("ascii")


def test_source_date_epoch_sets_the_xpt_timestamp(pkg: Path, study_dir: Path, tmp_path: Path):
    default = (pkg / "sdtm" / "dm.xpt").read_bytes()
    configured = xpt_stamp(dt.datetime(2023, 1, 31))  # package_datetime in study.toml
    assert configured in default
    run(study_dir, tmp_path / "epoch", env={"SOURCE_DATE_EPOCH": "1700000000"})
    stamped = (tmp_path / "epoch" / "sdtm" / "dm.xpt").read_bytes()
    new = xpt_stamp(dt.datetime(2023, 11, 14, 22, 13, 20))  # 1700000000 in UTC
    assert stamped != default
    assert new in stamped and configured not in stamped
    assert stamped == default.replace(configured, new)  # only the header timestamps differ
    _, meta = pyreadstat.read_xport(str(tmp_path / "epoch" / "sdtm" / "dm.xpt"))
    assert meta.creation_time == dt.datetime(2023, 11, 14, 22, 13, 20)
