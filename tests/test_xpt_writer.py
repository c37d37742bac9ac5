"""SAS XPORT v5 writer: structure, IBM encoding, round trip through pyreadstat, FDA checks."""
from __future__ import annotations

import datetime as dt
import math
import os
import struct
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from xpt_namestr import display_formats
from converters.xpt import XptError, XptVariable, encode_xpt, read_xpt, write_xpt
from converters.xpt.ibm import IBM_MAX, IBM_MIN, ieee_to_ibm

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PILOT = SHARED / "reference" / "cdiscpilot01" / "sdtm"
CREATED = dt.datetime(2026, 11, 25, 0, 0, 0)

DM_VARS = [
    XptVariable("STUDYID", "Study Identifier", "Char"),
    XptVariable("USUBJID", "Unique Subject Identifier", "Char", length=20),
    XptVariable("AGE", "Age", "Num", format="8."),
    XptVariable("BRTHDT", "Date of Birth", "Num", format="DATE9."),
    XptVariable("WEIGHT", "Weight", "Num", format="8.2"),
    XptVariable("SEX", "Sex", "Char", format="$CHAR1."),
]


def dm_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "STUDYID": ["SSC-01", "SSC-01", "SSC-01"],
        "USUBJID": ["SSC-01-001", "SSC-01-002", None],
        "AGE": [63, 47, 81],
        "BRTHDT": [-1000.0, np.nan, 3652.0],
        "WEIGHT": [70.25, None, 101.5],
        "SEX": ["F", "M", None],
    })


def problems(excinfo) -> list[tuple]:
    return [(p.dataset, p.variable, p.record, p.rule) for p in excinfo.value.problems]


# --- IBM 370 encoding -----------------------------------------------------------------------------

@pytest.mark.parametrize("value, hexcode", [
    (0.0, "0000000000000000"),
    (-0.0, "0000000000000000"),
    (1.0, "4110000000000000"),
    (-1.0, "C110000000000000"),
    (100.0, "4264000000000000"),
    (-118.625, "C276A00000000000"),  # classic IBM hex-float example
    (0.1, "401999999999999A"),
    (1e-5, "3CA7C5AC471B4788"),
    (1_000_000.0, "45F4240000000000"),
    (2.0**53, "4E20000000000000"),
    (2.0**53 - 1, "4E1FFFFFFFFFFFFF"),
    (float("nan"), "2E00000000000000"),  # SAS missing "."
    (IBM_MIN, "0010000000000000"),
])
def test_ibm_known_values(value, hexcode):
    codes, bad = ieee_to_ibm(np.array([value]))
    assert not bad.any()
    assert f"{int(codes[0]):016X}" == hexcode


def test_ibm_out_of_range_flagged():
    values = np.array([IBM_MAX, IBM_MAX * 2, -1e80, IBM_MIN / 2, 1e-300, 5e-324, math.inf, -math.inf, 1.0])
    _, bad = ieee_to_ibm(values)
    assert bad.tolist() == [False, True, True, True, True, True, True, True, False]


# --- file structure --------------------------------------------------------------------------------

