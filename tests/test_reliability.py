"""Hostile or broken input outside the corpus's shape: escape sequences never reach the terminal or
the Markdown reports, a bad environment or an unreadable package is one clear line, not a traceback."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from converters.report.markdown import cell, published_markdown, survival_markdown
from studybuilder import make_study

ESCAPE = "\x1b]0;owned\x07"


def cdisc(*args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "converters.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=600, env={**os.environ, **(env or {})})


def test_escape_sequence_in_a_source_cell_is_not_printed_raw(tmp_path: Path):
    study = make_study(tmp_path / "study")
    ae = study / "ae.csv"
    ae.write_text(ae.read_text().replace("low neutrophils", "low" + ESCAPE + " neutrophils", 1))
    run = cdisc("convert", study, "-o", tmp_path / "pkg")
    assert run.returncode == 1
    assert "\x1b" not in run.stdout + run.stderr and "\x07" not in run.stdout + run.stderr
    assert "SRC-CONTROL" in run.stdout and "\\x1b" in run.stdout
    problems = json.loads((tmp_path / "pkg.problems.json").read_text())["problems"]
    assert [(p["file"], p["row"], p["field"]) for p in problems] == [("ae.csv", 3, "verbatim_term")]


def test_labels_are_inert_in_markdown():
    assert cell("<b>High</b> | dose_1 [x](y)") == "&lt;b&gt;High&lt;/b&gt; \\| dose\\_1 \\[x\\](y)"
    assert cell("a\x1bb\nc") == "a b c"
    report = {"days_per_month": 30.4375, "methods": {k: "" for k in ("median", "median_ci_bc_loglog",
                                                                     "median_ci_spss", "landmarks")},
              "follow_up": {"simple": {"n": 1, "median_months": 1.0, "q1_months": 1.0, "q3_months": 1.0},
                            "reverse_km": None},
              "landmarks_months": [],
              "parameters": [{"paramcd": "OS", "param": "Overall survival", "groups": [
                  {"group": "<script>x</script>|Low", "n": 1, "events": 0, "censored": 1, "median_months": None,
                   "median_ci_bc_loglog_months": [None, None], "median_se_spss_months": None,
                   "median_ci_spss_months": [None, None], "landmarks": []}]}]}
    row = [line for line in survival_markdown(report, {}).splitlines() if "script" in line][0]
    assert row.startswith("| &lt;script&gt;x&lt;/script&gt;\\|Low | 1 |")
    assert row.count("|") - row.count("\\|") == 10  # the table keeps its 9 columns
    md = published_markdown([{"figure": "A|B", "published_text": "1", "derived_text": "1", "unit": "<i>",
                              "checked": True, "match": True, "source": "ADSL"}])
    assert "| A\\|B | 1 | 1 | &lt;i&gt; | yes | ADSL |" in md


@pytest.mark.parametrize("value", ["", "garbage", "99999999999999999999", "-5"])
def test_bad_source_date_epoch_is_one_line(value: str, tmp_path: Path):
    study = make_study(tmp_path / "study")
    run = cdisc("convert", study, "-o", tmp_path / "pkg", "-q", env={"SOURCE_DATE_EPOCH": value})
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [run.stderr.strip()] and "SOURCE_DATE_EPOCH" in run.stderr
    assert not (tmp_path / "pkg").exists()
    assert cdisc("--version", env={"SOURCE_DATE_EPOCH": value}).returncode == 0


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("pkg")
    run = cdisc("convert", make_study(base / "study"), "-o", base / "pkg", "-q")
    assert run.returncode == 0, run.stderr
    return base / "pkg"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX FIFOs")
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "loop"])
def test_validate_refuses_a_dataset_that_is_not_a_regular_file(kind: str, package: Path, tmp_path: Path):
    pkg = tmp_path / "pkg"
    shutil.copytree(package, pkg)
    dm = pkg / "sdtm" / "dm.xpt"
    dm.unlink()
    if kind == "fifo":
        os.mkfifo(dm)
    elif kind == "dev-zero":
        dm.symlink_to("/dev/zero")
    else:
        dm.symlink_to(dm)
    run = cdisc("validate", pkg, "-q")
    assert run.returncode == 2, run.stdout + run.stderr
    assert "dm.xpt" in run.stderr and "Traceback" not in run.stderr


def test_validate_without_dm_is_a_finding(package: Path, tmp_path: Path):
    pkg = tmp_path / "pkg"
    shutil.copytree(package, pkg)
    (pkg / "sdtm" / "dm.xpt").unlink()
    report = tmp_path / "report.json"
    run = cdisc("validate", pkg / "sdtm", "--report", report, "-q")
    assert run.returncode == 1
    rules = {f["rule"] for f in json.loads(report.read_text())["findings"]}
    assert "SD0022" in rules


def test_jsonl_number_of_5000_digits(tmp_path: Path):
    study = make_study(tmp_path / "study")
    ex = study / "ex.jsonl"
    ex.write_text(ex.read_text().replace('"dose": 30', '"dose": ' + "9" * 5000, 1))
    run = cdisc("convert", study, "-o", tmp_path / "pkg", "-q")
    assert run.returncode == 1 and "Traceback" not in run.stdout + run.stderr
    problems = json.loads((tmp_path / "pkg.problems.json").read_text())["problems"]
    assert [(p["file"], p["row"], p["rule"]) for p in problems] == [("ex.jsonl", 1, "SRC-FORMAT")]
    assert "too many digits" in problems[0]["message"]


def test_deeply_nested_study_toml(tmp_path: Path):
    study = make_study(tmp_path / "study")
    (study / "study.toml").write_text("a = " + "[" * 5000 + "]" * 5000 + "\n")
    run = cdisc("convert", study, "-o", tmp_path / "pkg", "-q")
    assert run.returncode == 1 and "Traceback" not in run.stdout + run.stderr
    problems = json.loads((tmp_path / "pkg.problems.json").read_text())["problems"]
    assert [(p["file"], p["rule"], p["message"]) for p in problems] == [
        ("study.toml", "CFG-SYNTAX", "not valid TOML: nested too deeply")]


def test_define_on_an_unreadable_xpt_and_a_bad_study(package: Path, tmp_path: Path):
    pkg = tmp_path / "pkg"
    shutil.copytree(package, pkg)
    before = (pkg / "sdtm" / "define.xml").read_bytes()
    (pkg / "sdtm" / "ae.xpt").write_bytes(b"not a transport file\n")
    run = cdisc("define", pkg)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "ae.xpt: not a readable SAS transport file" in run.stderr
    assert (pkg / "sdtm" / "define.xml").read_bytes() == before
    run = cdisc("define", package, "--study", tmp_path)
    assert run.returncode == 1 and "Traceback" not in run.stdout + run.stderr
    assert "CFG-MISSING" in run.stdout


def test_html_page_given_as_define(package: Path, tmp_path: Path):
    page = tmp_path / "define.html"
    page.write_text("<!DOCTYPE html>\n<html><body>Define</body></html>\n")
    report = tmp_path / "report.json"
    run = cdisc("validate", package, "--define", page, "--report", report, "-q")
    assert run.returncode == 1
    messages = [f["message"] for f in json.loads(report.read_text())["findings"] if f["rule"] == "DD0001"]
    assert messages and "HTML page, not Define-XML" in messages[0]


def test_internal_failure_is_said_with_quiet(tmp_path: Path):
    """A failure of the tool itself (here: the SDTM writer made to fail) still prints its line with -q."""
    study = make_study(tmp_path / "study")
    code = ("import sys, converters.pipeline as p\n"
            "def boom(*a, **k): raise RuntimeError('disk on fire')\n"
            "p.write_conformed = boom\n"
            "from converters.cli import main\n"
            f"sys.argv = ['cdisc', 'convert', {str(study)!r}, '-o', {str(tmp_path / 'pkg')!r}, '-q']\n"
            "main()\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 3
    assert "internal error: RuntimeError: disk on fire" in run.stderr
    assert "Traceback" not in run.stderr


def test_disk_full_is_a_clear_problem_and_keeps_the_package(package: Path, tmp_path: Path):
    from conftest import tree_digest

    pkg = tmp_path / "pkg"
    shutil.copytree(package, pkg)
    before = tree_digest(pkg)
    study = package.parent / "study"
    code = ("import errno, sys, converters.pipeline as p\n"
            "def full(*a, **k): raise OSError(errno.ENOSPC, 'No space left on device', 'sdtm/dm.xpt')\n"
            "p.write_conformed = full\n"
            "from converters.cli import main\n"
            f"sys.argv = ['cdisc', 'convert', {str(study)!r}, '-o', {str(pkg)!r}]\n"
            "main()\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "OUTPUT-WRITE" in run.stdout and "No space left on device" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
    assert tree_digest(pkg) == before


def test_every_numeric_source_field_refuses_underscores():
    from typing import get_args

    from schemas.source import FLOAT_FIELDS, FORMS, INT_FIELDS

    def kinds(annotation):
        return {annotation, *get_args(annotation)}
    numeric = {kind: sorted(n for model, _ in FORMS.values() for n, f in model.model_fields.items()
                            if kind in kinds(f.annotation)) for kind in (int, float)}
    assert numeric == {int: sorted(INT_FIELDS), float: sorted(FLOAT_FIELDS)}


def test_define_on_a_package_it_cannot_write(package: Path, tmp_path: Path):
    pkg = tmp_path / "pkg"
    shutil.copytree(package, pkg)
    code = ("import errno, sys, converters.define as d\n"
            "def readonly(*a, **k): raise OSError(errno.EROFS, 'Read-only file system', 'sdtm/define.xml')\n"
            "d.write_define = readonly\n"
            "from converters.cli import main\n"
            f"sys.argv = ['cdisc', 'define', {str(pkg)!r}]\n"
            "main()\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.strip() == "error: cannot write sdtm/define.xml: Read-only file system"


def test_xpt_writer_refuses_control_characters():
    """A value from another tool's SDTM (`cdisc adam`) never carries ESC, BEL or a line break into XPT."""
    import pandas as pd

    from converters.xpt import XptError, XptVariable
    from converters.xpt.writer import encode_xpt

    frame = pd.DataFrame({"AETERM": ["CRS", "CRS\x1b]0;x\x07", "FEVER\nGRADE 2", "CRS"]})
    with pytest.raises(XptError) as caught:
        encode_xpt(frame, dataset="AE", label="", variables=[XptVariable("AETERM", "t", "Char")],
                   created=__import__("datetime").datetime(2023, 1, 1))
    found = [(p.record, p.rule, p.message) for p in caught.value.problems]
    assert found == [(2, "XPT-CHAR-ASCII", "character values must not contain control characters (here \\x1b)"),
                     (3, "XPT-CHAR-ASCII", "character values must not contain control characters (here \\x0a)")]
