"""Raw forms as the mapping spec declares them: read, and checked column by column before any mapping.

The checks come from the spec's typed column definitions (a required column must be filled, an
integer or number column must hold one, a date column must fit its declared layouts); every fault
is a Problem naming the raw file, row, column, value and rule. A file column the spec does not
declare, or a declared column the file lacks, is an error: nothing is dropped or invented silently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, create_model

from converters.mapping.raw_dates import assign_datetime
from converters.mapping.result import as_problems
from converters.mapping.spec import Column, Form
from converters.problems import Problem

_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


# Constraint markers: what a raw column must satisfy, kept in the generated model's field metadata,
# where the column-wise checks read them (``constraints``).
@dataclass(frozen=True)
class Filled:
    """The value must be given."""


@dataclass(frozen=True)
class Matches:
    kind: str  # "integer", "number": named in the message
    pattern: re.Pattern


@dataclass(frozen=True)
class DateIn:
    formats: tuple[str, ...]  # the declared raw layouts (converters.mapping.raw_dates)


def _markers(column: Column) -> tuple:
    kind = {"integer": Matches("integer", _INTEGER), "number": Matches("number", _NUMBER),
            "date": DateIn(column.formats)}.get(column.type)
    return tuple(m for m in (Filled() if column.required else None, kind) if m is not None)


def record_model(name: str, form: Form) -> type[BaseModel]:
    """The Pydantic model of one raw record of ``form``, generated from the spec's column definitions:
    every cell is text (as exported), annotated with its constraint markers."""
    fields = {col: (Annotated[(str, *_markers(c))] if _markers(c) else str, "") for col, c in form.columns.items()}
    return create_model(f"{name}_record", __config__=ConfigDict(extra="forbid"), **fields)


def constraints(model: type[BaseModel]) -> dict[str, tuple]:
    """Each field's constraint markers, as the generated model carries them."""
    return {name: tuple(m for m in f.metadata if isinstance(m, (Filled, Matches, DateIn)))
            for name, f in model.model_fields.items()}


def per_distinct(col: pd.Series, fn, missing=None) -> pd.Series:
    """``fn`` of each distinct value, spread back over the rows (a column repeats few values)."""
    codes, uniques = pd.factorize(col.to_numpy(dtype=object), use_na_sentinel=True)
    done = np.empty(len(uniques) + 1, dtype=object)
    done[:-1] = [fn(u) for u in uniques]
    done[-1] = missing  # code -1: a missing cell
    return pd.Series(done[codes], index=col.index, dtype=object)


def stripped(col: pd.Series) -> pd.Series:
    """The cells as stripped text, "" when blank or missing."""
    return per_distinct(col, lambda v: str(v).strip(), "")


@dataclass
class RawForm:
    name: str
    file: str  # as the spec names it, relative to the study folder
    frame: pd.DataFrame  # text cells, "" when blank
    rows: list[int]  # each record's row number as problem reports give it (CSV header = row 1)


def read_form(study_dir: Path, name: str, form: Form) -> tuple[RawForm | None, list[Problem]]:
    path = Path(study_dir) / form.file
    if form.format == "odm":
        return read_odm_form(path, name, form)
    try:
        if form.file.endswith(".jsonl"):
            frame = pd.read_json(path, lines=True, dtype=False).astype(object)
            frame = frame.where(frame.notna(), "").astype(str)
            rows = list(range(1, len(frame) + 1))
        else:
            # utf-8-sig: an EDC export often starts with a byte order mark, not part of the first name
            frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            rows = list(range(2, len(frame) + 2))
        frame = frame.rename(columns=dict(form.rename))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        return None, [Problem(form.file, None, "", "", "MAP-FORM-READ", f"cannot be read ({exc})")]
    return RawForm(name, form.file, frame, rows), check_columns(RawForm(name, form.file, frame, rows), form)


def read_odm_form(path: Path, name: str, form: Form) -> tuple[RawForm | None, list[Problem]]:
    """The records of an ODM form: faults of the file itself (well-formedness, DataType, undeclared items)
    come first; the spec's column checks run on a file without them."""
    from converters.mapping.odm import OdmError, read_odm
    try:
        frame, lines, problems = read_odm(path, form.file, form.item_group_oid, form.form_oid, form.item_names,
                                          form.decode)
    except OdmError as exc:
        return None, [exc.problem]
    raw = RawForm(name, form.file, frame.rename(columns=dict(form.rename)), lines)
    return raw, problems or check_columns(raw, form)


def check_columns(raw: RawForm, form: Form) -> list[Problem]:
    """Declared columns against the file's, then each declared column's values against its type."""
    problems = []
    present = set(raw.frame.columns)
    declared = set(form.columns) | set(form.not_submitted)
    for col in [c for c in form.columns if c not in present] + [c for c in form.not_submitted if c not in present]:
        problems.append(Problem(raw.file, 1, col, "", "MAP-COLUMN-MISSING",
                                f"column {col} of spec forms.{raw.name} is not in the file"))
    for col in (c for c in raw.frame.columns if c not in declared):
        problems.append(Problem(raw.file, 1, col, "", "MAP-COLUMN-UNDECLARED",
                                f"column {col} is neither in forms.{raw.name}.columns nor in its not_submitted list"))
    if problems:
        return problems
    for col, markers in constraints(record_model(raw.name, form)).items():
        problems += check_values(raw, col, markers)
    return problems + duplicate_keys(raw, form.keys)


def duplicate_keys(raw: RawForm, keys: tuple[str, ...]) -> list[Problem]:
    """A cross-record rule: the form's key columns identify one record (every repeat is reported)."""
    if not keys:
        return []
    again = raw.frame.duplicated(list(keys), keep="first").to_numpy()
    return [Problem(raw.file, raw.rows[i], keys[0], " / ".join(raw.frame[k].iat[i] or "" for k in keys), "MAP-KEY-DUPLICATE",
                    f"another record has the same {', '.join(keys)} (forms.{raw.name}.keys)") for i in np.flatnonzero(again)]


def check_values(raw: RawForm, col: str, markers: tuple) -> list[Problem]:
    """One column against its constraint markers, each distinct value checked once."""
    values = stripped(raw.frame[col])
    out = []
    for marker in markers:
        if isinstance(marker, Filled):
            out += [Problem(raw.file, raw.rows[i], col, "", "MAP-REQUIRED", f"{col} is required and empty")
                    for i in np.flatnonzero((values == "").to_numpy())]
        elif isinstance(marker, Matches):
            codes, uniques = pd.factorize(values)
            bad = np.array([bool(u) and not marker.pattern.match(u) for u in uniques] + [False])
            out += [Problem(raw.file, raw.rows[i], col, values.iat[i], "MAP-TYPE", f"{col} is not a(n) {marker.kind}")
                    for i in np.flatnonzero(bad[codes])]
        elif isinstance(marker, DateIn):
            out += as_problems(assign_datetime(raw.frame[col].rename(col), marker.formats).findings, raw.file, raw.rows)
    return out
