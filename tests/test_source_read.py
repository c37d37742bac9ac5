"""Reading source files: encodings, header checks, malformed CSV/JSON Lines, text kept as text."""
from __future__ import annotations

import json
from pathlib import Path

from converters.problems import ERROR
from converters.source.load import load_study
from converters.source.fields import required_fields
from converters.source.read import read_source
from schemas.source import Subject
from studybuilder import AES, CONFIG, EX, RS, SUBJECTS, changed, make_study, without_field


def only(problems, rule):
    found = [p for p in problems if p.rule == rule]
    assert len(found) == 1, problems
    return found[0]


def test_utf8_bom_is_accepted(study: Path):
    path = study / "subjects.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    src = load_study(study)
    assert src.problems == []
    # the BOM does not stick to the first column name
    assert src.frames["subjects"]["subject_id"].tolist() == ["001", "002", "003"]


def test_cp1252_byte_is_an_encoding_error_naming_the_row(study: Path):
    text = (study / "ae.csv").read_text(encoding="utf-8").replace("low neutrophils", "low neutrophils caf\u00e9")
    (study / "ae.csv").write_bytes(text.encode("cp1252"))
    src = load_study(study)
    p = only(src.problems, "SRC-ENCODING")
    assert (p.file, p.row, p.value, p.severity) == ("ae.csv", 3, "0xe9", ERROR)
    assert "UTF-8" in p.message and "\n" not in p.message


def test_utf16_is_an_encoding_error(study: Path):
    text = (study / "ae.csv").read_text(encoding="utf-8")
    (study / "ae.csv").write_bytes(text.encode("utf-16"))
    p = only(load_study(study).problems, "SRC-ENCODING")
    assert p.file == "ae.csv" and "UTF-16" in p.message


def test_utf16_without_bom_is_an_encoding_error(study: Path):
    text = (study / "ae.csv").read_text(encoding="utf-8")
    (study / "ae.csv").write_bytes(text.encode("utf-16-le"))
    src = load_study(study)
    assert not src.ok
    assert any(p.file == "ae.csv" and p.rule in ("SRC-ENCODING", "SRC-FORMAT") for p in src.problems), src.problems


def test_unknown_column_is_reported_once(tmp_path: Path):
    rows = [dict(r, extra_col="x") for r in RS]
    src = load_study(make_study(tmp_path / "s", rs=rows))
    p = only(src.problems, "SRC-COLUMN-UNKNOWN")
    assert (p.file, p.row, p.field) == ("rs.csv", 1, "extra_col")
    assert len(src.problems) == 1


def test_unknown_jsonl_key_is_reported_once(tmp_path: Path):
    rows = [dict(r, batch="B1") for r in EX]
    src = load_study(make_study(tmp_path / "s", ex=rows))
    p = only(src.problems, "SRC-COLUMN-UNKNOWN")
    assert (p.file, p.row, p.field) == ("ex.jsonl", 1, "batch")


def test_missing_required_column_is_reported_once(tmp_path: Path):
    src = load_study(make_study(tmp_path / "s", aes=without_field(AES, "preferred_term")))
    p = only(src.problems, "SRC-COLUMN-MISSING")
    assert (p.file, p.row, p.field) == ("ae.csv", 1, "preferred_term")


def test_missing_required_column_is_not_repeated_per_row(tmp_path: Path):
    """The header problem says it all: no further SRC-REQUIRED for the same column on every row."""
    src = load_study(make_study(tmp_path / "s", aes=without_field(AES, "preferred_term")))
    about_column = [p for p in src.problems if p.field == "preferred_term"]
    assert [(p.row, p.rule) for p in about_column] == [(1, "SRC-COLUMN-MISSING")]


def test_missing_optional_column_is_fine(tmp_path: Path):
    src = load_study(make_study(tmp_path / "s", rs=without_field(RS, "marrow_blasts_pct")))
    assert src.problems == []


def test_rename_map_maps_edc_columns(tmp_path: Path):
    config = CONFIG.replace('path = "subjects.csv"',
                            'path = "subjects.csv"\nrename = { SUBJNO = "subject_id", SITENO = "site_id" }')
    rows = [{("SUBJNO" if k == "subject_id" else "SITENO" if k == "site_id" else k): v for k, v in r.items()}
            for r in SUBJECTS]
    src = load_study(make_study(tmp_path / "s", subjects=rows, config=config))
    assert src.problems == []
    assert src.frames["subjects"]["subject_id"].tolist() == ["001", "002", "003"]
    assert src.frames["subjects"]["site_id"].tolist() == ["01", "01", "01"]


