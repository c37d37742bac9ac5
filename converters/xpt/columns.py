"""Column encoders: one pandas Series -> an encoded column that fills row blocks of the record matrix.

Everything is whole-column numpy work; Python loops touch only offending rows (to name them in
problems), values with trailing blanks, or object columns that mix types.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import ibm
from .checks import MAX_CHAR
from .model import XptProblem, XptVariable

BLANK = 32


@dataclass(frozen=True)
class CharColumn:
    """All values' ASCII bytes back to back (trailing blanks removed) plus each value's length."""

    raw: np.ndarray  # uint8
    lens: np.ndarray  # int64 per row
    ends: np.ndarray  # cumulative lens: row i occupies raw[ends[i] - lens[i]:ends[i]]
    length: int

    def fill(self, out: np.ndarray, start: int, stop: int) -> None:
        """Write rows [start, stop) into `out` (a blank-initialised (rows, length) view)."""
        lo = int(self.ends[start - 1]) if start else 0
        hi = int(self.ends[stop - 1]) if stop > start else lo
        if hi > lo:
            # Row-major boolean mask selects exactly the value bytes, in concatenation order.
            out[np.arange(self.length) < self.lens[start:stop, None]] = self.raw[lo:hi]

    def blank_rows(self) -> np.ndarray:
        return self.lens == 0

    def factorized(self) -> None:
        return None  # row-wise text has no table of distinct values: a reader parses the file


@dataclass(frozen=True)
class CodedCharColumn:
    """Each distinct value once, blank-padded, as a row of ``table`` (the last row is the blank missing
    value), plus every row's code into it: filling a block is one gather, with no per-row string work."""

    table: np.ndarray  # (distinct + 1, length) uint8
    codes: np.ndarray  # intp per row
    length: int

    def fill(self, out: np.ndarray, start: int, stop: int) -> None:
        # each field as one opaque length-byte item: a gather of whole fields, not of single bytes
        out.view(f"V{self.length}")[:, 0] = self.table.view(f"V{self.length}")[:, 0][self.codes[start:stop]]

    def blank_rows(self) -> np.ndarray:
        return (self.table == BLANK).all(axis=1)[self.codes]

    def factorized(self) -> tuple[np.ndarray, np.ndarray]:
        """(codes, distinct blank-padded fields as bytes) in order of first appearance: what a reader
        factorising the written fields finds (table rows with the same bytes, such as an empty
        value and the missing one, are one field)."""
        fields = self.table.view(f"S{self.length}").ravel().astype(object)
        same, distinct = pd.factorize(fields)
        merged = same[self.codes]
        # the order of first appearance: usually every value has appeared within the first rows
        order = pd.unique(merged[:1 << 16])
        if len(order) < np.count_nonzero(np.bincount(merged, minlength=len(distinct))):
            order = pd.unique(merged)
        rank = np.empty(len(distinct), np.intp)
        rank[order] = np.arange(len(order))
        return rank[merged], np.asarray(distinct, dtype=object)[order]


@dataclass(frozen=True)
class NumColumn:
    bytes8: np.ndarray  # (rows, 8) big-endian IBM doubles
    length: int = 8
    values: np.ndarray | None = None  # the float64 values encoded (NaN for any missing value)

    def fill(self, out: np.ndarray, start: int, stop: int) -> None:
        out.view("V8")[:, 0] = self.bytes8[start:stop].view("V8")[:, 0]

    def decoded(self) -> np.ndarray | None:
        """The numbers a reader decodes from the written doubles, without decoding them: every
        value the writer accepts fits IBM's 56-bit fraction exactly, so only the sign of a zero
        needs the written bytes."""
        if self.values is None:
            return None
        out = self.values.copy()
        zero = np.flatnonzero(out == 0)
        out[zero] = np.where(self.bytes8[zero, 0] & 0x80, -0.0, 0.0)
        return out

    def blank_rows(self) -> np.ndarray:
        return np.zeros(len(self.bytes8), bool)  # a numeric value, even missing, is never blank