def test_layout_matches_ts140(tmp_path):
    raw = encode_xpt(dm_frame(), dataset="DM", label="Demographics", variables=DM_VARS, created=CREATED)
    assert len(raw) % 80 == 0
    recs = [raw[i:i + 80] for i in range(0, len(raw), 80)]
    assert recs[0] == b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!" + b"0" * 30 + b"  "
    assert recs[1][:40] == b"SAS     SAS     SASLIB  9.4     X64_7PRO"
    assert recs[1][64:] == b"25NOV26:00:00:00" and recs[2][:16] == b"25NOV26:00:00:00"
    assert recs[3] == b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!000000000000000001600000000140  "
    assert recs[4].startswith(b"HEADER RECORD*******DSCRPTR HEADER RECORD!!!!!!!")
    assert recs[5][:24] == b"SAS     DM      SASDATA "
    assert recs[6][32:72] == b"Demographics".ljust(40)
    assert recs[7] == b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!000000000600000000000000000000  "
    names = raw[640:640 + 6 * 140]
    age = names[2 * 140:3 * 140]
    ntype, nhfun, nlng, nvar0 = struct.unpack(">hhhh", age[:8])
    assert (ntype, nlng, nvar0) == (1, 8, 3) and age[8:16] == b"AGE     "
    brthdt = names[3 * 140:4 * 140]
    assert brthdt[56:64] == b"DATE    " and struct.unpack(">hhh", brthdt[64:70]) == (9, 0, 0)
    weight = names[4 * 140:5 * 140]
    assert struct.unpack(">hh", weight[64:68]) == (8, 2)
    # npos: STUDYID(6) + USUBJID(20) puts AGE at byte 26.
    assert struct.unpack(">i", age[84:88]) == (26,)
    obs = 640 + math.ceil(6 * 140 / 80) * 80
    assert raw[obs:obs + 80].startswith(b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!")
    row1 = raw[obs + 80:obs + 80 + 51]  # 6 + 20 + 8 + 8 + 8 + 1
    assert row1[:26] == b"SSC-01SSC-01-001          "
    assert row1[26:34] == bytes.fromhex("423F000000000000")  # 63
    assert len(raw) == obs + 80 + 160 and raw[-7:] == b" " * 7  # 153 data bytes padded to 160


def test_round_trip_values_and_metadata(tmp_path):
    path = tmp_path / "dm.xpt"
    info = write_xpt(path, dm_frame(), dataset="DM", label="Demographics", variables=DM_VARS, created=CREATED)
    assert info["rows"] == 3
    assert info["lengths"] == {"STUDYID": 6, "USUBJID": 20, "AGE": 8, "BRTHDT": 8, "WEIGHT": 8, "SEX": 1}
    df, meta = read_xpt(path, disable_datetime_conversion=True)
    assert meta.table_name == "DM" and meta.file_label == "Demographics"
    assert list(df.columns) == [v.name for v in DM_VARS]
    assert meta.column_names_to_labels["USUBJID"] == "Unique Subject Identifier"
    assert meta.variable_storage_width == info["lengths"]
    formats = display_formats(path)
    assert (formats["BRTHDT"], formats["WEIGHT"], formats["SEX"], formats["AGE"]) == ("DATE9.", "8.2", "$CHAR1.", "8.")
    assert df["USUBJID"].tolist() == ["SSC-01-001", "SSC-01-002", ""]
    assert df["SEX"].tolist() == ["F", "M", ""]
    assert df["AGE"].tolist() == [63.0, 47.0, 81.0]
    assert df["BRTHDT"].iloc[0] == -1000.0 and math.isnan(df["BRTHDT"].iloc[1])
    assert df["WEIGHT"].iloc[0] == 70.25 and math.isnan(df["WEIGHT"].iloc[1])


def test_sha256_and_determinism(tmp_path):
    import hashlib

    a = encode_xpt(dm_frame(), dataset="DM", label="Demographics", variables=DM_VARS, created=CREATED)
    b = encode_xpt(dm_frame(), dataset="DM", label="Demographics", variables=DM_VARS, created=CREATED)
    assert a == b
    info = write_xpt(tmp_path / "dm.xpt", dm_frame(), dataset="DM", label="Demographics",
                     variables=DM_VARS, created=CREATED)
    assert (tmp_path / "dm.xpt").read_bytes() == a
    assert info["sha256"] == hashlib.sha256(a).hexdigest()
    later = encode_xpt(dm_frame(), dataset="DM", label="Demographics", variables=DM_VARS,
                       created=CREATED + dt.timedelta(days=1))
    assert later != a and later.count(b"26NOV26:00:00:00") == 4


def test_zero_rows(tmp_path):
    frame = pd.DataFrame({"STUDYID": pd.Series([], dtype="str"), "AESEQ": pd.Series([], dtype="float64")})
    variables = [XptVariable("STUDYID", "Study Identifier", "Char"), XptVariable("AESEQ", "Sequence Number", "Num")]
    info = write_xpt(tmp_path / "ae.xpt", frame, dataset="AE", label="Adverse Events", variables=variables,
                     created=CREATED)
    assert info["rows"] == 0 and info["lengths"] == {"STUDYID": 1, "AESEQ": 8}
    raw = (tmp_path / "ae.xpt").read_bytes()
    assert raw.endswith(b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!" + b"0" * 30 + b"  ")
    df, meta = read_xpt(tmp_path / "ae.xpt")
    assert len(df) == 0 and list(df.columns) == ["STUDYID", "AESEQ"]


def test_dtypes_accepted():
    frame = pd.DataFrame({
        "A": pd.array([1, None, 3], dtype="Int64"),
        "B": np.array([1, 2, 3], dtype=np.int32),
        "C": pd.Series(["x", pd.NA, "z"], dtype="string"),
        "D": pd.Series([1.5, None, ".A"], dtype=object),
        "E": pd.Series(["p", None, np.nan], dtype=object),
    })
    variables = [XptVariable(n, n, "Char" if n in "CE" else "Num") for n in "ABCDE"]
    raw = encode_xpt(frame, dataset="T", label="", variables=variables, created=CREATED)
    data = raw[-80:]
    # row 2: A missing ".", B=2, C blank, D missing ".", E blank; row 3: D is special missing ".A"
    row = lambda i: data[i * 26:(i + 1) * 26]  # noqa: E731  8+8+1+8+1
    assert row(1)[:8] == bytes.fromhex("2E00000000000000")
    assert row(1)[8:16] == bytes.fromhex("4120000000000000")
    assert row(1)[16:17] == b" " and row(1)[25:26] == b" "
    assert row(2)[17:25] == bytes.fromhex("4100000000000000")


def test_special_missing_round_trip(tmp_path):
    frame = pd.DataFrame({"ID": ["1", "2", "3"], "V": pd.Series([".", ".B", "._"], dtype=object)})
    variables = [XptVariable("ID", "Id", "Char"), XptVariable("V", "Value", "Num")]
    write_xpt(tmp_path / "t.xpt", frame, dataset="T", label="", variables=variables, created=CREATED)
    raw = (tmp_path / "t.xpt").read_bytes()
    rows = raw[-80:][:27]
    assert [rows[i * 9 + 1:i * 9 + 9] for i in range(3)] == [
        bytes.fromhex(h) for h in ("2E00000000000000", "4200000000000000", "5F00000000000000")]
    df, _ = read_xpt(tmp_path / "t.xpt")
    assert df["V"].isna().all() and df["ID"].tolist() == ["1", "2", "3"]


def test_char_length_rstrips_trailing_blanks_and_keeps_leading():
    frame = pd.DataFrame({"C": ["  ab   ", "x"], "N": [1.0, 2.0]})
    variables = [XptVariable("C", "c", "Char"), XptVariable("N", "n", "Num")]
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        info = write_xpt(Path(d) / "t.xpt", frame, dataset="T", label="", variables=variables, created=CREATED)
        df, meta = read_xpt(Path(d) / "t.xpt")
    assert info["lengths"]["C"] == 4  # FDA TCG 4.1.5.2: longest value, trailing blanks not stored data
    assert df["C"].tolist() == ["  ab", "x"]


# --- FDA / XPORT checks -------------------------------------------------------------------------------

def test_file_name_must_match_dataset_and_be_lower_case(tmp_path):
    args = dict(frame=dm_frame(), dataset="DM", label="Demographics", variables=DM_VARS, created=CREATED)
    for bad in ("DM.xpt", "ae.xpt", "dm.XPT", "dm.xp"):
        with pytest.raises(XptError) as ei:
            write_xpt(tmp_path / bad, **args)
        assert problems(ei) == [("DM", None, None, "XPT-FILE-NAME")]
    assert list(tmp_path.iterdir()) == []  # nothing written, no temp file left behind


def test_dataset_name_and_label_rules():
    frame = pd.DataFrame({"A": [1.0]})
    variables = [XptVariable("A", "a", "Num")]
    for dataset in ("dm", "DATASET12", "1DM", "D_M", ""):
        with pytest.raises(XptError) as ei:
            encode_xpt(frame, dataset=dataset, label="", variables=variables, created=CREATED)
        assert [p[3] for p in problems(ei)] == ["XPT-DATASET-NAME"]
    for label in ("x" * 41, "Démographie"):
        with pytest.raises(XptError) as ei:
            encode_xpt(frame, dataset="DM", label=label, variables=variables, created=CREATED)
        assert problems(ei) == [("DM", None, None, "XPT-DATASET-LABEL")]


def test_variable_metadata_rules_all_reported_at_once():
    variables = [
        XptVariable("usubjid", "ok", "Char"),  # lower case
        XptVariable("_TEMP", "ok", "Num"),  # leading underscore (FDA TCG 4.1.5)
        XptVariable("LONGNAME9", "ok", "Num"),
        XptVariable("LBL", "L" * 41, "Num"),
        XptVariable("ACC", "Âge", "Num"),
        XptVariable("DUP", "a", "Num"),
        XptVariable("DUP", "b", "Num"),
        XptVariable("NLEN", "n", "Num", length=4),
        XptVariable("CLEN", "c", "Char", length=201),
        XptVariable("FMT", "f", "Num", format="DATE"),
        XptVariable("FMT2", "f", "Num", format="$CHAR5."),
        XptVariable("TYP", "t", "Date"),
    ]
    frame = pd.DataFrame({v.name: [1.0] for v in variables if v.name != "DUP"})
    with pytest.raises(XptError) as ei:
        encode_xpt(frame, dataset="T", label="", variables=variables, created=CREATED)
    got = {(p[1], p[3]) for p in problems(ei)}
    assert got == {
        ("usubjid", "XPT-VAR-NAME"), ("_TEMP", "XPT-VAR-NAME"), ("LONGNAME9", "XPT-VAR-NAME"),
        ("LBL", "XPT-VAR-LABEL"), ("ACC", "XPT-VAR-LABEL"), ("DUP", "XPT-VAR-DUPLICATE"),
        ("NLEN", "XPT-VAR-LENGTH"), ("CLEN", "XPT-VAR-LENGTH"), ("FMT", "XPT-FORMAT"),
        ("FMT2", "XPT-FORMAT"), ("TYP", "XPT-VAR-TYPE"), ("DUP", "XPT-COLUMNS"),
    }


def test_missing_and_extra_columns():
    frame = pd.DataFrame({"A": [1.0], "EXTRA": [2.0]})
    variables = [XptVariable("A", "a", "Num"), XptVariable("B", "b", "Num")]
    with pytest.raises(XptError) as ei:
        encode_xpt(frame, dataset="T", label="", variables=variables, created=CREATED)
    assert sorted(problems(ei)) == [("T", "B", None, "XPT-COLUMNS"), ("T", "EXTRA", None, "XPT-COLUMNS")]


def test_character_value_rules_name_record_and_value():
    frame = pd.DataFrame({
        "ID": ["1", "2", "3", "4"],
        "LONG": ["a", "b" * 201, "c", "d" * 250],
        "UTF": ["ok", "café", "naïve", "x"],
        "FIX": ["abc", "abcd", "ab", "abcde"],
        "NUL": ["a\x00b", "b", "c", "d"],
        "TYPE": ["a", 5, "c", "d"],
    })
    variables = [XptVariable("ID", "id", "Char"), XptVariable("LONG", "l", "Char"),
                 XptVariable("UTF", "u", "Char"), XptVariable("FIX", "f", "Char", length=3),
                 XptVariable("NUL", "n", "Char"), XptVariable("TYPE", "t", "Char")]
    with pytest.raises(XptError) as ei:
        encode_xpt(frame, dataset="T", label="", variables=variables, created=CREATED)
    assert problems(ei) == [
        ("T", "LONG", 2, "XPT-CHAR-200"), ("T", "LONG", 4, "XPT-CHAR-200"),
        ("T", "UTF", 2, "XPT-CHAR-ASCII"), ("T", "UTF", 3, "XPT-CHAR-ASCII"),
        ("T", "FIX", 2, "XPT-CHAR-LENGTH"), ("T", "FIX", 4, "XPT-CHAR-LENGTH"),
        ("T", "NUL", 1, "XPT-CHAR-ASCII"),
        ("T", "TYPE", 2, "XPT-CHAR-TYPE"),
    ]
    assert ei.value.problems[2].value == "café"
    assert "T.UTF record 2" in str(ei.value)


def test_transliterate_maps_accents_and_still_rejects_the_rest(tmp_path):
    frame = pd.DataFrame({"C": ["café", "Ñandú", "ﬁle"], "N": [1.0, 2.0, 3.0]})
    variables = [XptVariable("C", "c", "Char"), XptVariable("N", "n", "Num")]
    write_xpt(tmp_path / "t.xpt", frame, dataset="T", label="", variables=variables, created=CREATED,
              transliterate=True)
    df, _ = read_xpt(tmp_path / "t.xpt")
    assert df["C"].tolist() == ["cafe", "Nandu", "file"]
    frame.loc[1, "C"] = "发热"  # Chinese text has no ASCII transliteration
    with pytest.raises(XptError) as ei:
        encode_xpt(frame, dataset="T", label="", variables=variables, created=CREATED, transliterate=True)
    assert problems(ei) == [("T", "C", 2, "XPT-CHAR-ASCII")]


def test_numeric_value_rules():
    frame = pd.DataFrame({
        "RANGE": [1.0, 1e80, -math.inf, 1e-90],
        "OBJ": pd.Series([1, "abc", True, 2.5], dtype=object),
        "BIG": np.array([1, 2**60 + 1, 3, -(2**53) - 1], dtype=np.int64),
    })
    variables = [XptVariable(n, n, "Num") for n in frame.columns]
    with pytest.raises(XptError) as ei:
        encode_xpt(frame, dataset="T", label="", variables=variables, created=CREATED)
    assert problems(ei) == [
        ("T", "RANGE", 2, "XPT-NUM-RANGE"), ("T", "RANGE", 3, "XPT-NUM-RANGE"), ("T", "RANGE", 4, "XPT-NUM-RANGE"),
        ("T", "OBJ", 2, "XPT-NUM-TYPE"), ("T", "OBJ", 3, "XPT-NUM-TYPE"),
        ("T", "BIG", 2, "XPT-NUM-PRECISION"), ("T", "BIG", 4, "XPT-NUM-PRECISION"),
    ]
    with pytest.raises(XptError) as ei:
        encode_xpt(pd.DataFrame({"B": [True, False]}), dataset="T", label="",
                   variables=[XptVariable("B", "b", "Num")], created=CREATED)
    assert problems(ei) == [("T", "B", None, "XPT-NUM-TYPE")]


def test_exact_large_integers_survive(tmp_path):
    ints = np.array([0, 1, -1, 2**53, -(2**53), 2**60, 123456789012345], dtype=np.int64)
    frame = pd.DataFrame({"ID": ["a"] * len(ints), "N": ints})
    variables = [XptVariable("ID", "id", "Char"), XptVariable("N", "n", "Num")]
    write_xpt(tmp_path / "t.xpt", frame, dataset="T", label="", variables=variables, created=CREATED)
    df, _ = read_xpt(tmp_path / "t.xpt")
    assert [int(v) for v in df["N"]] == ints.tolist()


def test_trailing_all_blank_row_is_refused():
    # ReadStat and SAS take blank trailing rows for record padding; writing one would lose it.
    frame = pd.DataFrame({"A": ["x", None, ""], "B": ["y", "", None]})
    variables = [XptVariable("A", "a", "Char"), XptVariable("B", "b", "Char")]
    with pytest.raises(XptError) as ei:
        encode_xpt(frame, dataset="T", label="", variables=variables, created=CREATED)
    assert problems(ei) == [("T", None, 2, "XPT-BLANK-LAST-ROW"), ("T", None, 3, "XPT-BLANK-LAST-ROW")]
    # A blank row in the middle is fine, and so is any row when a numeric variable exists.
    frame2 = pd.DataFrame({"A": ["", "x"], "B": ["", "y"]})
    encode_xpt(frame2, dataset="T", label="", variables=variables, created=CREATED)


def test_failed_write_keeps_previous_file(tmp_path):
    path = tmp_path / "dm.xpt"
    write_xpt(path, dm_frame(), dataset="DM", label="Demographics", variables=DM_VARS, created=CREATED)
    before = path.read_bytes()
    bad = dm_frame()
    bad.loc[0, "STUDYID"] = "é"
    with pytest.raises(XptError):
        write_xpt(path, bad, dataset="DM", label="Demographics", variables=DM_VARS, created=CREATED)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dm.xpt"]
    assert os.stat(path).st_mode & 0o777 == 0o644


def test_row_blocks_join_seamlessly(monkeypatch, tmp_path):
    from converters.xpt import writer

    rng = np.random.default_rng(7)
    n = 1000
    frame = pd.DataFrame({
        "ID": [f"S-{i:04d}" for i in range(n)],
        "TXT": pd.Series(np.where(rng.random(n) < 0.3, None, rng.choice(["a", "bb b", "ccc cc c", ""], n)),
                         dtype=object),
        "VAL": np.where(rng.random(n) < 0.2, np.nan, rng.standard_normal(n)),
    })
    variables = [XptVariable("ID", "Id", "Char"), XptVariable("TXT", "Text", "Char"),
                 XptVariable("VAL", "Value", "Num")]
    one_block = encode_xpt(frame, dataset="T", label="", variables=variables, created=CREATED)
    monkeypatch.setattr(writer, "BLOCK_BYTES", 7 * 22)  # 7 rows of 22 bytes per block: 143 blocks
    many = encode_xpt(frame, dataset="T", label="", variables=variables, created=CREATED)
    assert many == one_block
    write_xpt(tmp_path / "t.xpt", frame, dataset="T", label="", variables=variables, created=CREATED)
    assert (tmp_path / "t.xpt").read_bytes() == one_block
    df, _ = read_xpt(tmp_path / "t.xpt")
    assert df["ID"].tolist() == frame["ID"].tolist()
    assert df["TXT"].tolist() == frame["TXT"].fillna("").tolist()
    np.testing.assert_array_equal(df["VAL"].to_numpy(), frame["VAL"].to_numpy())


def test_no_variables_is_an_error():
    with pytest.raises(XptError) as ei:
        encode_xpt(pd.DataFrame(), dataset="T", label="", variables=[], created=CREATED)
    assert problems(ei) == [("T", None, None, "XPT-VAR-COUNT")]


# --- SAS-written reference files --------------------------------------------------------------------

def _pilot_variables(meta, frame) -> list[XptVariable]:
    out = []
    for col in frame.columns:
        is_char = meta.readstat_variable_types[col] == "string"
        out.append(XptVariable(col, meta.column_names_to_labels[col] or "", "Char" if is_char else "Num",
                               meta.variable_storage_width[col] if is_char else None))
    return out


@pytest.mark.skipif(not PILOT.is_dir(), reason="shared reference data absent")
@pytest.mark.parametrize("name", ["ae", "cm", "dm", "ds", "ex", "mh", "relrec", "sc", "se", "suppae", "suppdm",
                                  "suppds", "sv", "ta", "te", "ti", "tv"])
def test_rewrite_of_sas_written_pilot_file(tmp_path, name):
    src = PILOT / f"{name}.xpt"
    ref = src.read_bytes()
    frame, meta = read_xpt(src)
    created = dt.datetime.strptime(ref[144:160].decode(), "%d%b%y:%H:%M:%S")
    out = tmp_path / f"{name}.xpt"
    write_xpt(out, frame, dataset=meta.table_name, label=meta.file_label or "",
              variables=_pilot_variables(meta, frame), created=created)
    again, meta2 = read_xpt(out)
    pd.testing.assert_frame_equal(again, frame)
    assert meta2.variable_storage_width == meta.variable_storage_width
    assert meta2.column_names_to_labels == meta.column_names_to_labels
    # With SAS's own lengths and timestamp, only the SAS version/OS fields (ours: 9.4 X64_7PRO) differ.
    assert out.read_bytes() == ref.replace(b"9.3     X64_7HOM", b"9.4     X64_7PRO")


@pytest.mark.skipif(not PILOT.is_dir(), reason="shared reference data absent")
def test_pilot_ts_non_ascii_value_is_reported():
    frame, meta = read_xpt(PILOT / "ts.xpt", encoding="cp1252")
    with pytest.raises(XptError) as ei:
        encode_xpt(frame, dataset="TS", label="", variables=_pilot_variables(meta, frame), created=CREATED)
    assert problems(ei) == [("TS", "TSVAL", r, "XPT-CHAR-ASCII") for r in (9, 14, 29)]
