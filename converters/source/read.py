"""Read one source file (CSV or JSON Lines) as text, exactly as exported, with spreadsheet row numbers.

CSV cells are kept as text (site "01" stays "01"); UTF-8 with or without BOM. Anything that cannot be
read becomes a Problem naming the file and row, never an exception or a skipped line.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from converters.problems import Problem

RULE_ENCODING = "SRC-ENCODING"
RULE_FORMAT = "SRC-FORMAT"
RULE_COLUMN_UNKNOWN = "SRC-COLUMN-UNKNOWN"
RULE_COLUMN_MISSING = "SRC-COLUMN-MISSING"
RULE_COLUMN_DUPLICATE = "SRC-COLUMN-DUPLICATE"
RULE_EMPTY = "SRC-EMPTY"


@dataclass
class SourceTable:
    """The records of one form: each a dict of contract field -> text/number/None, with its row number."""

    form: str
    file: str  # path relative to the study folder, as reported
    rows: list[dict] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    rows_read: int = 0
    problems: list[Problem] = field(default_factory=list)
    missing_columns: set[str] = field(default_factory=set)  # reported once against the header


def decode_text(raw: bytes, file: str) -> tuple[str | None, list[Problem]]:
    """Decode UTF-8 (BOM optional); report the first undecodable byte with its row number."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return None, [Problem(file, None, "", "UTF-16 BOM", RULE_ENCODING,
                              "file is UTF-16; export it as UTF-8")]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        row = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start: exc.start + 1].hex()
        return None, [Problem(file, row, "", f"0x{byte}", RULE_ENCODING,
                              f"byte 0x{byte} at offset {exc.start} is not UTF-8 (cp1252/latin-1 export?); export it as UTF-8")]


def read_source(path: Path, file: str, form: str, rename: dict[str, str], fields: dict[str, bool]) -> SourceTable:
    """Read ``path`` into a SourceTable.

    ``fields`` maps each contract field of the form to whether it is required. Unknown columns
    (after ``rename``) and missing required columns are reported once, against the header.
    """
    table = SourceTable(form=form, file=file)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        table.problems.append(Problem(file, None, "", "", RULE_FORMAT, f"cannot read file: {exc.strerror or exc}"))
        return table
    text, problems = decode_text(raw, file)
    table.problems += problems
    if text is None:
        return table
    if "\x00" in text:
        table.problems.append(Problem(file, None, "", "NUL", RULE_FORMAT, "file contains NUL bytes; not a text export"))
        return table
    reader = _read_jsonl if path.suffix.lower() == ".jsonl" else _read_csv
    reader(text, table, rename, fields)
    if table.rows_read == 0 and not table.problems:
        table.problems.append(Problem(file, None, "", "", RULE_EMPTY, "file has no records"))
    return table


def _check_columns(columns: list[str], table: SourceTable, fields: dict[str, bool], row: int) -> set[str]:
    """Report unknown/missing/duplicate columns once; return the known columns to keep."""
    seen: set[str] = set()
    for col in columns:
        if col in seen:
            table.problems.append(Problem(table.file, row, col, col, RULE_COLUMN_DUPLICATE, f"column '{col}' appears twice"))
        seen.add(col)
        if col not in fields:
            table.problems.append(Problem(table.file, row, col, col, RULE_COLUMN_UNKNOWN,
                                          f"column '{col}' is not a field of {table.form} (add it to the rename map?)"))
    return seen & set(fields)


def _read_csv(text: str, table: SourceTable, rename: dict[str, str], fields: dict[str, bool]) -> None:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        columns = [rename.get(h.strip(), h.strip()) for h in header]
        keep = _check_columns(columns, table, fields, 1)
        for name, required in fields.items():
            if required and name not in keep:
                table.missing_columns.add(name)
                table.problems.append(Problem(table.file, 1, name, "", RULE_COLUMN_MISSING,
                                              f"required column '{name}' is missing"))
        index = [(i, c) for i, c in enumerate(columns) if c in keep]
        for n, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue  # a blank line is not a record
            table.rows_read += 1
            if len(cells) != len(columns):
                table.problems.append(Problem(table.file, n, "", f"{len(cells)} cells", RULE_FORMAT,
                                              f"row has {len(cells)} cells, the header has {len(columns)}"))
                continue
            table.rows.append({c: (cells[i] if cells[i].strip() != "" else None) for i, c in index})
            table.row_numbers.append(n)
    except csv.Error as exc:
        table.problems.append(Problem(table.file, reader.line_num, "", "", RULE_FORMAT,
                                      f"not a readable CSV at line {reader.line_num}: {exc}"))


def _read_jsonl(text: str, table: SourceTable, rename: dict[str, str], fields: dict[str, bool]) -> None:
    reported: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        table.rows_read += 1
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            table.problems.append(Problem(table.file, n, "", line[:40], RULE_FORMAT, f"not a JSON object: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            table.problems.append(Problem(table.file, n, "", line[:40], RULE_FORMAT, "line is not a JSON object"))
            continue
        record = {}
        for key, value in obj.items():
            col = rename.get(key, key)
            if col not in fields:
                if col not in reported:
                    reported.add(col)
                    table.problems.append(Problem(table.file, n, col, col, RULE_COLUMN_UNKNOWN,
                                                  f"field '{col}' is not a field of {table.form} (add it to the rename map?)"))
                continue
            if isinstance(value, str) and value.strip() == "":
                value = None
            record[col] = value
        table.rows.append(record)
        table.row_numbers.append(n)
