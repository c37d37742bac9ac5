"""The `cdisc` command line: exit status, problem table, all-or-nothing output, several studies."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import converters.pipeline as pipeline
from conftest import ROOT, tree_digest
from converters.cli import main
from studybuilder import AES, RS, changed, make_study

BROKEN_RS = changed(RS, 1, assessment_date="2021-02-30")


def invoke(*args: str, **kw):
    return CliRunner().invoke(main, list(args), **kw)


def staging_left(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


def test_help_and_version():
    assert invoke("--help").exit_code == 0
    result = invoke("--version")
    assert result.exit_code == 0 and "cdisc" in result.output


def test_good_study_exit_0(study: Path, tmp_path: Path):
    result = invoke("convert", str(study), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    last = result.stdout.strip().splitlines()
    assert last[-2].split() == ["study", "status", "errors", "warnings", "records"]
    assert last[-1].split()[:4] == ["study", "ok", "0", "0"]
    assert "DM 3" in last[-1]
    assert (tmp_path / "out" / "sdtm" / "dm.xpt").is_file()
    # progress goes to stderr, not into the report on stdout
    assert "reading and checking source" in result.stderr
    assert "reading and checking source" not in result.stdout


def test_quiet_prints_only_the_summary(tmp_path: Path):
    folder = make_study(tmp_path / "s", rs=BROKEN_RS)
    result = invoke("convert", str(folder), "-o", str(tmp_path / "out"), "-q")
    assert result.exit_code == 1
    assert result.stderr == ""
    assert "SRC-DATE" not in result.stdout
    assert result.stdout.strip().splitlines()[-1].split()[:3] == ["s", "FAILED", "1"]


def test_broken_study_exit_1_with_problems_by_cause_and_nothing_written(tmp_path: Path):
    folder = make_study(tmp_path / "s", rs=BROKEN_RS)
    out = tmp_path / "out"
    result = invoke("convert", str(folder), "-o", str(out))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stdout.splitlines()
    heading = lines.index("rs.csv: 1 error")
    assert lines[heading + 1].split()[:4] == ["row", "3", "assessment_date", "SRC-DATE"]
    assert "'2021-02-30'" in lines[heading + 1]
    assert not out.exists()
    assert staging_left(tmp_path) == []
    # the whole list is beside OUT, not in it, and its path is printed
    listed = tmp_path / "out.problems.json"
    assert f"all 1 problem(s): {listed}" in result.stdout
    (p,) = json.loads(listed.read_text())["problems"]
    assert (p["file"], p["row"], p["rule"]) == ("rs.csv", 3, "SRC-DATE")


def test_problems_file_is_written_on_failure(tmp_path: Path):
    folder = make_study(tmp_path / "s", rs=BROKEN_RS)
    report = tmp_path / "problems.json"
    result = invoke("convert", str(folder), "-o", str(tmp_path / "out"), "--problems", str(report))
    assert result.exit_code == 1
    data = json.loads(report.read_text())
    assert data["errors"] == 1 and data["warnings"] == 0
    (p,) = data["problems"]
    assert (p["file"], p["row"], p["field"], p["value"], p["rule"]) == ("rs.csv", 3, "assessment_date", "2021-02-30", "SRC-DATE")


def test_broken_run_leaves_the_previous_package_byte_identical(study: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert invoke("convert", str(study), "-o", str(out)).exit_code == 0
    before = tree_digest(out)
    (study / "rs.csv").write_text((study / "rs.csv").read_text().replace("2021-05-01", "2021-05-32"))
    result = invoke("convert", str(study), "-o", str(out))
    assert result.exit_code == 1
    assert tree_digest(out) == before
    assert staging_left(tmp_path) == []


def test_output_folder_that_is_not_a_package_is_refused(study: Path, tmp_path: Path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.docx").write_bytes(b"precious")
    result = invoke("convert", str(study), "-o", str(out))
    assert result.exit_code == 2
    assert "not a cdisc-converter package" in result.stderr
    assert (out / "thesis.docx").read_bytes() == b"precious" and len(tree_digest(out)) == 1


def test_output_path_that_is_a_file_is_refused(study: Path, tmp_path: Path):
    out = tmp_path / "file.txt"
    out.write_text("x")
    assert invoke("convert", str(study), "-o", str(out)).exit_code == 2
    assert out.read_text() == "x"


def test_empty_output_folder_is_used(study: Path, tmp_path: Path):
    out = tmp_path / "empty"
    out.mkdir()
    assert invoke("convert", str(study), "-o", str(out)).exit_code == 0
    assert (out / "reports" / "manifest.json").is_file()


def test_missing_study_folder_is_a_usage_error(tmp_path: Path):
    result = invoke("convert", str(tmp_path / "nope"), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_unknown_option_is_a_usage_error(study: Path, tmp_path: Path):
    assert invoke("convert", str(study), "-o", str(tmp_path / "out"), "--frobnicate").exit_code == 2


def test_two_studies_with_the_same_name_are_refused(tmp_path: Path):
    a = make_study(tmp_path / "x" / "study")
    b = make_study(tmp_path / "y" / "study")
    result = invoke("convert", str(a), str(b), "-o", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert not (tmp_path / "out").exists()


def test_internal_error_exit_3_without_traceback(study: Path, tmp_path: Path, monkeypatch):
    def boom(*a, **k):
        raise ZeroDivisionError("simulated bug")
    monkeypatch.setattr(pipeline, "convert_study", boom)
    result = invoke("convert", str(study), "-o", str(tmp_path / "out"))
    assert result.exit_code == 3
    assert "internal error: ZeroDivisionError: simulated bug" in result.stdout
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_several_studies_one_broken(tmp_path: Path, jobs: str):
    a = make_study(tmp_path / "A")
    b = make_study(tmp_path / "B", aes=changed(AES, 0, subject_id="999"))
    c = make_study(tmp_path / "C")
    out = tmp_path / "OUT"
    result = invoke("convert", str(a), str(b), str(c), "-o", str(out), "-j", jobs)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert (out / "A" / "sdtm" / "dm.xpt").is_file() and (out / "C" / "sdtm" / "dm.xpt").is_file()
    assert not (out / "B").exists()
    assert sorted(p.name for p in out.iterdir()) == ["A", "C"]
    data = json.loads((tmp_path / "OUT.problems.json").read_text())
    assert [(p["study"], p["rule"]) for p in data["problems"]] == [("B", "SRC-SUBJECT-UNKNOWN")]
    summary = result.stdout.strip().splitlines()[-4:]
    assert summary[0].split()[:2] == ["study", "status"]
    assert [line.split()[:3] for line in summary[1:]] == [["A", "ok", "0"], ["B", "FAILED", "1"], ["C", "ok", "0"]]
    # B's problem is shown with its file and row
    assert "B: 1 error(s), 0 warning(s), by cause (root causes first)" in result.stdout
    assert "SRC-SUBJECT-UNKNOWN" in result.stdout
    # A and C are the same study: same bytes whichever way they were run
    assert tree_digest(out / "A") == tree_digest(out / "C")


def run_cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "converters.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def test_subprocess_broken_study_has_no_traceback(tmp_path: Path):
    folder = make_study(tmp_path / "s", rs=BROKEN_RS)
    (folder / "ae.csv").write_bytes((folder / "ae.csv").read_text().replace("CRS", "CRS caf\u00e9").encode("cp1252"))
    out = tmp_path / "out"
    proc = run_cli("convert", str(folder), "-o", str(out))
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "SRC-DATE" in proc.stdout and "SRC-ENCODING" in proc.stdout
    assert not out.exists()


def test_subprocess_multi_study_parallel(tmp_path: Path):
    a = make_study(tmp_path / "A")
    b = make_study(tmp_path / "B", rs=BROKEN_RS)
    c = make_study(tmp_path / "C")
    out = tmp_path / "OUT"
    proc = run_cli("convert", str(a), str(b), str(c), "-o", str(out), "-j", "2")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["A", "C"]


def test_subprocess_good_study(tmp_path: Path):
    proc = run_cli("convert", str(make_study(tmp_path / "s")), "-o", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert (tmp_path / "out" / "sdtm" / "ts.xpt").is_file()


def test_subprocess_usage_error(tmp_path: Path):
    proc = run_cli("convert", str(tmp_path / "nope"), "-o", str(tmp_path / "out"))
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "does not exist" in proc.stderr
