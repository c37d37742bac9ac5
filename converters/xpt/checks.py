"""Metadata checks (names, labels, formats, file name) run before any value is encoded.

Rules follow the FDA Study Data Technical Conformance Guide (TCG) section 4.1.5 on SAS transport
files and the XPORT v5 limits of SAS TS-140. Each check returns problems instead of raising so the
writer can report every problem at once.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Sequence

from .model import XptProblem, XptVariable

DATASET_NAME = re.compile(r"^[A-Z][A-Z0-9]{0,7}$")  # FDA TCG 4.1.5: letters/digits, starts with letter
VARIABLE_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,7}$")  # FDA TCG 4.1.5: starts with a letter, not "_"
# SAS format "NAMEw.d": the name may contain digits (E8601DA) but ends with a non-digit.
FORMAT = re.compile(r"^(\$?(?:[A-Z_](?:[A-Z0-9_]*[A-Z_])?)?)(\d*)\.(\d*)$")
MAX_LABEL = 40  # XPORT v5 label field; FDA TCG 4.1.5
MAX_CHAR = 200  # FDA TCG 4.1.5: character values at most 200 bytes


def _is_ascii(text: str) -> bool:
    return text.isascii()


def parse_format(fmt: str) -> tuple[str, int, int] | None:
    """'DATE9.' -> ('DATE', 9, 0); '8.2' -> ('', 8, 2); '' -> ('', 0, 0); invalid -> None."""
    if fmt == "":
        return "", 0, 0
    m = FORMAT.match(fmt.upper())
    if not m or len(m.group(1)) > 8:
        return None
    name, width, decimals = m.group(1), m.group(2), m.group(3)
    if not name and not width:
        return None
    return name, int(width or 0), int(decimals or 0)


def check_dataset(dataset: str, label: str) -> list[XptProblem]:
    out = []
    if not DATASET_NAME.match(dataset or ""):
        out.append(XptProblem(dataset, None, None, dataset, "XPT-DATASET-NAME",
                              "dataset name must be 1-8 upper-case letters/digits starting with a letter"))
    out += _label_problems(dataset, None, label, "XPT-DATASET-LABEL")
    return out


def _label_problems(dataset: str, variable: str | None, label: str, rule: str) -> list[XptProblem]:
    what = "variable" if variable else "dataset"
    out = []
    if not isinstance(label, str):
        return [XptProblem(dataset, variable, None, label, rule, f"{what} label must be a string")]
    if not _is_ascii(label):
        out.append(XptProblem(dataset, variable, None, label, rule, f"{what} label must be ASCII"))
    if len(label.encode("utf-8")) > MAX_LABEL:
        out.append(XptProblem(dataset, variable, None, label, rule,
                              f"{what} label is longer than {MAX_LABEL} characters"))
    return out


def check_file_name(path: Path, dataset: str) -> list[XptProblem]:
    """FDA TCG 4.1.5: the dataset inside must be named as the file; file names are lower case."""
    name = path.name
    if name != name.lower() or path.suffix != ".xpt" or path.stem.upper() != dataset.upper():
        return [XptProblem(dataset, None, None, name, "XPT-FILE-NAME",
                           f"file must be named {dataset.lower()}.xpt (lower case, same as the dataset)")]
    return []


def check_variables(dataset: str, variables: Sequence[XptVariable]) -> list[XptProblem]:
    out: list[XptProblem] = []
    seen: set[str] = set()
    for var in variables:
        name = var.name
        if not isinstance(name, str) or not VARIABLE_NAME.match(name):
            out.append(XptProblem(dataset, str(name), None, name, "XPT-VAR-NAME",
                                  "variable name must be 1-8 upper-case letters/digits/underscores "
                                  "starting with a letter"))
        if name in seen:
            out.append(XptProblem(dataset, name, None, name, "XPT-VAR-DUPLICATE", "duplicate variable name"))
        seen.add(name)
        out += _label_problems(dataset, name, var.label, "XPT-VAR-LABEL")
        out += _type_and_length(dataset, var)
        out += _format_problems(dataset, var)
    if not variables:
        out.append(XptProblem(dataset, None, None, 0, "XPT-VAR-COUNT", "a dataset needs at least one variable"))
    if len(variables) > 9999:  # NAMESTR header holds the count in four digits
        out.append(XptProblem(dataset, None, None, len(variables), "XPT-VAR-COUNT",
                              "XPORT v5 holds at most 9999 variables"))
    return out


def _type_and_length(dataset: str, var: XptVariable) -> list[XptProblem]:
    if var.type not in ("Char", "Num"):
        return [XptProblem(dataset, var.name, None, var.type, "XPT-VAR-TYPE", 'type must be "Char" or "Num"')]
    length = var.length
    if var.type == "Num":
        if length not in (None, 8):
            return [XptProblem(dataset, var.name, None, length, "XPT-VAR-LENGTH",
                               "numeric variables are stored in 8 bytes")]
        return []
    if length is not None and (not isinstance(length, int) or isinstance(length, bool)
                               or not 1 <= length <= MAX_CHAR):
        return [XptProblem(dataset, var.name, None, length, "XPT-VAR-LENGTH",
                           f"character length must be an integer from 1 to {MAX_CHAR} (FDA TCG 4.1.5)")]
    return []


def _format_problems(dataset: str, var: XptVariable) -> list[XptProblem]:
    parsed = parse_format(var.format)
    if parsed is None:
        return [XptProblem(dataset, var.name, None, var.format, "XPT-FORMAT",
                           "format must look like NAMEw.d with a name of at most 8 characters")]
    name = parsed[0]
    if name and (name.startswith("$") != (var.type == "Char")):
        return [XptProblem(dataset, var.name, None, var.format, "XPT-FORMAT",
                           "character variables take $ formats, numeric variables the others")]
    return []


def check_columns(dataset: str, columns: Iterable[object], variables: Sequence[XptVariable]) -> list[XptProblem]:
    """The frame must hold exactly the declared variables (order comes from `variables`)."""
    cols = list(columns)
    declared = {v.name for v in variables}
    present = set(cols)
    out = [XptProblem(dataset, v.name, None, None, "XPT-COLUMNS", "declared variable is missing from the frame")
           for v in variables if v.name not in present]
    out += [XptProblem(dataset, str(c), None, None, "XPT-COLUMNS", "frame column is not a declared variable")
            for c in cols if c not in declared]
    if len(cols) != len(present):
        out.append(XptProblem(dataset, None, None, None, "XPT-COLUMNS", "frame has duplicate column names"))
    return out
