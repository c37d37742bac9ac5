"""Problems as `cdisc convert` reports them: grouped by cause, root causes first, cut to the terminal
width, the whole list in a JSON file beside OUT, messages in the user's words, transliteration shown."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from converters.cli import main
from converters.problems import ERROR, WARNING, Problem, format_groups, group_problems
from converters.source.load import load_study
from studybuilder import AES, CONFIG, EX, RS, SUBJECTS, make_study

PYDANTIC_WORDS = ("Input should", "Extra inputs", "valid integer", "unable to parse", "Field required",
                  "transliterate=True", "NFKD")


def convert(*args: str, columns: int = 120):
    return CliRunner(env={"COLUMNS": str(columns)}).invoke(main, ["convert", *args])


def problem_lines(stdout: str) -> list[str]:
    """The grouped report: from the study heading to the blank line before the JSON path."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "by cause" in line)
    end = lines.index("", start)
    return lines[start:end]


# --- six faults over hundreds of rows ---------------------------------------------------------------

def six_fault_study(folder: Path) -> Path:
    subjects = [dict(SUBJECTS[0], subject_id=f"{i:03d}", weight_kg="70", sex="MALE") for i in range(1, 151)]
    aes = [dict(AES[0], ae_id=str(i), grade="G2", serious="maybe", llt_code=str(i)) for i in range(1, 401)]
    rs = [dict(r, visit_number="x") for r in RS]
    return make_study(folder, subjects=subjects, aes=aes, rs=rs)


@pytest.fixture
def six_faults(tmp_path: Path):
    folder = six_fault_study(tmp_path / "study")
    out = tmp_path / "out"
    return convert(str(folder), "-o", str(out)), out


def test_six_faults_are_six_lines_with_counts(six_faults):
    result, out = six_faults
    assert result.exit_code == 1, result.output
    shown = problem_lines(result.stdout)
    assert len(shown) <= 15, "\n".join(shown)
    causes = [line for line in shown if line.startswith("  ")]
    assert len(causes) == 6, "\n".join(shown)
    expected = {  # field -> (rule, where)
        "weight_kg": ("SRC-COLUMN-UNKNOWN", "row 1"),
        "sex": ("SRC-CODELIST", "rows 2-151 (150 rows)"),
        "grade": ("SRC-TYPE", "rows 2-401 (400 rows)"),
        "serious": ("SRC-CODELIST", "rows 2-401 (400 rows)"),
        "llt_code": ("SRC-RANGE", "rows 2-401 (400 rows)"),
        "visit_number": ("SRC-TYPE", "rows 2-3 (2 rows)"),
    }
    for field, (rule, where) in expected.items():
        (line,) = [c for c in causes if f"  {field}  " in c]
        assert rule in line and where in line, line
    # 400 distinct wrong codes are one cause with examples, not 400 lines
    (llt,) = [c for c in causes if "llt_code" in c]
    assert "400 values, e.g. '1', '2', '3'" in llt


def test_subjects_form_comes_before_the_other_forms(six_faults):
    result, _ = six_faults
    headings = [line for line in problem_lines(result.stdout)[1:] if not line.startswith("  ")]
    assert headings == ["subjects.csv: 151 errors", "ae.csv: 1200 errors", "rs.csv: 2 errors"]


def test_every_problem_is_in_the_json_beside_out_and_nothing_under_out(six_faults):
    result, out = six_faults
    assert not out.exists()
    listed = out.parent / "out.problems.json"
    assert f"all 1353 problem(s): {listed}" in result.stdout
    data = json.loads(listed.read_text())
    assert (data["errors"], data["warnings"], len(data["problems"])) == (1353, 0, 1353)
    assert {p["row"] for p in data["problems"] if p["field"] == "grade"} == set(range(2, 402))
    assert {(g["field"], g["count"]) for g in data["groups"]} == {
        ("weight_kg", 1), ("sex", 150), ("grade", 400), ("serious", 400), ("llt_code", 400), ("visit_number", 2)}


@pytest.mark.parametrize("columns", [120, 80])
def test_lines_fit_the_terminal(tmp_path: Path, columns: int):
    folder = six_fault_study(tmp_path / "study")
    result = convert(str(folder), "-o", str(tmp_path / "out"), columns=columns)
    shown = problem_lines(result.stdout)
    assert max(map(len, shown)) <= columns
    assert any(line.endswith("...") for line in shown)  # long messages are cut, not wrapped


def test_problems_option_chooses_the_file(tmp_path: Path):
    folder = six_fault_study(tmp_path / "study")
    chosen = tmp_path / "elsewhere" / "list.json"
    result = convert(str(folder), "-o", str(tmp_path / "out"), "--problems", str(chosen))
    assert result.exit_code == 1
    assert len(json.loads(chosen.read_text())["problems"]) == 1353
    assert not (tmp_path / "out.problems.json").exists()


