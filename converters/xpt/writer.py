"""SAS XPORT v5 writer: checks everything first, then streams header, NAMESTRs and row blocks."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from . import checks, columns, records
from .model import XptError, XptProblem, XptVariable

BLOCK_BYTES = 4 << 20  # bytes of records assembled per write; bounds the record buffer's memory


def _prepare(frame: pd.DataFrame, dataset: str, label: str, variables: Sequence[XptVariable],
             transliterate: bool, extra: list[XptProblem]):
    problems = list(extra)
    problems += checks.check_dataset(dataset, label)
    problems += checks.check_variables(dataset, variables)
    problems += checks.check_columns(dataset, frame.columns, variables)
    if problems:  # values are meaningless to check against broken metadata
        raise XptError(problems)

    encoded: list[columns.CharColumn | columns.CodedCharColumn | columns.NumColumn] = []
    namestrs: list[records.Namestr] = []
    position = 0
    for number, var in enumerate(variables, start=1):
        series = frame[var.name]
        if var.type == "Char":
            column, found = columns.encode_char(dataset, var, series, transliterate)
        else:
            column, found = columns.encode_num(dataset, var, series)
        length = column.length
        problems += found
        fmt_name, fmt_width, fmt_dec = checks.parse_format(var.format)
        namestrs.append(records.Namestr(var.type == "Char", length, number, var.name, var.label,
                                        fmt_name, fmt_width, fmt_dec, position))
        encoded.append(column)
        position += length
    if not problems:
        problems += _trailing_blank_rows(dataset, encoded, len(frame))
    if problems:
        raise XptError(problems)
    return encoded, namestrs, position


def _trailing_blank_rows(dataset: str, encoded: list, rows: int) -> list[XptProblem]:
    """XPORT v5 stores no row count: readers (SAS, ReadStat) take all-blank rows at the end of the
    data for record padding, so such rows would silently vanish. Only all-Char datasets can have one
    (a numeric missing value is not blank)."""
    if not encoded or rows == 0 or any(isinstance(c, columns.NumColumn) for c in encoded):
        return []
    blank = np.logical_and.reduce([c.blank_rows() for c in encoded])
    nonblank = np.flatnonzero(~blank)
    first = int(nonblank[-1]) + 1 if len(nonblank) else 0
    return [XptProblem(dataset, None, i + 1, None, "XPT-BLANK-LAST-ROW",
                       "trailing observation with every character value blank would be read back as "
                       "padding and lost; drop it or give it a non-blank value")
            for i in range(first, len(blank))]


def _emit(write: Callable[[bytes | memoryview], object], frame: pd.DataFrame, dataset: str, label: str,
          variables: Sequence[XptVariable], created: dt.datetime, transliterate: bool,
          extra: list[XptProblem], keep: list | None = None) -> dict:
    if not isinstance(created, dt.datetime):
        raise TypeError("created must be a datetime.datetime (timestamps never come from the clock)")
    encoded, namestrs, reclen = _prepare(frame, dataset, label, variables, transliterate, extra)
    if keep is not None:
        keep.extend(zip(namestrs, encoded))
    digest = hashlib.sha256()

    def out(chunk: bytes | memoryview) -> None:
        digest.update(chunk)
        write(chunk)

    out(records.library_headers(created))
    out(records.member_headers(dataset, label, created, len(variables)))
    out(records.namestr_block(namestrs))
    out(records.obs_header())
    rows = len(frame)
    # Blocks of ~4 MB stay cache-friendly. Buffers are reused (fresh allocations cost more in page
    # faults than the fill): while one is filled here, one helper thread hashes and another writes
    # the blocks before it; sha256 and file writes release the GIL, so the three passes overlap on
    # two cores. Each helper takes its blocks in order.
    block_rows = max(1, min(rows, BLOCK_BYTES // max(reclen, 1)))
    buffers = [np.empty((block_rows, reclen), np.uint8) for _ in range(3 if rows > block_rows else 1)]
    # row-wise text fills only its values' bytes; every other column fills its whole field
    blank_first = any(isinstance(c, columns.CharColumn) for c in encoded)
    pending: list[tuple[Future, Future] | None] = [None] * len(buffers)
    with ThreadPoolExecutor(max_workers=1) as hasher, ThreadPoolExecutor(max_workers=1) as writer:
        for index, start in enumerate(range(0, rows, block_rows)):
            slot = index % len(buffers)
            for future in pending[slot] or ():
                future.result()  # that buffer's previous block is hashed and on disk now
            stop = min(start + block_rows, rows)
            block = buffers[slot][: stop - start]
            if blank_first:
                block.fill(columns.BLANK)
            for column, ns in zip(encoded, namestrs):
                column.fill(block[:, ns.position:ns.position + ns.length], start, stop)
            view = memoryview(block).cast("B")
            pending[slot] = (hasher.submit(digest.update, view), writer.submit(write, view))
        for futures in pending:
            for future in futures or ():
                future.result()
    # TS-140: the last observation record is blank-padded to a full 80 bytes.
    out(b" " * (-(rows * reclen) % records.RECORD))
    return {"rows": rows, "lengths": {n.name: n.length for n in namestrs}, "sha256": digest.hexdigest()}


def encode_xpt(frame: pd.DataFrame, *, dataset: str, label: str, variables: Sequence[XptVariable],
               created: dt.datetime, transliterate: bool = False) -> bytes:
    """The XPORT v5 file as bytes (same bytes `write_xpt` writes, minus the file-name check)."""
    parts: list[bytes] = []
    _emit(lambda c: parts.append(bytes(c)), frame, dataset, label, variables, created, transliterate, [])
    return b"".join(parts)


def write_xpt(path: str | os.PathLike, frame: pd.DataFrame, *, dataset: str, label: str,
              variables: Sequence[XptVariable], created: dt.datetime, transliterate: bool = False,
              keep: list | None = None) -> dict:
    """Write `frame` as one-member XPORT v5 file atomically; returns rows, char/num lengths and sha256.

    Raises XptError listing every problem (nothing is written then). ``keep``, a list, receives
    (Namestr, encoded column) per variable: what was written, for readers that would parse it again.
    """
    path = Path(path)
    extra = checks.check_file_name(path, dataset)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            result = _emit(fh.write, frame, dataset, label, variables, created, transliterate, extra, keep)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; an output file should be readable like any other
        os.replace(tmp, path)  # readers never see a half-written file
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return result


def read_xpt(path: str | os.PathLike, **options) -> tuple[pd.DataFrame, object]:
    """Read an XPORT file with pyreadstat (the independent reader the tests trust).

    `options` pass through to pyreadstat.read_xport (e.g. disable_datetime_conversion=True keeps
    DATE-formatted numbers as numbers)."""
    import pyreadstat

    return pyreadstat.read_xport(os.fspath(path), **options)
