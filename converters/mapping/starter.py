"""``cdisc spec init``: a starter mapping spec from a folder of raw files, guessed only where guessing is safe.

Each CSV or JSON Lines file becomes a form; each column gets the narrowest type all its values fit
(integer, number, a date with the raw layouts that read every value and read it one way only, a
time, else text). An ODM XML file gives a form per item group, typed from its metadata
(``converters.mapping.odm_starter``). Everything that needs a person (STUDYID, the USUBJID template, which form is which
domain, what each column becomes) is marked TODO; the spec does not pass ``check_spec`` until those
are filled in.
"""
from __future__ import annotations

import json
import os
import re
from itertools import combinations
from pathlib import Path

import pandas as pd

from converters.mapping.odm_starter import odm_forms
from converters.mapping.raw_dates import DATE_LAYOUTS, assign_datetime

_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
_SUBJECT = ("SubjectKey", "USUBJID", "SUBJID", "PATNUM", "SUBJECT", "SUBJNO", "SUBJECT_ID")
_STUDY = ("STUDYID", "STUDY")


def _quoted(text: str) -> str:
    return json.dumps(text)  # a TOML basic string is a JSON string for the text found in raw headers


def read_raw(path: Path) -> pd.DataFrame:
    if path.suffix == ".jsonl":
        frame = pd.read_json(path, lines=True, dtype=False).astype(object)
        return frame.where(frame.notna(), "").astype(str)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def date_layouts(values: pd.Series) -> list[tuple[str, ...]]:
    """Every smallest set of declared layouts (up to three) that reads all values without a finding."""
    if values.empty or not values.str.contains(r"\d").all():
        return []
    names = [n for n in DATE_LAYOUTS if n != "yyyy-mm-dd"] + ["yyyy-mm-dd"]  # ISO read last: "2003" is yyyy
    for size in (1, 2, 3):
        fits = [combo for combo in combinations(names, size) if not assign_datetime(values, combo).findings]
        if fits:
            return fits
    return []


def column_type(values: pd.Series) -> tuple[dict | str, str]:
    """The column's declaration ("text", "integer", "number", or a date/time table with its layouts)
    and a TODO note when no guess is safe."""
    given = values[values.str.strip() != ""].str.strip()
    if given.empty:
        return "text", "TODO: always empty in this file; give its type"
    if given.str.match(_INTEGER).all():
        return "integer", ""
    if given.str.match(_NUMBER).all():
        return "number", ""
    if given.str.match(r"^\d{1,2}:\d{2}(:\d{2})?$").all():
        return {"type": "time", "formats": ["HH:nn:ss" if given.str.count(":").max() == 2 else "HH:nn"]}, ""
    distinct = given.drop_duplicates()
    fits = date_layouts(distinct)
    readings = {tuple(assign_datetime(distinct, combo).values) for combo in fits}
    if len(readings) == 1:  # the sets read every value alike: the first (simplest layouts) is as good
        fits = fits[:1]
    if len(fits) == 1:
        return {"type": "date", "formats": list(fits[0])}, ""
    if fits:
        return "text", ("TODO: a date in one of " + " | ".join(", ".join(f) for f in fits) +
                        "; these read the values differently (03/04/2014)")
    return "text", ""


def _value(decl) -> str:
    if isinstance(decl, str):
        return _quoted(decl)
    return "{ type = %s, formats = [%s] }" % (_quoted(decl["type"]), ", ".join(map(_quoted, decl["formats"])))


def starter_spec(raw_dir: Path, spec_dir: Path) -> str:
    """The text of a starter ``mapping.toml`` (to be saved in ``spec_dir``) for the raw files of ``raw_dir``."""
    files = sorted(p for p in Path(raw_dir).iterdir() if p.suffix in (".csv", ".jsonl"))
    odm_files = sorted(p for p in Path(raw_dir).iterdir() if p.suffix == ".xml")
    if not files and not odm_files:
        raise ValueError(f"{raw_dir}: no .csv, .jsonl or ODM .xml files")
    taken = {re.sub(r"\W", "_", p.stem) for p in files}
    odm_lines = [line for p in odm_files for line in odm_forms(p, spec_dir, taken)]
    frames = {p: read_raw(p) for p in files}
    common = set.intersection(*(set(f.columns) for f in frames.values())) if frames else {"SubjectKey"}
    subject = next((c for c in _SUBJECT if c in common), None)
    studies = {v for f in frames.values() for c in _STUDY if c in f.columns for v in f[c].unique() if v}
    studyid = next(iter(studies)) if len(studies) == 1 else "TODO"
    lines = ["# Starter mapping spec made by `cdisc spec init`: fill in every TODO, then map each form to a domain.",
             "", "[study]", f"studyid = {_quoted(studyid)}" + ("" if studyid != "TODO" else "  # TODO: the STUDYID"),
             f"usubjid = {_quoted('TODO-{' + subject + '}' if subject else 'TODO')}"
             "  # TODO: the USUBJID template over columns every form has, e.g. \"STUDY-{SUBJID}\"", ""]
    for path, frame in frames.items():
        name = re.sub(r"\W", "_", path.stem)
        lines += [f"[forms.{name}]", f"file = {_quoted(Path(os.path.relpath(path, spec_dir)).as_posix())}"]
        if subject:
            lines.append(f"# TODO: keys = [{_quoted(subject)}, ...] if these columns identify a record")
        lines.append("[forms.%s.columns]" % name)
        for col in frame.columns:
            decl, todo = column_type(frame[col].astype(str))
            lines.append(f"{_quoted(col)} = {_value(decl)}" + (f"  # {todo}" if todo else ""))
        lines += [f"# TODO: [domains.XX] form = {_quoted(name)}, and a variable for each column above, or list the "
                  f"column under [forms.{name}.not_submitted] with the reason", ""]
    lines += odm_lines + ["[domains]", ""]
    return "\n".join(lines)