# Letters NFKD does not decompose into ASCII (ligatures and letters with strokes), and typographic
# punctuation that word processors put into free text.
_LATIN = str.maketrans({
    "Œ": "OE", "œ": "oe", "Æ": "AE", "æ": "ae", "ß": "ss", "ẞ": "SS", "Ø": "O", "ø": "o", "Đ": "D", "đ": "d",
    "Ł": "L", "ł": "l", "Þ": "TH", "þ": "th", "Ð": "D", "ð": "d", "ı": "i", "Ħ": "H", "ħ": "h",
    "‘": "'", "’": "'", "‚": "'", "“": '"', "”": '"', "„": '"', "–": "-", "—": "-", "−": "-", "…": "...",
    "\u00a0": " ", "µ": "u", "°": " deg", "±": "+/-", "×": "x",
})


def _transliterate(text: str) -> str | None:
    """NFKD, drop combining marks, map the Latin letters NFKD keeps; None when still not ASCII."""
    out = "".join(c for c in unicodedata.normalize("NFKD", text.translate(_LATIN)) if not unicodedata.combining(c))
    return out if out.isascii() else None


def _as_object(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    missing = series.isna().to_numpy()
    values = series.to_numpy(dtype=object)
    return values, missing


def _empty_char(rows: int, var: XptVariable) -> CharColumn:
    return CharColumn(np.zeros(0, np.uint8), np.zeros(rows, np.int64), np.zeros(rows, np.int64), var.length or 1)


# Above this many bytes the distinct-value table would outweigh the joined text (free text columns).
_TABLE_BYTES = 1 << 24


# ASCII control characters but TAB, which is white space to every reader (non-ASCII is checked apart)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def encode_char(dataset: str, var: XptVariable, series: pd.Series, transliterate: bool
                ) -> tuple[CharColumn | CodedCharColumn, list[XptProblem]]:
    """Missing values become blanks (SAS character missing); problems name every offending row.

    Columns of clean ASCII strings are encoded from their distinct values (SDTM columns repeat few
    values); anything that needs a problem or transliteration, or has too many long distinct values,
    takes the row-wise path, which gives the same bytes.
    """
    coded = _encode_distinct(var, series)
    if coded is not None:
        return coded, []
    return _encode_rows(dataset, var, series, transliterate)


def _encode_distinct(var: XptVariable, series: pd.Series) -> CodedCharColumn | None:
    """The column from its distinct values, or None when the row-wise path must decide."""
    codes, uniques = _factorized(series)  # missing (None, NaN, NA) -> -1
    if not all(isinstance(u, str) for u in uniques):
        return None
    # trailing blanks carry no meaning and are not stored (FDA TCG 4.1.5.2), as in the row-wise path
    texts = [u.rstrip(" ") for u in uniques]
    if not "".join(texts).isascii() or _CONTROL.search("".join(texts)):
        return None
    longest = max(map(len, texts), default=0)
    length = max(longest, 1) if var.length is None else var.length
    if longest > MAX_CHAR or longest > length or (len(texts) + 1) * length > max(_TABLE_BYTES, 8 * len(codes)):
        return None
    table = np.array(texts + [""], dtype=f"S{length}").view(np.uint8).reshape(len(texts) + 1, length).copy()
    table[table == 0] = BLANK  # numpy pads with NUL; SAS pads with blanks (no value holds a NUL, checked above)
    codes = np.where(codes < 0, len(texts), codes).astype(np.intp)
    return CodedCharColumn(table, codes, length)


def _factorized(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values); a dictionary-encoded (Categorical) column already is one. Unused
    categories are left out: the length is that of the longest value actually stored."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        categories = series.cat.categories.to_numpy(dtype=object)
        used = np.bincount(codes[codes >= 0], minlength=len(categories)) > 0
        if used.all():
            return codes, categories
        remap = np.cumsum(used) - 1
        return np.where(codes < 0, -1, remap[codes]), categories[used]
    return pd.factorize(series.to_numpy(dtype=object))