def test_a_successful_run_replaces_a_stale_list(tmp_path: Path, light_pipeline):
    listed = tmp_path / "out.problems.json"
    listed.write_text('{"errors": 5}')
    result = convert(str(make_study(tmp_path / "study")), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert json.loads(listed.read_text()) == {"errors": 0, "warnings": 0, "problems": [], "groups": []}
    assert f"no problems (list: {listed})" in result.stdout


# --- grouping and order -----------------------------------------------------------------------------

def test_root_causes_first_errors_before_warnings():
    problems = [
        Problem("ae.csv", 2, "grade", "x", "SRC-TYPE", "'x' is not a whole number"),
        Problem("ae.csv", 3, "verbatim_term", "é", "SRC-TRANSLITERATED", "'é' -> 'e'", WARNING),
        Problem("subjects.csv", 9, "age", "y", "SRC-TYPE", "'y' is not a whole number"),
        Problem("study.toml", None, "study.colour", "1", "CFG-VALUE", "'colour' is not a setting"),
        Problem("dm.xpt", 1, "AGE", "", "XPT-X", "late"),
    ]
    groups = group_problems(problems, ["subjects.csv", "ae.csv", "rs.csv", "ex.jsonl"])
    assert [(g.file, g.severity) for g in groups] == [
        ("study.toml", ERROR), ("subjects.csv", ERROR), ("ae.csv", ERROR), ("dm.xpt", ERROR), ("ae.csv", WARNING)]


def test_few_distinct_values_get_a_line_each_many_get_one():
    few = [Problem("ae.csv", r, "outcome", v, "SRC-CODELIST", f"'{v}' bad") for r, v in [(2, "A"), (3, "B"), (4, "A")]]
    many = [Problem("ae.csv", r, "grade", str(r), "SRC-RANGE", "out of range") for r in range(2, 12)]
    groups = group_problems(few + many)
    assert [(g.field, g.values, g.count, g.rows) for g in groups] == [  # by first row, then field
        ("grade", tuple(str(r) for r in range(2, 12)), 10, tuple(range(2, 12))), ("outcome", ("A",), 2, (2, 4)),
        ("outcome", ("B",), 1, (3,))]


def test_format_never_exceeds_the_width_and_keeps_the_file_heading():
    problems = [Problem("a-very-long-source-file-name-from-the-edc.csv", r, "informed_consent_date", "x" * 90,
                        "SRC-DATE", "m" * 300) for r in range(2, 50)]
    text = format_groups(problems, width=60)
    assert all(len(line) <= 60 for line in text.splitlines())
    assert text.splitlines()[0].startswith("a-very-long-source-file-name")
    assert "rows 2-49 (48 rows)" in text


# --- messages in the user's words ------------------------------------------------------------------

def test_non_ascii_text_names_the_source_cell_and_the_option(tmp_path: Path):
    aes = [dict(AES[0], verbatim_term="Fièvre")] + AES[1:]
    result = convert(str(make_study(tmp_path / "s", aes=aes)), "-o", str(tmp_path / "out"))
    assert result.exit_code == 1
    (p,) = json.loads((tmp_path / "out.problems.json").read_text())["problems"]
    assert (p["file"], p["row"], p["field"], p["value"], p["rule"]) == ("ae.csv", 2, "verbatim_term", "Fièvre",
                                                                        "SRC-ASCII")
    assert p["message"] == ("'Fièvre' is not ASCII, which SAS transport files require (FDA TCG 4.1.5): "
                            "rerun with --transliterate to write 'Fievre', or correct the source")
    assert not any(w in p["message"] for w in PYDANTIC_WORDS)
    assert "ae.xpt" not in result.stdout


def test_unknown_column_message(tmp_path: Path):
    subjects = [dict(s, weight_kg="70") for s in SUBJECTS]
    (p,) = load_study(make_study(tmp_path / "s", subjects=subjects)).problems
    assert (p.file, p.row, p.field, p.rule) == ("subjects.csv", 1, "weight_kg", "SRC-COLUMN-UNKNOWN")
    assert p.message == ("column 'weight_kg' is not part of the subjects form: remove it, or rename it to a "
                         "form field with [sources.subjects] rename in study.toml")


def test_unknown_key_in_study_toml(tmp_path: Path):
    config = CONFIG.replace('path = "subjects.csv"', 'path = "subjects.csv"\nrenames = { AGE = "age" }')
    (p,) = load_study(make_study(tmp_path / "s", config=config)).problems
    assert (p.file, p.field, p.rule) == ("study.toml", "sources.subjects.renames", "CFG-VALUE")
    assert p.message.startswith("'renames' is not a setting of [sources.subjects] in study.toml: remove it or "
                                "correct its name")
    assert "Extra inputs" not in p.message


@pytest.mark.parametrize("fast", [True, False])
def test_type_and_range_messages(tmp_path: Path, fast: bool):
    subjects = [dict(SUBJECTS[0], age="abc"), dict(SUBJECTS[1], age="1.5"), dict(SUBJECTS[2], age="200")]
    ex = [dict(EX[0], dose="a lot")] + EX[1:]
    problems = load_study(make_study(tmp_path / "s", subjects=subjects, ex=ex), fast=fast).problems
    assert [(p.file, p.row, p.field, p.message) for p in problems] == [
        ("subjects.csv", 2, "age", "'abc' is not a whole number"),
        ("subjects.csv", 3, "age", "'1.5' is not a whole number"),
        ("subjects.csv", 4, "age", "'200' is above the largest allowed age, 120"),
        ("ex.jsonl", 1, "dose", "'a lot' is not a number"),
    ]


def test_no_pydantic_wording_over_many_faults(tmp_path: Path):
    subjects = [dict(SUBJECTS[0], site_id="0 1", age="-1"), dict(SUBJECTS[1], screening_outcome="MAYBE")] + SUBJECTS[2:]
    aes = [dict(AES[0], pt_code="12", grade="2.5")] + AES[1:]
    ex = [dict(EX[0], route=5, dose=-1)] + EX[1:]
    config = CONFIG.replace("planned_subjects = 3", 'planned_subjects = "three"')
    folder = make_study(tmp_path / "s", subjects=subjects, aes=aes, ex=ex)
    problems = load_study(folder).problems + load_study(make_study(tmp_path / "c", config=config)).problems
    assert len(problems) >= 8
    for p in problems:
        assert not any(w in p.message for w in PYDANTIC_WORDS), p
        assert p.value == "" or p.value in p.message or p.rule == "SRC-COLUMN-UNKNOWN", p


# --- --transliterate is visible ---------------------------------------------------------------------

def test_transliterate_warns_per_value_and_records_it_in_the_manifest(tmp_path: Path, light_pipeline):
    aes = [dict(AES[0], ae_id=str(i + 10), verbatim_term=t) for i, t in
           enumerate(["Fièvre", "Fièvre", "Éruption cutanée"])] + AES
    out = tmp_path / "out"
    result = convert(str(make_study(tmp_path / "s", aes=aes)), "-o", str(out), "--transliterate")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1].split()[:4] == ["s", "ok", "0", "3"]
    warnings = json.loads((tmp_path / "out.problems.json").read_text())["problems"]
    assert [(p["file"], p["row"], p["field"], p["severity"], p["message"]) for p in warnings] == [
        ("ae.csv", 2, "verbatim_term", "warning", "'Fièvre' -> 'Fievre' (--transliterate)"),
        ("ae.csv", 3, "verbatim_term", "warning", "'Fièvre' -> 'Fievre' (--transliterate)"),
        ("ae.csv", 4, "verbatim_term", "warning", "'Éruption cutanée' -> 'Eruption cutanee' (--transliterate)"),
    ]
    # grouped in the terminal like any other cause
    assert re.search(r"rows 2-3 \(2 rows\)\s+verbatim_term\s+SRC-TRANSLITERATED", result.stdout)
    manifest = json.loads((out / "reports" / "manifest.json").read_text())
    assert manifest["transliteration"] == {"applied": True, "values_changed": 3}
    report = json.loads((out / "reports" / "source-validation.json").read_text())
    assert report["warnings"] == 3


def test_manifest_says_when_nothing_was_transliterated(tmp_path: Path, light_pipeline):
    out = tmp_path / "out"
    assert convert(str(make_study(tmp_path / "s")), "-o", str(out)).exit_code == 0
    manifest = json.loads((out / "reports" / "manifest.json").read_text())
    assert manifest["transliteration"] == {"applied": False, "values_changed": 0}


def test_text_without_an_ascii_form_stays_an_error_with_transliterate(tmp_path: Path, light_pipeline):
    aes = [dict(AES[0], verbatim_term="发热")] + AES[1:]
    out = tmp_path / "out"
    result = convert(str(make_study(tmp_path / "s", aes=aes)), "-o", str(out), "--transliterate")
    assert result.exit_code == 1
    (p,) = json.loads((tmp_path / "out.problems.json").read_text())["problems"]
    assert (p["file"], p["row"], p["field"], p["rule"]) == ("ae.csv", 2, "verbatim_term", "SRC-ASCII")
    assert "no ASCII equivalent" in p["message"]
    assert not out.exists()