def test_edc_column_without_rename_is_unknown_and_field_missing(tmp_path: Path):
    rows = [{("SUBJNO" if k == "subject_id" else k): v for k, v in r.items()} for r in SUBJECTS]
    src = load_study(make_study(tmp_path / "s", subjects=rows))
    assert only(src.problems, "SRC-COLUMN-UNKNOWN").field == "SUBJNO"
    assert only(src.problems, "SRC-COLUMN-MISSING").field == "subject_id"


def test_row_with_too_many_cells_is_a_format_error(study: Path):
    lines = (study / "rs.csv").read_text(encoding="utf-8").splitlines()
    lines[2] += ",extra"
    (study / "rs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    src = load_study(study)
    p = only(src.problems, "SRC-FORMAT")
    assert (p.file, p.row) == ("rs.csv", 3)
    assert src.rows_read["response"] == 2 and len(src.frames["response"]) == 1


def test_row_with_too_few_cells_is_a_format_error(study: Path):
    lines = (study / "rs.csv").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].rsplit(",", 1)[0]
    (study / "rs.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = only(load_study(study).problems, "SRC-FORMAT")
    assert (p.file, p.row) == ("rs.csv", 2)


def test_truncated_file_with_unclosed_quote(study: Path):
    text = (study / "ae.csv").read_text(encoding="utf-8")
    head, last = text.rstrip("\n").rsplit("\n", 1)
    (study / "ae.csv").write_text(head + "\n" + last.replace("001,2,", '001,2,"low', 1), encoding="utf-8")
    src = load_study(study)
    p = only(src.problems, "SRC-FORMAT")
    assert (p.file, p.row) == ("ae.csv", 3)
    assert not src.ok


def test_empty_file(study: Path):
    (study / "rs.csv").write_bytes(b"")
    p = only(load_study(study).problems, "SRC-EMPTY")
    assert p.file == "rs.csv"


def test_header_only_file_is_empty(study: Path):
    header = (study / "rs.csv").read_text(encoding="utf-8").splitlines()[0]
    (study / "rs.csv").write_text(header + "\n", encoding="utf-8")
    assert only(load_study(study).problems, "SRC-EMPTY").file == "rs.csv"


def test_jsonl_line_that_is_not_json(study: Path):
    lines = (study / "ex.jsonl").read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1][:-1]  # drop the closing brace
    (study / "ex.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    src = load_study(study)
    p = only(src.problems, "SRC-FORMAT")
    assert (p.file, p.row) == ("ex.jsonl", 2)
    assert "JSON" in p.message and "\n" not in p.message
    assert src.rows_read["exposure"] == 4 and len(src.frames["exposure"]) == 3


def test_jsonl_line_that_is_not_an_object(study: Path):
    lines = (study / "ex.jsonl").read_text(encoding="utf-8").splitlines()
    lines[0] = json.dumps(["001", "FLUDARABINE"])
    (study / "ex.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    p = only(load_study(study).problems, "SRC-FORMAT")
    assert (p.file, p.row) == ("ex.jsonl", 1)


def test_blank_lines_are_not_records(study: Path):
    (study / "ex.jsonl").write_text("\n" + (study / "ex.jsonl").read_text(encoding="utf-8") + "\n\n", encoding="utf-8")
    src = load_study(study)
    assert src.problems == []
    assert src.rows_read["exposure"] == 4
    assert src.frames["exposure"]["_row"].tolist() == [2, 3, 4, 5]  # line numbers as in the file


def test_missing_source_file(study: Path):
    (study / "rs.csv").unlink()
    p = only(load_study(study).problems, "SRC-FILE-MISSING")
    assert p.file == "rs.csv"


def test_text_is_kept_as_text(tmp_path: Path):
    """Leading zeros survive: CSV cells are never parsed as numbers before the model sees them."""
    path = make_study(tmp_path / "s") / "subjects.csv"
    table = read_source(path, "subjects.csv", "subjects", {}, required_fields(Subject))
    assert table.problems == []
    assert [r["subject_id"] for r in table.rows] == ["001", "002", "003"]
    assert [r["site_id"] for r in table.rows] == ["01", "01", "01"]
    assert [r["age"] for r in table.rows] == ["30", "45", "52"]
    assert table.row_numbers == [2, 3, 4]


def test_quoted_comma_and_newline_in_a_cell(tmp_path: Path):
    """A quoted cell may hold commas and line breaks; the record still counts as one spreadsheet row."""
    aes = changed(AES, 0, verbatim_term="fever, chills\nand rigors")
    aes = changed(aes, 1, grade="9")
    src = load_study(make_study(tmp_path / "s", aes=aes))
    assert src.frames["adverse_events"]["verbatim_term"].tolist() == ["fever, chills\nand rigors"]
    p = only(src.problems, "SRC-RANGE")
    assert (p.file, p.row, p.field) == ("ae.csv", 3, "grade")
