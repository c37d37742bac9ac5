"""The example study examples/sscart19: converts, and the published figures can be counted from the XPT
files themselves (the abstract's disposition, demographics, toxicity, deaths and month-3 response)."""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import statistics
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
from click.testing import CliRunner

from converters.cli import main
from studybuilder import EXAMPLE, copy_example

pytestmark = pytest.mark.skipif(not (EXAMPLE / "source" / "subjects.csv").is_file(),
                                reason="examples/sscart19/source/subjects.csv not generated yet "
                                       "(run examples/sscart19/generate.py)")


def convert(study: Path, out: Path):
    return CliRunner().invoke(main, ["convert", str(study), "-o", str(out)])


@pytest.fixture(scope="module")
def pkg(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("example") / "pkg"
    result = convert(EXAMPLE, out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def xpt(pkg: Path):
    def read(name: str) -> pd.DataFrame:
        return pyreadstat.read_xport(str(pkg / "sdtm" / f"{name}.xpt"))[0]
    return read


@pytest.fixture(scope="module")
def treated(xpt) -> pd.DataFrame:
    dm = xpt("dm")
    return dm[dm["RFXSTDTC"] != ""]


def grade(ae: pd.DataFrame) -> pd.Series:
    return pd.to_numeric(ae["AETOXGR"])


def test_converts_without_errors(pkg: Path):
    report = json.loads((pkg / "reports" / "source-validation.json").read_text())
    assert report["errors"] == 0
    manifest = json.loads((pkg / "reports" / "manifest.json").read_text())
    for form, r in manifest["reconciliation"].items():
        assert r["rows_rejected"] == 0 and r["rows_read"] == r["rows_mapped"], form


def test_disposition(xpt):
    dm = xpt("dm")
    assert len(dm) == 31
    assert dm["USUBJID"].is_unique
    assert (dm["ARMNRS"] == "SCREEN FAILURE").sum() == 10
    assert (dm["ARMNRS"] == "ASSIGNED, NOT TREATED").sum() == 4
    assert (dm["RFXSTDTC"] != "").sum() == 17
    assert dm.loc[dm["ARMNRS"] == "SCREEN FAILURE", "ARMCD"].eq("").all()
    nt = dm[dm["ARMNRS"] == "ASSIGNED, NOT TREATED"]
    assert nt["ARMCD"].ne("").all() and nt["ACTARMCD"].eq("").all()


def test_actual_arms(treated):
    assert treated["ACTARMCD"].value_counts().to_dict() == {"DL1": 10, "DL2": 6, "DL3": 1}


def test_demographics_of_treated(treated):
    assert treated["SEX"].value_counts().to_dict() == {"M": 9, "F": 8}
    assert statistics.median(treated["AGE"]) == 39


def test_grade_3_or_more_by_preferred_term(xpt):
    ae = xpt("ae")
    severe = ae[grade(ae) >= 3].groupby("AEDECOD")["USUBJID"].nunique()
    assert {t: severe.get(t, 0) for t in ("Lymphopenia", "Neutropenia", "Leukopenia", "Anaemia", "Thrombocytopenia")} == {
        "Lymphopenia": 16, "Neutropenia": 15, "Leukopenia": 15, "Anaemia": 12, "Thrombocytopenia": 10}


def test_crs_and_no_icans(xpt, treated):
    ae = xpt("ae")
    crs = ae[ae["AEDECOD"] == "Cytokine release syndrome"]
    assert crs["USUBJID"].nunique() == 13
    severe = crs[grade(crs) >= 3].merge(treated[["USUBJID", "ACTARMCD"]], on="USUBJID")
    by_arm = severe.groupby("ACTARMCD")["USUBJID"].nunique()
    assert {a: by_arm.get(a, 0) for a in ("DL1", "DL2", "DL3")} == {"DL1": 1, "DL2": 2, "DL3": 0}
    assert not ae["AEDECOD"].str.contains("neurotoxicity", case=False).any()
    assert not ae["AETERM"].str.contains("ICANS", case=False).any()
    supp = xpt("suppae")
    scale = {(u, float(i)): q for u, i, q in zip(supp.USUBJID, supp.IDVARVAL, supp.QVAL)}
    assert {scale[(u, s)] for u, s in zip(crs.USUBJID, crs.AESEQ)} == {"ASTCT"}


def test_septic_shock_deaths(xpt):
    dm, supp = xpt("dm"), xpt("suppdm")
    cause = {u: v for u, q, v in zip(supp.USUBJID, supp.QNAM, supp.QVAL) if q == "DTHCAUS"}
    dead = dm[dm["DTHFL"] == "Y"]
    assert 2 <= len(dead) <= 5
    assert (dead["DTHDTC"] != "").all()
    septic = dead[dead["USUBJID"].map(cause) == "Septic shock"]
    assert len(septic) == 2
    days = sorted((dt.date.fromisoformat(d[:10]) - dt.date.fromisoformat(r[:10])).days
                  for d, r in zip(septic.DTHDTC, septic.RFSTDTC))
    assert days == [12, 42]
    assert (dm.loc[dm["DTHFL"] != "Y", "DTHDTC"] == "").all()


def test_month_3_response(xpt, treated):
    rs = xpt("rs")
    m3 = rs[rs["VISIT"] == "MONTH 3"]
    ovr = m3[(m3["RSTESTCD"] == "OVRLRESP") & m3["RSORRES"].isin(["CR", "CRi"])]
    responders = set(ovr["USUBJID"])
    assert len(responders) == 11
    arms = treated.set_index("USUBJID")["ACTARMCD"]
    assert sum(arms[u] == "DL1" for u in responders) == 7
    mrd = m3[(m3["RSTESTCD"] == "MRDRESP") & m3["USUBJID"].isin(responders)]
    assert set(mrd["USUBJID"]) == responders
    assert set(mrd["RSORRES"]) == {"NEGATIVE"}


# --- broken copies of the example: exit 1, the problem named, nothing written ---------------------

def edit_csv(path: Path, edit) -> None:
    """Rewrite a CSV through ``edit(header, rows)``, keeping a BOM if the file had one."""
    raw = path.read_bytes()
    bom = raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    header, body = edit(rows[0], rows[1:])
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *body])
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode("utf-8"))


