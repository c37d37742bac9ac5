"""A vectorised reader for one-member SAS XPORT v5 files (the submission format, FDA TCG 3.3.1).

pyreadstat needs ~6 s for a 1M-row AE; viewing the fixed-width records as a numpy array and decoding
each distinct text value once takes well under a second. Anything unusual (V8, several members,
VAX namestrs) returns None and the caller falls back to pyreadstat.
"""
from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

REC = 80
_MISSING_FIRST = {0x2E, 0x5F} | set(range(0x41, 0x5B))  # . _ A-Z: SAS missing values


@dataclass
class Meta:
    table_name: str
    file_label: str
    labels: dict[str, str]
    widths: dict[str, int]
    types: dict[str, str]
    encoding: str
    plain: bool = True  # every text value is ASCII without NUL bytes: any reader decodes it the same way
    # Char column -> (codes, decoded distinct values), when asked for: column = values[codes]
    factors: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


class CorruptXpt(ValueError):
    """The headers of a file contradict each other or its size: no record of it can be trusted."""


def _text(b: bytes, enc: str) -> str:
    return b.rstrip(b" \x00").decode(enc)


@dataclass
class _Parsed:
    """A file's records split into columns, before any text is decoded: floats for Num variables,
    (codes, distinct raw fields) for Char ones. Decoding and building frames from it is cheap."""

    dsname: bytes
    label: bytes
    namestrs: list[tuple[str, bytes, int, bool]]  # name, raw label, storage width, numeric
    columns: dict[str, np.ndarray | tuple[np.ndarray, np.ndarray]]
    nrows: int


# Within shared_reads(), each file (same path, inode, size and modification time) is parsed once:
# a conversion reads its SDTM for ADaM, then every dataset for define.xml and for the checks. The
# cache belongs to the thread that opened the block.
_local = threading.local()


def _shared() -> dict | None:
    return getattr(_local, "parsed", None)


@contextmanager
def shared_reads():
    outer = _shared()
    if outer is None:
        _local.parsed = {}
    try:
        yield
    finally:
        if outer is None:
            _local.parsed = None


def read(path, encodings=("utf-8", "cp1252"), empty: object = "",
         factors: bool = False) -> tuple[pd.DataFrame, Meta] | None:
    """(frame, metadata), or None for a file this reader does not handle; ``empty`` stands for an
    empty text value (a blank-filled field); ``factors`` keeps each Char column's codes in the metadata."""
    parsed = _parsed(path)
    if parsed is None:
        return None
    for enc in encodings:
        try:
            return _decode(parsed, enc, empty, factors)
        except UnicodeDecodeError:
            continue
    return None


def _key(path) -> tuple:
    st = os.stat(path)
    return os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns


def _parsed(path) -> _Parsed | None:
    shared = _shared()
    if shared is None:
        return _parse(path)
    key = _key(path)
    if key not in shared:
        shared[key] = _frozen(_parse(path))
    return shared[key]


def _frozen(parsed: _Parsed | None) -> _Parsed | None:
    """Read-only arrays: a shared parse is seen by every reader of the file."""
    for column in parsed.columns.values() if parsed is not None else ():
        for array in column if isinstance(column, tuple) else (column,):
            array.flags.writeable = False
    return parsed


def remember(path, dataset: str, label: str, written: list, rows: int) -> None:
    """Within shared_reads(): hold the file the XPT writer has just written to ``path`` as parsing it
    would find it (``written``: the writer's (Namestr, encoded column) pairs), so that reading it
    back costs no parse. Files with row-wise text columns are parsed when read."""
    shared = _shared()
    if shared is None or rows == 0:
        return
    namestrs, columns = [], {}
    for ns, column in written:
        if ns.is_char:
            got = column.factorized()
            if got is None:
                return
        else:
            got = column.decoded()
            if got is None:
                got = _ibm(column.bytes8, 8)
        namestrs.append((ns.name, ns.label.encode("ascii").ljust(40), ns.length, not ns.is_char))
        columns[ns.name] = got
    shared[_key(path)] = _frozen(_Parsed(dataset.encode("ascii").ljust(8), label.encode("ascii").ljust(40),
                                         namestrs, columns, rows))


