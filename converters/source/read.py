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

import numpy as np
import pandas as pd

from converters.problems import Problem
from converters.source.messages import missing_column, unknown_column

try:  # optional: a C CSV parser for the common case; the careful reader below is always the reference
    import pyarrow as _pa
    import pyarrow.csv as _pacsv
except ImportError:  # pragma: no cover - exercised only where pyarrow is absent
    _pa = _pacsv = None

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


MAX_LINE = 1 << 20  # bytes; an EDC record is a few kilobytes


def overlong_line(raw: bytes, file: str) -> Problem | None:
    """A problem naming the first line longer than MAX_LINE bytes, if any. Each step jumps to the
    last line break within MAX_LINE bytes: a line longer than that is a window without one."""
    start = 0  # always the start of a line
    while len(raw) - start > MAX_LINE:
        end = raw.rfind(b"\n", start, start + MAX_LINE + 1)
        if end < 0:
            return _overlong(file, raw.count(b"\n", 0, start) + 1)
        start = end + 1
    return None


def _overlong(file: str, line: int) -> Problem:
    return Problem(file, line, "", "", RULE_FORMAT, f"line {line} is longer than {MAX_LINE:,} bytes: not a record "
                   "of an EDC export (a file without line breaks?)")


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
    long_line = overlong_line(raw, file)
    if long_line:
        table.problems.append(long_line)
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
                                          unknown_column(col, table.form)))
    return seen & set(fields)


def header_columns(header: list[str], table, rename: dict[str, str], fields: dict[str, bool]) -> tuple[list[str], set[str]]:
    """Contract names of a CSV header (after ``rename``) and the known ones; unknown, duplicate and
    missing required columns are reported once, against the header row."""
    columns = [rename.get(h.strip(), h.strip()) for h in header]
    keep = _check_columns(columns, table, fields, 1)
    for name, required in fields.items():
        if required and name not in keep:
            table.missing_columns.add(name)
            table.problems.append(Problem(table.file, 1, name, "", RULE_COLUMN_MISSING,
                                          missing_column(name, table.form)))
    return columns, keep


def _read_csv(text: str, table: SourceTable, rename: dict[str, str], fields: dict[str, bool]) -> None:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        if len(header) <= 2 and header[0].lower().startswith("sep="):
            line = ",".join(header)
            table.problems.append(Problem(table.file, 1, "", line, RULE_FORMAT,
                                          f"the first line '{line}' is Excel's separator hint, not the header row: "
                                          "delete that line"))
            return
        columns, keep = header_columns(header, table, rename, fields)
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


def jsonl_record(obj: dict, n: int, table: SourceTable, rename: dict[str, str], fields: dict[str, bool],
                 reported: set[str]) -> dict:
    """One JSON Lines object as a record of contract fields; an unknown key is reported once per file."""
    record = {}
    for key, value in obj.items():
        col = rename.get(key, key)
        if col not in fields:
            if col not in reported:
                reported.add(col)
                table.problems.append(Problem(table.file, n, col, col, RULE_COLUMN_UNKNOWN,
                                              unknown_column(col, table.form, "field")))
            continue
        record[col] = None if isinstance(value, str) and value.strip() == "" else value
    return record


class DuplicateKey(ValueError):
    def __init__(self, key: str):
        super().__init__(key)
        self.key = key


