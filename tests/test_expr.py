"""The expression language of data files (converters/expr.py): what it selects, what it refuses, and
that no data file reaches Python's eval (published.toml, tte.toml)."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import ROOT
from converters.expr import And, Column, Compare, ExpressionError, Literal, parse
from studybuilder import make_study


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame({
        "FL": ["Y", "N", None, ""],
        "AGE": [30.0, 45.0, np.nan, 70.0],
        "ADT": pd.to_datetime(["2021-01-01", "2021-02-01", None, "2022-01-01"]),
        "REAS": ["Met exclusion criteria 3", "did not MEET", None, "lung Infection"],
    }, index=[10, 11, 12, 13])


@pytest.mark.parametrize("text, rows", [
    ("FL == 'Y'", [10]),
    ("FL != 'Y'", [11, 12, 13]),
    ("AGE > 30", [11, 13]),
    ("AGE >= 30 and AGE <= 45", [10, 11]),
    ("AGE in [30, 70]", [10, 13]),
    ("FL not in ['Y']", [11, 12, 13]),
    ("FL in ['Y', 'N'] and AGE < 40", [10]),
    ("not FL == 'Y'", [11, 12, 13]),
    ("FL is missing", [12, 13]),
    ("AGE is not missing", [10, 11, 13]),
    ("ADT >= '2021-02-01'", [11, 13]),
    ("REAS startswith 'Met exclusion'", [10]),
    ("REAS icontains 'infection'", [13]),
    ("REAS contains 'infection'", []),
    ("(FL == 'Y' or AGE == 70) and not REAS is missing", [10, 13]),
    ('REAS == "did not MEET"', [11]),
])
def test_selects(frame, text, rows):
    assert list(frame.index[parse(text).evaluate(frame)]) == rows


def test_tree_and_columns_are_inspectable():
    e = parse("A == 'x' and B > 2")
    assert e.columns == frozenset({"A", "B"})
    assert e.tree == And((Compare("==", Column("A"), Literal("x")), Compare(">", Column("B"), Literal(2))))


@pytest.mark.parametrize("text, message", [
    ("USUBJID.str.len() > @pd.io.common.os.system('id')", "unexpected character '.' at position 8"),
    ("FL.to_csv('/tmp/x')", "unexpected character '.'"),
    ("__import__('os') == 1", "expected a comparison"),
    ("@pd", "unexpected character '@'"),
    ("FL == ", "found end of text"),
    ("(FL == 'Y'", "expected ')'"),
    ("FL", "expected a comparison"),
    ("FL in [AGE]", "not column names"),
    ("(" * 60 + "FL == 'Y'" + ")" * 60, "nested deeper than 50"),
    ("FL == 'Y' " * 2000, "longer than"),
])
def test_refuses_with_a_clear_error(frame, text, message):
    with pytest.raises(ExpressionError, match=re.escape(message)):
        parse(text).evaluate(frame)


def test_unknown_column_and_type_mismatch(frame):
    with pytest.raises(ExpressionError, match="no column NOPE"):
        parse("NOPE == 'Y'").evaluate(frame)
    with pytest.raises(ExpressionError, match="AGE holds numbers"):
        parse("AGE > 'thirty'").evaluate(frame)


ATTACK = "USUBJID.str.len() > @pd.io.common.os.system('touch {marker}')"


def test_published_filter_cannot_run_commands(tmp_path: Path):
    """A study's published.toml with a shell command in a filter: nothing runs, exit 1, a problem
    naming published.toml, no package."""
    study = make_study(tmp_path / "study")
    marker = tmp_path / "ran"
    (study / "published.toml").write_text(
        '[[figure]]\nfigure = "x"\npublished = 1\nunit = "patients"\n'
        f'derive = {{ dataset = "ADSL", filter = "{ATTACK.format(marker=marker)}" }}\n')
    out = tmp_path / "pkg"
    run = subprocess.run([sys.executable, "-m", "converters.cli", "convert", str(study), "-o", str(out), "-q"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 1, run.stderr
    assert not marker.exists() and not out.exists()
    problems = json.loads((tmp_path / "pkg.problems.json").read_text())
    text = json.dumps(problems)
    assert "published.toml" in text and "unexpected character '.'" in text


def test_tte_filter_is_parsed_not_run(tmp_path: Path):
    from converters.adam.tte import derive_param_tte
    adsl = pd.DataFrame({"USUBJID": ["1", "2"], "SAFFL": ["Y", "Y"], "DCUTDT": pd.to_datetime(["2022-01-01"] * 2),
                         "TRTSDT": pd.to_datetime(["2021-01-01"] * 2)})
    adrs = pd.DataFrame({"USUBJID": ["1"], "ASEQ": [1.0], "ADT": pd.to_datetime(["2021-03-01"])})
    marker = tmp_path / "ran"
    param = {"paramcd": "X", "param": "X", "population": ATTACK.format(marker=marker),
             "start": {"dataset": "ADSL", "date": "TRTSDT"}, "events": [], "censors": []}
    with pytest.raises(ValueError, match="tte.toml: population: unexpected character"):
        derive_param_tte(adsl, adrs, param, {})
    assert not marker.exists()


# calls that run text as Python, or pandas' query/eval on any string
_EVALUATING = re.compile(r"\b(eval|exec)\s*\(|engine\s*=\s*[\"']python|\.query\s*\(|\bpd\.eval\b|"
                         r"\bcompile\s*\([^)]*[\"']exec")


def test_no_python_evaluation_in_the_package():
    hits = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
            for folder in ("converters", "schemas", "specs") for p in sorted((ROOT / folder).rglob("*.py"))
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
            if _EVALUATING.search(line) and not line.lstrip().startswith("#")]
    assert hits == []