def _encode_rows(dataset: str, var: XptVariable, series: pd.Series, transliterate: bool
                 ) -> tuple[CharColumn, list[XptProblem]]:
    """Row-wise encoding: reports every offending row.

    The strings are joined into one ASCII buffer instead of a numpy unicode array, which would cost
    4 bytes per character and a slow per-element cast.
    """
    name = var.name
    values, missing = _as_object(series)
    rows = len(values)
    problems: list[XptProblem] = []
    if pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
        for i in np.flatnonzero(~missing):
            if not isinstance(values[i], str):
                problems.append(XptProblem(dataset, name, int(i) + 1, values[i], "XPT-CHAR-TYPE",
                                           "character variable holds a non-string value"))
        if problems:
            return _empty_char(rows, var), problems
    if missing.any():
        values = values.copy()
        values[missing] = ""
    texts = values.tolist()
    blob = "".join(texts)
    if not blob.isascii():
        texts, problems = _ascii_only(dataset, name, texts, transliterate)
        if problems:
            return _empty_char(rows, var), problems
        blob = "".join(texts)
    raw = np.frombuffer(blob.encode("ascii"), np.uint8)
    lens = np.fromiter(map(len, texts), np.int64, rows)
    ends = np.cumsum(lens)
    # Trailing blanks carry no meaning in SAS character values (the field is blank-padded anyway), so
    # they are dropped: they neither count toward the length (FDA TCG 4.1.5.2) nor need storing.
    last_char = raw[np.maximum(ends - 1, 0)] if len(raw) else np.zeros(rows, np.uint8)
    trailing = np.flatnonzero((lens > 0) & (last_char == BLANK))
    if len(trailing):
        for i in trailing:
            texts[i] = texts[i].rstrip(" ")
            lens[i] = len(texts[i])
        raw = np.frombuffer("".join(texts).encode("ascii"), np.uint8)
        ends = np.cumsum(lens)
    # An embedded NUL would read back as end-of-string, ESC or BEL would drive a terminal showing the
    # value, a line break would split it in a listing: refuse instead of changing the value.
    control = ((raw < 0x20) & (raw != 0x09)) | (raw == 0x7F)
    for i in np.unique(np.searchsorted(ends, np.flatnonzero(control), side="right")):
        found = _CONTROL.search(texts[i]).group()
        problems.append(XptProblem(dataset, name, int(i) + 1, texts[i], "XPT-CHAR-ASCII",
                                   "character values must not contain NUL bytes" if found == "\x00" else
                                   f"character values must not contain control characters (here \\x{ord(found):02x})"))
    for i in np.flatnonzero(lens > MAX_CHAR):
        problems.append(XptProblem(dataset, name, int(i) + 1, texts[i], "XPT-CHAR-200",
                                   f"character value is {lens[i]} bytes; at most {MAX_CHAR} "
                                   "allowed (FDA TCG 4.1.5)"))
    longest = int(lens.max()) if rows else 0
    if var.length is None:
        length = max(longest, 1)  # FDA TCG 4.1.5.2: length = longest value actually stored
    else:
        length = var.length
        for i in np.flatnonzero(lens > length):
            problems.append(XptProblem(dataset, name, int(i) + 1, texts[i], "XPT-CHAR-LENGTH",
                                       f"value needs {lens[i]} bytes but the variable length is {length}"))
    if problems:
        return _empty_char(rows, var), problems
    return CharColumn(raw, lens, ends, length), problems


def _ascii_only(dataset: str, name: str, texts: list[str], transliterate: bool
                ) -> tuple[list[str], list[XptProblem]]:
    """FDA TCG 4.1.5: ASCII only. Optionally map accented letters to ASCII; report what stays."""
    texts = list(texts)
    problems = []
    for i, text in enumerate(texts):
        if text.isascii():
            continue
        mapped = _transliterate(text) if transliterate else None
        if mapped is None:
            hint = "" if transliterate else "; rerun with --transliterate to write the nearest ASCII text"
            problems.append(XptProblem(dataset, name, i + 1, text, "XPT-CHAR-ASCII",
                                       "character values must be ASCII (FDA TCG 4.1.5)" + hint))
        else:
            texts[i] = mapped
    return texts, problems