def set_cell(column: str, row: int, value: str):
    def edit(header, body):
        body[row - 2][header.index(column)] = value
        return header, body
    return edit


def drop_column(column: str):
    def edit(header, body):
        i = header.index(column)
        return header[:i] + header[i + 1:], [r[:i] + r[i + 1:] for r in body]
    return edit


def cp1252_byte(path: Path) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"Neutropenia", b"Neutrop\xe9nia", 1)
    assert b"\xe9" in lines[2]
    path.write_bytes(b"\n".join(lines))


BREAKS = {
    "bad date": (lambda d: edit_csv(d / "source/response.csv", set_cell("assessment_date", 2, "2021-05-32")),
                 ["source/response.csv", "2", "assessment_date", "SRC-DATE"]),
    "unknown subject": (lambda d: edit_csv(d / "source/adverse_events.csv", set_cell("SUBJNO", 2, "999")),
                        ["source/adverse_events.csv", "2", "subject_id", "SRC-SUBJECT-UNKNOWN"]),
    "missing column": (lambda d: edit_csv(d / "source/adverse_events.csv", drop_column("preferred_term")),
                       ["source/adverse_events.csv", "1", "preferred_term", "SRC-COLUMN-MISSING"]),
    "cp1252 byte": (lambda d: cp1252_byte(d / "source/adverse_events.csv"),
                    ["source/adverse_events.csv", "3", "SRC-ENCODING"]),
}


@pytest.mark.parametrize("kind", list(BREAKS))
def test_broken_example(tmp_path: Path, kind: str):
    study = copy_example(tmp_path / "sscart19")
    brk, expected = BREAKS[kind]
    brk(study)
    out = tmp_path / "out"
    result = convert(study, out)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    rows, file = [], None  # each cause line with the file of the heading above it
    for line in result.stdout.splitlines():
        if line.endswith((": 1 error", " errors")):
            file = line.rsplit(": ", 1)[0]
        elif line.startswith("  ") and file:
            rows.append([file, *line.split()])
    assert any(all(e in r for e in expected) for r in rows), result.stdout
    assert not (out / "sdtm").exists() and not out.exists()