def _unique_keys(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object as a dict; a key given twice is an error (json keeps the last value silently)."""
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        raise DuplicateKey(next(k for k, _ in pairs if k in seen or seen.add(k)))
    return obj


def _read_jsonl(text: str, table: SourceTable, rename: dict[str, str], fields: dict[str, bool]) -> None:
    reported: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        table.rows_read += 1
        try:
            obj = json.loads(line, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            table.problems.append(Problem(table.file, n, "", line[:40], RULE_FORMAT, f"not a JSON object: {exc.msg}"))
            continue
        except DuplicateKey as exc:
            table.problems.append(Problem(table.file, n, exc.key, exc.key, RULE_FORMAT,
                                          f"the key '{exc.key}' appears twice in this object: keep one"))
            continue
        except ValueError:  # an integer of more than 4300 digits
            table.problems.append(Problem(table.file, n, "", line[:40], RULE_FORMAT, "a number with too many digits"))
            continue
        except RecursionError:
            table.problems.append(Problem(table.file, n, "", line[:40], RULE_FORMAT, "JSON nested too deeply"))
            continue
        if not isinstance(obj, dict):
            table.problems.append(Problem(table.file, n, "", line[:40], RULE_FORMAT, "line is not a JSON object"))
            continue
        table.rows.append(jsonl_record(obj, n, table, rename, fields, reported))
        table.row_numbers.append(n)


# --- Column-wise reading (the fast path of load_study) ------------------------------------------

ABSENT = -1  # code of a key a JSON Lines record does not have (unlike None: present but empty)
_BOM = b"\xef\xbb\xbf"


@dataclass
class Column:
    """One field of every record: ``uniques[codes[i]]`` is record i's value (None: empty cell)."""

    codes: np.ndarray  # int64; ABSENT where the record lacks the key
    uniques: list

    def values(self) -> np.ndarray:
        """Object array of the values (None where empty or absent)."""
        table = np.empty(len(self.uniques) + 1, dtype=object)
        table[:-1] = self.uniques
        table[-1] = None
        return table[self.codes]  # ABSENT (-1) picks the trailing None


@dataclass
class ColumnTable:
    """The records of one form held column-wise; same content as SourceTable, no dict per row."""

    form: str
    file: str
    columns: dict[str, Column] = field(default_factory=dict)
    row_numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    rows_read: int = 0
    problems: list[Problem] = field(default_factory=list)
    missing_columns: set[str] = field(default_factory=set)

    def __len__(self) -> int:
        return len(self.row_numbers)

    def row(self, i: int) -> dict:
        """Record i as read_source would give it."""
        out = {}
        for name, col in self.columns.items():
            code = col.codes[i]
            if code != ABSENT:
                out[name] = col.uniques[code]
        return out


def read_columns(path: Path, file: str, form: str, rename: dict[str, str], fields: dict[str, bool]) -> ColumnTable:
    """``read_source`` column-wise: identical records, row numbers and problems.

    Plain CSV (no quote characters, no blank or lone-CR lines) goes through pyarrow's parser; any
    other file, or anything that parser refuses, is read by the careful reader above.
    """
    try:
        raw = path.read_bytes()
    except OSError:
        raw = None
    long_line = overlong_line(raw, file) if raw is not None else None
    if long_line:  # parsing it would cost many times its size in memory
        return columns_of(SourceTable(form=form, file=file, problems=[long_line]))
    if raw is not None and path.suffix.lower() != ".jsonl":
        fast = _fast_csv(raw, file, form, rename, fields)
        if fast is not None:
            return fast
    if raw is not None and path.suffix.lower() == ".jsonl":
        fast = _fast_jsonl(raw, file, form, rename, fields)
        if fast is not None:
            return fast
    return columns_of(read_source(path, file, form, rename, fields))


def columns_of(table: SourceTable) -> ColumnTable:
    """A SourceTable re-held column-wise (values keyed by type too: 1, 1.0 and True stay apart)."""
    names: list[str] = []
    for r in table.rows:
        names += [k for k in r if k not in names]
    n = len(table.rows)
    columns = {}
    for name in names:
        codes = np.empty(n, np.int64)
        index: dict = {}
        uniques: list = []
        for i, r in enumerate(table.rows):
            if name not in r:
                codes[i] = ABSENT
                continue
            v = r[name]
            try:
                key = (type(v), v)
                code = index.get(key)
            except TypeError:  # unhashable (a JSON list or object): its own entry
                key, code = None, None
            if code is None:
                code = len(uniques)
                uniques.append(v)
                if key is not None:
                    index[key] = code
            codes[i] = code
        columns[name] = Column(codes, uniques)
    return ColumnTable(table.form, table.file, columns, np.asarray(table.row_numbers, np.int64), table.rows_read,
                       list(table.problems), set(table.missing_columns))


def _fast_csv(raw: bytes, file: str, form: str, rename: dict[str, str], fields: dict[str, bool]) -> ColumnTable | None:
    """None whenever the careful reader is needed to get the exact same result."""
    if _pacsv is None:
        return None
    body = raw[len(_BOM):] if raw.startswith(_BOM) else raw
    # Quoting, NUL, lone CR and blank lines are where parsers differ or row numbers shift.
    if (not body or b'"' in body or b"\x00" in body or body[:4].lower() == b"sep="
            or body.startswith((b"\n", b"\r", b"\xff\xfe", b"\xfe\xff"))
            or b"\n\n" in body or b"\n\r\n" in body or (b"\r" in body and body.count(b"\r") != body.count(b"\r\n"))):
        return None
    end = body.find(b"\n")
    if end < 0 or end == len(body) - 1:
        return None  # header only: let the careful reader report it
    try:
        header = body[:end].rstrip(b"\r").decode("utf-8").split(",")
        parsed = _pacsv.read_csv(
            io.BytesIO(body),
            read_options=_pacsv.ReadOptions(column_names=[f"c{i}" for i in range(len(header))], skip_rows=1),
            parse_options=_pacsv.ParseOptions(quote_char=False, escape_char=False, newlines_in_values=False,
                                              ignore_empty_lines=False),
            convert_options=_pacsv.ConvertOptions(
                column_types={f"c{i}": _pa.string() for i in range(len(header))},
                null_values=[], strings_can_be_null=False, quoted_strings_can_be_null=False, check_utf8=True))
    except Exception:  # any refusal (bad UTF-8, ragged rows, ...) -> the careful reader reports it
        return None
    table = SourceTable(form=form, file=file)
    columns, keep = header_columns(header, table, rename, fields)
    n = parsed.num_rows
    blank_row = np.ones(n, bool)
    out: dict[str, Column] = {}
    for i, name in enumerate(columns):
        encoded = parsed.column(i).combine_chunks().dictionary_encode()
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        texts = encoded.dictionary.to_pylist()
        blank = np.fromiter((t.strip() == "" for t in texts), bool, len(texts))
        blank_row &= blank[codes] if len(texts) else True
        if texts and max(map(len, texts)) > csv.field_size_limit():
            return None  # the csv module refuses such a cell; let it say so
        if name in keep:  # a duplicated column: the last one wins, as in the careful reader
            out[name] = Column(codes, [None if b else t for t, b in zip(texts, blank)])
    if blank_row.any():
        return None  # a row of empty cells is skipped but numbered: leave it to the careful reader
    return ColumnTable(form, file, out, np.arange(2, n + 2, dtype=np.int64), n, table.problems,
                       table.missing_columns)


def _fast_jsonl(raw: bytes, file: str, form: str, rename: dict[str, str], fields: dict[str, bool]) -> ColumnTable | None:
    """Well-formed JSON Lines parsed in one call; any bad line -> None (the careful reader reports it)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw:
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if any(sep in text for sep in "\v\f\x1c\x1d\x1e\x85\u2028\u2029"):
        return None  # str.splitlines breaks there, possibly inside a JSON string
    lines = text.splitlines()
    numbers = [n for n, line in enumerate(lines, start=1) if line.strip()]
    if not numbers:
        return None
    try:
        objs = json.loads("[" + ",".join(lines[n - 1] for n in numbers) + "]", object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):  # the careful reader names the line and the cause
        return None
    if len(objs) != len(numbers) or not all(type(o) is dict for o in objs):
        return None
    table = SourceTable(form=form, file=file, rows_read=len(objs))
    fast = _jsonl_columns(objs, numbers, table, rename, fields)
    if fast is not None:
        return fast
    reported: set[str] = set()
    rows = []
    for n, obj in zip(numbers, objs):
        rows.append(jsonl_record(obj, n, table, rename, fields, reported))
    table.rows, table.row_numbers = rows, numbers
    return columns_of(table)


class _Absent:
    """Stands for a key a record lacks while its column is factorised."""


def _jsonl_columns(objs: list[dict], numbers: list[int], table: SourceTable, rename: dict[str, str],
                   fields: dict[str, bool]) -> ColumnTable | None:
    """columns_of(records made by jsonl_record) a column at a time, or None when a record needs the
    per-record path (unknown or colliding keys, unhashable or NaN values)."""
    keys: list[str] = []
    seen: set[str] = set()
    every = set().union(*objs)
    for obj in objs:  # keys in order of first appearance, as columns_of lists them
        for key in obj:
            if key not in seen:
                seen.add(key)
                keys.append(key)
        if len(seen) == len(every):
            break
    names = [rename.get(k, k) for k in keys]
    if any(n not in fields for n in names) or len(set(names)) != len(names):
        return None
    absent = _Absent()
    columns = {}
    for key, name in zip(keys, names):
        values = np.empty(len(objs), dtype=object)
        values[:] = [o.get(key, absent) for o in objs]
        try:
            value_codes, _ = pd.factorize(values)
        except TypeError:  # unhashable: a JSON list or object
            return None
        present = set(map(type, values))
        # factorize holds 1, 1.0 and True for one value, and None and NaN for one missing value:
        # where both kinds occur, key the values by (value, type)
        if len(present & {int, float, bool}) > 1 or {float, type(None)} <= present:
            type_codes, kinds = pd.factorize(np.array([type(v) for v in values] + [None], dtype=object)[:-1])
            codes, _ = pd.factorize((value_codes.astype(np.int64) + 1) * len(kinds) + type_codes)
        else:
            codes, _ = pd.factorize(value_codes)
        peak = np.maximum.accumulate(codes)
        first = np.flatnonzero(np.concatenate(([True], peak[1:] > peak[:-1])))
        uniques = values[first].tolist()
        if any(type(u) is float and u != u for u in uniques):
            return None
        # as jsonl_record: a blank string is an empty value; equal (type, value) keys share a code
        index: dict = {}
        remap = np.empty(len(uniques) + 1, np.int64)
        merged: list = []
        for i, u in enumerate(uniques):
            if u is absent:
                remap[i] = ABSENT
                continue
            v = None if isinstance(u, str) and u.strip() == "" else u
            code = index.setdefault((type(v), v), len(merged))
            if code == len(merged):
                merged.append(v)
            remap[i] = code
        columns[name] = Column(remap[codes], merged)
    return ColumnTable(table.form, table.file, columns, np.asarray(numbers, np.int64), table.rows_read,
                       list(table.problems), set(table.missing_columns))
