"""ADaM end to end: `cdisc convert` writes adam/{adsl,adrs,adtte}.xpt equal to derive_adam's frames,
with the spec's labels and DATE9. formats; `cdisc adam` on the SDTM folder gives the same bytes, and
refuses unusable SDTM folders with a one-line message."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from converters.adam.build import derive_adam
from converters.adam.sdtm_in import read_sdtm
from converters.cli import main
from schemas.config import load_config
from specs import dataset
from xpt_namestr import display_formats
from studybuilder import AES, CONFIG, EX, RS, SUBJECTS, make_study

ADAM = "adamig-1.3"
NAMES = ("adsl", "adrs", "adtte")
SAS_EPOCH = pd.Timestamp("1960-01-01")

# the small study plus: a relapse of subject 001 at month 6; subject 004 infused, non-responder, dead
# with a partial death date; an AE with partial start and end dates; dose groups in the configuration
SUBJECTS_X = SUBJECTS + [dict(SUBJECTS[0], subject_id="004", age="40", informed_consent_date="2021-01-20",
                              apheresis_date="2021-02-01", infusion_date="2021-03-01", death_date="2021-09",
                              death_cause="Disease progression", last_known_alive_date="2021-08-20")]
RS_X = RS + [
    dict(RS[0], visit="MONTH 6", visit_number="5", assessment_date="2021-08-01", overall_response="RELAPSE",
         mrd_status="POSITIVE"),
    dict(RS[0], subject_id="004", assessment_date="2021-04-01", overall_response="NR", mrd_status="POSITIVE"),
]
EX_X = EX + [dict(EX[-1], subject_id="004", start_date="2021-03-01")]
AES_X = AES + [dict(AES[0], ae_id="3", start_date="2021", end_date="2021-03")]
CONFIG_X = CONFIG + '\n[adam]\ndose_groups = { DL1 = "ALL DOSES" }\n'


def invoke(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture(scope="module")
def pkg(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("adam")
    study = make_study(base / "study", subjects=SUBJECTS_X, rs=RS_X, ex=EX_X, aes=AES_X, config=CONFIG_X)
    res = invoke("convert", study, "-o", base / "out", "-q")
    assert res.exit_code == 0, res.output
    return base / "out"


@pytest.fixture(scope="module")
def frames(pkg: Path) -> dict[str, pd.DataFrame]:
    return derive_adam(read_sdtm(pkg / "sdtm"), load_config(pkg.parent / "study"))


def read(folder: Path, name: str):
    return pyreadstat.read_xport(str(folder / f"{name}.xpt"), disable_datetime_conversion=True)


def as_written(col: pd.Series) -> pd.Series:
    """A frame column as it reads back from XPT: dates as SAS days, missing text as ''."""
    if pd.api.types.is_datetime64_any_dtype(col):
        return (col - SAS_EPOCH).dt.days.astype("float64")
    if pd.api.types.is_numeric_dtype(col):
        return col.astype("float64")
    return col.astype(object).where(col.notna(), "").map(str)


def test_adam_files_and_record_counts(pkg: Path, frames):
    assert sorted(p.name for p in (pkg / "adam").glob("*.xpt")) == ["adrs.xpt", "adsl.xpt", "adtte.xpt"]
    for name in NAMES:
        df, meta = read(pkg / "adam", name)
        assert len(df) == len(frames[name.upper()]) and meta.table_name == name.upper()
    assert len(frames["ADSL"]) == 4


@pytest.mark.parametrize("name", NAMES)
def test_written_values_equal_the_derived_frames(pkg: Path, frames, name: str):
    df, _ = read(pkg / "adam", name)
    frame = frames[name.upper()].reset_index(drop=True)
    spec = dataset(name.upper(), ADAM)
    # spec order; a permissible variable with no value at all is not submitted
    expected_cols = [v.name for v in spec.variables if v.name in frame.columns
                     and not (v.core == "Perm" and frame[v.name].isna().all())]
    assert list(df.columns) == expected_cols
    for col in df.columns:
        got, want = df[col], as_written(frame[col])
        if pd.api.types.is_numeric_dtype(want):
            np.testing.assert_array_equal(got.to_numpy(dtype="float64"), want.to_numpy(dtype="float64"), err_msg=col)
        else:
            assert got.tolist() == want.tolist(), col


def test_written_values_spot_checks(pkg: Path):
    adsl, _ = read(pkg / "adam", "adsl")
    s4 = adsl.set_index("USUBJID").loc["TST-01-004"]
    # partial death date 2021-09 imputed to 2021-09-01
    assert s4["DTHDT"] == (pd.Timestamp("2021-09-01") - SAS_EPOCH).days
    assert (s4["DTHFL"], s4["DTHCAUS"], s4["TRT01AG1"], s4["TR01AG1N"]) == ("Y", "Disease progression", "ALL DOSES", 1.0)
    adtte, _ = read(pkg / "adam", "adtte")
    os4 = adtte[(adtte["USUBJID"] == "TST-01-004") & (adtte["PARAMCD"] == "OS")].iloc[0]
    assert (os4["AVAL"], os4["CNSR"], os4["EVNTDESC"]) == (185.0, 0.0, "DEATH")  # 2021-03-01 .. 2021-09-01


@pytest.mark.parametrize("name", NAMES)
def test_labels_and_formats_from_the_spec(pkg: Path, name: str):
    _, meta = read(pkg / "adam", name)
    spec = dataset(name.upper(), ADAM)
    assert meta.file_label == spec.label
    for col in meta.column_names:
        var = spec.variable(col)
        assert meta.column_names_to_labels[col] == var.label, col
    formats = display_formats(pkg / "adam" / f"{name}.xpt")
    assert formats == {col: spec.variable(col).display_format or "" for col in meta.column_names}
    dates = {"adsl": {"TRTSDT", "TRTEDT", "DTHDT", "LSTALVDT", "DCUTDT"}, "adrs": {"ADT"}, "adtte": {"STARTDT", "ADT"}}
    assert {c for c, f in formats.items() if f == "DATE9."} == dates[name]


def test_labels_match_variables_csv_text():
    import csv
    path = Path(__file__).resolve().parents[1] / "specs" / ADAM / "variables.csv"
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        assert dataset(r["dataset"], ADAM).variable(r["variable"]).label == r["label"]


def test_partial_ae_dates_do_not_break_adam(pkg: Path):
    ae, _ = pyreadstat.read_xport(str(pkg / "sdtm" / "ae.xpt"))
    assert "2021" in ae["AESTDTC"].tolist()
    assert (pkg / "adam" / "adtte.xpt").stat().st_size > 0


def test_written_adrs_traces_to_written_rs(pkg: Path):
    """Every ADRS SRCSEQ names an RS record of the same subject and date; copied values equal RSSTRESC."""
    adrs, _ = pyreadstat.read_xport(str(pkg / "adam" / "adrs.xpt"))
    rs, _ = pyreadstat.read_xport(str(pkg / "sdtm" / "rs.xpt"))
    rs = rs.set_index(["USUBJID", "RSSEQ"])
    traced = adrs[adrs["SRCSEQ"].notna()]
    assert len(traced) == 15
    for _, row in traced.iterrows():
        src = rs.loc[(row["USUBJID"], row["SRCSEQ"])]
        assert src["RSDTC"] == row["ADT"].isoformat(), row.to_dict()
        if row["PARAMCD"] in {"OVRLRESP", "MRDRESP", "BOR", "RSPM3", "FRESP", "RELPROG"}:
            assert row["AVALC"] == src["RSSTRESC"], row.to_dict()
    assert set(adrs.loc[adrs["SRCSEQ"].isna(), "PARAMCD"]) == {"MRDNCR", "DEATH"}


# --- cdisc adam ----------------------------------------------------------------------------------

def test_cdisc_adam_with_the_same_config_is_byte_identical(pkg: Path, tmp_path: Path):
    res = invoke("adam", pkg / "sdtm", "-o", tmp_path / "a", "--config", pkg.parent / "study" / "study.toml", "-q")
    assert res.exit_code == 0, res.output
    for name in NAMES:
        assert (tmp_path / "a" / "adam" / f"{name}.xpt").read_bytes() == (pkg / "adam" / f"{name}.xpt").read_bytes(), name
    assert (tmp_path / "a" / "reports" / "manifest.json").is_file()


def test_cdisc_adam_without_config_uses_no_dose_groups(pkg: Path, tmp_path: Path):
    res = invoke("adam", pkg / "sdtm", "-o", tmp_path / "a", "-q")
    assert res.exit_code == 0, res.output
    adsl, meta = pyreadstat.read_xport(str(tmp_path / "a" / "adam" / "adsl.xpt"))
    assert adsl["TRT01AG1"].tolist() == adsl["TRT01A"].tolist()
    assert "ALL DOSES" not in adsl["TRT01AG1"].tolist()
    # headers carry the SDTM DM file's creation time
    _, dm_meta = pyreadstat.read_xport(str(pkg / "sdtm" / "dm.xpt"), metadataonly=True)
    assert meta.creation_time == dm_meta.creation_time == dt.datetime(2023, 1, 31)


def copy_sdtm(pkg: Path, dest: Path, *, drop: str | None = None) -> Path:
    shutil.copytree(pkg / "sdtm", dest)
    if drop:
        (dest / drop).unlink()
    return dest


def assert_clean_failure(res, out: Path, *words: str):
    assert res.exit_code == 1, res.output
    assert isinstance(res.exception, SystemExit), res.exc_info  # a handled error, not a crash
    assert "Traceback" not in res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: ")
    for w in words:
        assert w in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.parametrize("with_config", [False, True])
def test_cdisc_adam_on_a_folder_without_rs(pkg: Path, tmp_path: Path, with_config: bool):
    sdtm = copy_sdtm(pkg, tmp_path / "sdtm", drop="rs.xpt")
    cfg = ["--config", pkg.parent / "study" / "study.toml"] if with_config else []
    res = invoke("adam", sdtm, "-o", tmp_path / "out", "-q", *cfg)
    assert_clean_failure(res, tmp_path / "out", "RS", "missing")


@pytest.mark.parametrize("with_config", [True, False])
def test_cdisc_adam_on_a_dm_xpt_that_is_not_xpt(pkg: Path, tmp_path: Path, with_config: bool):
    sdtm = copy_sdtm(pkg, tmp_path / "sdtm")
    (sdtm / "dm.xpt").write_text("USUBJID,AGE\nS1-001,30\n", encoding="utf-8")
    cfg = ["--config", pkg.parent / "study" / "study.toml"] if with_config else []
    res = invoke("adam", sdtm, "-o", tmp_path / "out", "-q", *cfg)
    assert_clean_failure(res, tmp_path / "out", "dm.xpt", "not a readable SAS transport file")


def test_cdisc_adam_on_a_folder_without_dm(pkg: Path, tmp_path: Path):
    sdtm = copy_sdtm(pkg, tmp_path / "sdtm", drop="dm.xpt")
    res = invoke("adam", sdtm, "-o", tmp_path / "out", "-q")
    assert_clean_failure(res, tmp_path / "out", "DM")