def _parse(path) -> _Parsed | None:
    with open(path, "rb") as fh:
        data = fh.read()
    raw = np.frombuffer(data, dtype=np.uint8)  # a view of the same bytes: the file is held once
    if not data.startswith(b"HEADER RECORD*******LIBRARY HEADER RECORD!!!!!!!"):
        return None
    member = data[3 * REC:4 * REC]
    if not member.startswith(b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!") or member[74:78] != b"0140":
        return None
    if data.count(b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!") != 1:
        return None
    if len(data) % REC:
        raise CorruptXpt(f"its size, {len(data)} bytes, is not a whole number of 80-byte records (truncated?)")
    dsname, label = data[5 * REC + 8:5 * REC + 16], data[6 * REC + 32:6 * REC + 72]
    count = data[7 * REC + 54:7 * REC + 58]
    if not count.strip().isdigit():
        raise CorruptXpt(f"the variable count {count.decode('latin1')!r} of the NAMESTR header is not a number")
    nvar = int(count)
    start = 8 * REC
    ns_end = start + -(-nvar * 140 // REC) * REC
    if ns_end + REC > len(data):
        raise CorruptXpt(f"the headers announce {nvar} variables but the file ends after {len(data)} bytes (truncated?)")
    obs = data[ns_end:ns_end + REC]
    if not obs.startswith(b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!"):
        return None
    namestrs, cols = [], []
    for i in range(nvar):
        ns = data[start + 140 * i:start + 140 * (i + 1)]
        ntype, length = int.from_bytes(ns[0:2], "big"), int.from_bytes(ns[4:6], "big")
        name = ns[8:16].rstrip(b" \x00").decode("latin1")  # names are ASCII (checked by the rules)
        pos = int.from_bytes(ns[84:88], "big")
        namestrs.append((name, ns[16:56], length, ntype == 1))
        cols.append((name, ntype == 1, pos, length))
    _check_layout(cols)
    reclen = max((p + n for _, _, p, n in cols), default=0)
    block = raw[ns_end + REC:]
    nrows = len(block) // reclen if reclen else 0
    rows = block[:nrows * reclen].reshape(nrows, reclen) if reclen else np.empty((0, 0), np.uint8)
    # v5 pads the last 80-byte record with blanks: trailing all-blank rows are padding, not data
    tail = min(nrows, REC // max(reclen, 1) + 1)  # padding is shorter than one 80-byte record
    if tail:
        blank = (rows[nrows - tail:] == 0x20).all(axis=1)
        pad = int(np.argmax(~blank[::-1])) if not blank.all() else tail
        rows = rows[:nrows - pad]
    columns: dict = {}
    for name, numeric, pos, length in cols:
        part = rows[:, pos:pos + length]
        columns[name] = _ibm(part, length) if numeric else _factorize_text(part, length, len(rows))
    return _Parsed(dsname, label, namestrs, columns, len(rows))


def _check_layout(cols: list[tuple[str, bool, int, int]]) -> None:
    """Each variable its own bytes of the record (overlapping ones would each be decoded in full: a
    small file could then cost gigabytes), numbers 2 to 8 bytes long."""
    end = 0
    for name, numeric, pos, length in sorted(cols, key=lambda c: (c[2], c[3])):
        if length < 1 or (numeric and not 2 <= length <= 8):
            raise CorruptXpt(f"variable {name!r} has length {length}, impossible for a "
                             f"{'numeric' if numeric else 'character'} variable")
        if pos < end:
            raise CorruptXpt(f"variable {name!r} at position {pos} overlaps the variable before it")
        end = pos + length


def _decode(parsed: _Parsed, enc: str, empty: object = "", keep: bool = False) -> tuple[pd.DataFrame, Meta]:
    names, labels, widths, types = [], {}, {}, {}
    frame, kept = {}, {}
    plain = True
    for raw_name, label, length, numeric in parsed.namestrs:
        name = raw_name.encode("latin1").decode(enc)
        names.append(name)
        labels[name] = _text(label, enc)
        widths[name] = length
        types[name] = "Num" if numeric else "Char"
        column = parsed.columns[raw_name]
        if numeric:
            # the frame's own numbers: callers may write into them, but not into a shared parse
            frame[name] = column if column.flags.writeable else column.copy()
        else:
            codes, uniq = column
            plain = plain and all(u.isascii() and b"\x00" not in u for u in uniq)
            decoded = np.asarray([_text(u, enc) or empty for u in uniq] + [empty], dtype=object)
            frame[name] = decoded[codes]
            if keep:
                kept[name] = (codes, decoded[:-1])
    meta = Meta(_text(parsed.dsname, "ascii").upper(), _text(parsed.label, enc), labels, widths, types,
                "" if enc == "utf-8" else enc, plain, kept)
    # copy=False keeps one block per column: consolidating them would copy every column once more
    return pd.DataFrame(frame, columns=names, copy=False), meta


def _factorize_text(part: np.ndarray, length: int, nrows: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct byte strings) of a fixed-width text field, in order of first appearance.

    The field is read as 8-byte integers, which are folded into one 64-bit hash per record and
    factorised: far faster than making and hashing a bytes object per record. Every record is then
    compared with the first record of its code, so a hash collision can only cost time (the exact
    path), never merge two values. NUL padding vanishes again in the S views.
    """
    if length == 0 or nrows == 0:
        return pd.factorize(np.full(nrows, b"", object))
    words = -(-length // 8)
    wide = np.zeros((nrows, 8 * words), np.uint8)
    wide[:, :length] = part
    ints = wide.view("<u8")
    if words == 1:
        codes, uniq = pd.factorize(ints[:, 0])
        return codes, np.asarray(uniq, dtype="<u8").view("S8").astype(object)
    folded = ints[:, 0].copy()
    for j in range(1, words):
        folded ^= ints[:, j] + np.uint64(0x9E3779B97F4A7C15) + (folded << np.uint64(6)) + (folded >> np.uint64(2))
    codes, _ = pd.factorize(folded)
    # codes count up in order of first appearance: a record is a first one where the running max grows
    peak = np.maximum.accumulate(codes)
    first = np.flatnonzero(np.concatenate(([True], peak[1:] > peak[:-1])))
    same = np.ones(nrows, bool)
    for j in range(words):
        same &= ints[:, j] == ints[first, j][codes]
    if not same.all():
        values = np.ascontiguousarray(part).view(f"S{length}").ravel().astype(object)
        return pd.factorize(values)
    return codes, np.ascontiguousarray(part[first]).view(f"S{length}").ravel().astype(object)


_MISSING_TABLE = np.zeros(256, bool)
_MISSING_TABLE[list(_MISSING_FIRST)] = True
_SCALE = np.ldexp(1.0, 4 * (np.arange(128) - 64) - 56)  # 16 ** (exponent - 64) / 2 ** 56 per exponent byte


def _ibm(part: np.ndarray, length: int) -> np.ndarray:
    """IBM hexadecimal floating point (big-endian, 2-8 bytes) to float64; SAS missing values -> NaN."""
    if length == 8:
        u = np.ascontiguousarray(part).view(">u8").ravel().astype(np.uint64)
    else:
        full = np.zeros((len(part), 8), np.uint8)
        full[:, :length] = part
        u = full.view(">u8").ravel().astype(np.uint64)
    first = (u >> np.uint64(56)).astype(np.intp)
    mant = u & np.uint64(0x00FFFFFFFFFFFFFF)
    missing = _MISSING_TABLE[first] & (mant == 0)
    # mantissa (exact in float64: at most 56 bits, of which the lowest carry no IEEE precision) x scale
    out = mant.astype(np.float64) * _SCALE[first & 0x7F]
    np.negative(out, out=out, where=first >= 0x80)
    out[missing] = np.nan
    return out
