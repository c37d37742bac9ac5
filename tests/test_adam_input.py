"""`cdisc adam` checks the SDTM it reads before deriving: a non-ISO date, an unknown response term or
an absent variable stops it with exit 1 and a problem naming dataset, record and variable, instead of
fewer records or shorter durations with exit 0."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pyreadstat
import pytest
from click.testing import CliRunner

from conftest import ROOT
from converters.cli import main
from studybuilder import make_study


@pytest.fixture(scope="module")
def sdtm(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("adam-input")
    study = make_study(base / "study")
    assert CliRunner().invoke(main, ["convert", str(study), "-o", str(base / "pkg"), "-q"]).exit_code == 0
    return base / "pkg" / "sdtm"


def broken(sdtm: Path, tmp_path: Path, dataset: str, change) -> Path:
    folder = tmp_path / "sdtm"
    shutil.copytree(sdtm, folder)
    path = folder / f"{dataset.lower()}.xpt"
    frame, meta = pyreadstat.read_xport(str(path))
    frame = change(frame)
    pyreadstat.write_xport(frame, str(path), table_name=dataset, file_format_version=5,
                           column_labels=[meta.column_names_to_labels.get(c, "") for c in frame.columns])
    return folder


def set_value(var, row, value):
    def change(frame):
        frame.loc[row, var] = value
        return frame
    return change


CASES = {  # case -> (dataset, change, rule, record, variable)
    "rsdtc-not-iso": ("RS", set_value("RSDTC", 2, "01MAY2021"), "ADAM-INPUT-DATE", 3, "RSDTC"),
    "rsstresc-lower-case": ("RS", set_value("RSSTRESC", 0, "cr"), "ADAM-INPUT-TERM", 1, "RSSTRESC"),
    "exstdtc-impossible-day": ("EX", set_value("EXSTDTC", 0, "2021-02-30"), "ADAM-INPUT-DATE", 1, "EXSTDTC"),
    "dthdtc-zulu": ("DM", set_value("DTHDTC", 0, "2021-06-01T10:00Z"), "ADAM-INPUT-DATE", 1, "DTHDTC"),
    "dm-without-actarmcd": ("DM", lambda f: f.drop(columns=["ACTARMCD"]), "ADAM-INPUT-VARIABLE", None, "ACTARMCD"),
    "dm-without-usubjid": ("DM", lambda f: f.drop(columns=["USUBJID"]), "ADAM-INPUT-VARIABLE", None, "USUBJID"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_sdtm_stops_adam_with_one_problem(case, sdtm: Path, tmp_path: Path):
    dataset, change, rule, record, variable = CASES[case]
    folder = broken(sdtm, tmp_path, dataset, change)
    out = tmp_path / "pkg"
    run = subprocess.run([sys.executable, "-m", "converters.cli", "adam", str(folder), "-o", str(out), "-q"],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    lines = [line for line in run.stdout.splitlines() if rule in line]
    assert len(lines) == 1 and variable in lines[0], run.stdout
    assert (f"row {record} " in lines[0]) if record else "row" not in lines[0].split(rule)[0]
    assert not out.exists()


def test_landmark_visit_absent_is_a_warning(sdtm: Path, tmp_path: Path):
    from converters.adam.input_checks import check_sdtm_input
    from converters.adam.sdtm_in import read_sdtm
    from converters.adam.build import analysis_definitions

    analysis = {**analysis_definitions(None)[0], "landmark_visit": "MONTH 33"}
    found = check_sdtm_input(read_sdtm(sdtm), analysis)
    assert [(p.rule, p.severity, p.value) for p in found] == [("ADAM-INPUT-LANDMARK", "warning", "MONTH 33")]
    assert check_sdtm_input(read_sdtm(sdtm), analysis_definitions(None)[0]) == []