def _numeric_from_object(dataset: str, name: str, values: np.ndarray
                         ) -> tuple[np.ndarray, dict[int, int], list[XptProblem]]:
    """Slow path for object/string columns: numbers, missing, and special-missing strings '.A'."""
    out = np.full(len(values), np.nan)
    special: dict[int, int] = {}
    problems = []
    for i, v in enumerate(values):
        if v is None or v is pd.NA or v is pd.NaT:
            continue
        if isinstance(v, str):
            code = ibm.SPECIAL_MISSING.get(v.strip().upper()) if v.strip() else None
            if code is None:
                problems.append(XptProblem(dataset, name, i + 1, v, "XPT-NUM-TYPE",
                                           "numeric variable holds a string (only '.', '.A'-'.Z', '._' allowed)"))
            elif code != ibm.MISSING:
                special[i] = code
            continue
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
            problems.append(XptProblem(dataset, name, i + 1, v, "XPT-NUM-TYPE",
                                       "numeric variable holds a non-numeric value"))
            continue
        if isinstance(v, (int, np.integer)) and abs(int(v)) > 2**53 and int(float(v)) != int(v):
            problems.append(XptProblem(dataset, name, i + 1, v, "XPT-NUM-PRECISION",
                                       "integer cannot be stored exactly in a double"))
            continue
        out[i] = float(v)
    return out, special, problems


def encode_num(dataset: str, var: XptVariable, series: pd.Series) -> tuple[NumColumn, list[XptProblem]]:
    """IBM doubles (big-endian) plus problems. NaN/None/NA -> SAS missing '.'."""
    name = var.name
    dtype = series.dtype
    special: dict[int, int] = {}
    problems: list[XptProblem] = []
    if pd.api.types.is_bool_dtype(dtype):
        problems.append(XptProblem(dataset, name, None, str(dtype), "XPT-NUM-TYPE",
                                   "boolean column given for a numeric variable; convert to 0/1 explicitly"))
        return NumColumn(np.zeros((len(series), 8), np.uint8)), problems
    if pd.api.types.is_integer_dtype(dtype):
        ints = series.to_numpy(dtype="float64", na_value=np.nan)
        raw = series.dropna().to_numpy(dtype=object) if _may_be_inexact(series) else ()
        if len(raw):
            for i, v in zip(np.flatnonzero(series.notna().to_numpy()), raw):
                if int(float(v)) != int(v):
                    problems.append(XptProblem(dataset, name, int(i) + 1, int(v), "XPT-NUM-PRECISION",
                                               "integer cannot be stored exactly in a double"))
        x = ints
    elif pd.api.types.is_float_dtype(dtype):
        x = series.to_numpy(dtype="float64", na_value=np.nan)
    else:
        x, special, problems = _numeric_from_object(dataset, name, series.to_numpy(dtype=object))
    codes, bad = ibm.ieee_to_ibm(x)
    for i in np.flatnonzero(bad):
        problems.append(XptProblem(dataset, name, int(i) + 1, float(x[i]), "XPT-NUM-RANGE",
                                   "value is outside the IBM double range "
                                   f"({ibm.IBM_MIN:.3g} to {ibm.IBM_MAX:.3g} in magnitude) or infinite"))
    for i, code in special.items():
        codes[i] = ibm.missing_code(code)
    return NumColumn(ibm.to_big_endian_bytes(codes), values=x), problems


def _may_be_inexact(series: pd.Series) -> bool:
    """Cheap guard: only integer columns with magnitudes above 2**53 need the exactness check."""
    if series.dropna().empty:
        return False
    lo, hi = series.min(), series.max()
    return max(abs(int(lo)), abs(int(hi))) > 2**53
