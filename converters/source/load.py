"""Load a study folder: configuration, every source form, field rules, cross-record rules."""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from converters.problems import Problem, has_errors
from converters.slowpath import slow_path
from converters.source.messages import config_message
from converters.source.cross import FormRecords, check_cross_frames, check_cross_records
from converters.source.fields import required_fields, validate_columns, validate_rows
from converters.source.read import read_columns, read_source
from schemas.config import CONFIG_NAMES, StudyConfig
from schemas.source import FORMS


@dataclass
class StudySource:
    """Everything read from a study folder; ``frames`` holds only rows that passed the field rules."""

    folder: Path
    config: StudyConfig | None = None
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)  # form -> absolute path
    rows_read: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.config is not None and not has_errors(self.problems)


def source_file_problem(path: Path, file: str, form: str) -> Problem:
    """Why the source file of ``form`` cannot be read: absent, or not a regular file (a pipe would block)."""
    if path.exists():
        return Problem(file, None, "", "", "SRC-FORMAT", f"the source file for {form} is not a regular file "
                       "(a folder, pipe or device): give the path of the exported file")
    return Problem(file, None, "", "", "SRC-FILE-MISSING",
                   f"source file for {form} not found (sources.{form}.path in study.toml)")


def load_config_problems(folder: Path, name: str = CONFIG_NAMES[0]) -> tuple[StudyConfig | None, list[Problem]]:
    path = folder / name
    if not path.is_file():
        return None, [Problem(name, None, "", "", "CFG-MISSING", f"no {name} in {folder}")]
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return None, [Problem(name, None, "", "", "CFG-ENCODING", f"not UTF-8: {exc.reason}")]
    except RecursionError:
        return None, [Problem(name, None, "", "", "CFG-SYNTAX", "not valid TOML: nested too deeply")]
    except tomllib.TOMLDecodeError as exc:
        m = re.search(r"line (\d+)", str(exc))
        return None, [Problem(name, int(m.group(1)) if m else None, "", "", "CFG-SYNTAX", f"not valid TOML: {exc}")]
    try:
        return StudyConfig.model_validate(data), []
    except ValidationError as exc:
        return None, [Problem(name, None, ".".join(str(p) for p in e["loc"]) or "(root)",
                              "" if isinstance(e.get("input"), dict) else str(e.get("input", ""))[:80],
                              "CFG-VALUE", config_message(e)) for e in exc.errors(include_url=False)]


def fast_path_default() -> bool:
    return not slow_path()  # CDISC_SLOW_PATH=1: record by record


def load_study(folder: Path, *, fast: bool | None = None) -> StudySource:
    """Read and check a study folder; never raises for bad input, reports Problems instead.

    ``fast`` (default: unless CDISC_SLOW_PATH=1) reads and checks column-wise; the result is the
    same either way, record for record and Problem for Problem.
    """
    folder = Path(folder)
    src = StudySource(folder=folder)
    src.config, src.problems = load_config_problems(folder)
    if src.config is None:
        return src
    if fast if fast is not None else fast_path_default():
        return _load_columns(src)
    root = folder.resolve()
    forms: dict[str, FormRecords] = {}
    rejected_subjects: set[str] = set()
    for form, (model, _) in FORMS.items():
        spec = src.config.sources[form]
        path = (folder / spec.path)
        if root not in path.resolve().parents:
            src.problems.append(Problem(CONFIG_NAMES[0], None, f"sources.{form}.path", spec.path, "CFG-PATH",
                                        "source path leaves the study folder"))
            continue
        if not path.is_file():
            src.problems.append(source_file_problem(path, spec.path, form))
            continue
        src.files[form] = path
        table = read_source(path, spec.path, form, spec.rename, required_fields(model))
        src.rows_read[form] = table.rows_read
        src.problems += table.problems
        records, rows, problems = validate_rows(table, model)
        src.problems += problems
        forms[form] = FormRecords(spec.path, records, rows)
        if form == "subjects":
            valid = {r.subject_id for r in records}
            rejected_subjects = {str(r.get("subject_id")).strip() for r in table.rows if r.get("subject_id") is not None} - valid
    if len(forms) == len(FORMS):
        src.problems += without_absence_findings(
            check_cross_records(src.config, forms, frozenset(rejected_subjects)), src)
    for form, fr in forms.items():
        model = FORMS[form][0]
        frame = pd.DataFrame([r.model_dump() for r in fr.records], columns=list(model.model_fields))
        frame.insert(0, "_row", pd.Series(fr.rows, dtype="int64"))
        src.frames[form] = frame
    return src


# Cross-record rules that conclude from a record's absence in a form, and that form.
ABSENCE_RULES = {"SRC-SUBJECT-UNKNOWN": "subjects", "SRC-INFUSION-MISSING": "exposure"}


def without_absence_findings(problems: list[Problem], src: StudySource) -> list[Problem]:
    """Drop absence findings about a form that already has errors of its own: its missing records may
    be the rejected ones, and one problem must not be reported again as many."""
    with_errors = {p.file for p in src.problems if p.severity == "error"}
    broken = {form for form in FORMS if src.config.sources[form].path in with_errors}
    return [p for p in problems if ABSENCE_RULES.get(p.rule) not in broken]


def read_forms(src: StudySource) -> dict:
    """Stage 1 of the fast path: every form read column-wise (form -> ColumnTable, or a Problem when
    its path is unusable)."""
    root = src.folder.resolve()
    tables: dict = {}
    for form, (model, _) in FORMS.items():
        spec = src.config.sources[form]
        path = src.folder / spec.path
        if root not in path.resolve().parents:
            tables[form] = Problem(CONFIG_NAMES[0], None, f"sources.{form}.path", spec.path, "CFG-PATH",
                                   "source path leaves the study folder")
        elif not path.is_file():
            tables[form] = source_file_problem(path, spec.path, form)
        else:
            src.files[form] = path
            tables[form] = read_columns(path, spec.path, form, spec.rename, required_fields(model))
            src.rows_read[form] = tables[form].rows_read
    return tables


def check_forms(src: StudySource, tables: dict) -> StudySource:
    """Stage 2 of the fast path: field rules in bulk, cross-record rules over columns, the frames.
    Problems come in the order of the record-by-record path."""
    rejected_subjects: set[str] = set()
    for form, table in tables.items():
        if isinstance(table, Problem):
            src.problems.append(table)
            continue
        src.problems += table.problems
        frame, problems = validate_columns(table, FORMS[form][0])
        src.problems += problems
        src.frames[form] = frame
        if form == "subjects" and "subject_id" in table.columns:
            read = {str(u).strip() for u in table.columns["subject_id"].uniques if u is not None}
            rejected_subjects = read - set(frame["subject_id"])
    if len(src.frames) == len(FORMS):
        files = {form: src.config.sources[form].path for form in FORMS}
        src.problems += without_absence_findings(
            check_cross_frames(src.config, src.frames, files, frozenset(rejected_subjects)), src)
    return src


def _load_columns(src: StudySource) -> StudySource:
    return check_forms(src, read_forms(src))
