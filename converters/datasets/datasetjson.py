"""CDISC Dataset-JSON v1.1 (.json), its NDJSON form (.ndjson) and DSJC (.dsjc, zlib-compressed NDJSON).

Written by hand with the standard library: the format is small, and the PyPI packages for it are AGPL
licensed or immature. Attribute order follows the specification (it lets streaming readers stop early).
Rows are streamed in blocks; each distinct value of a column is encoded once per block.
"""
from __future__ import annotations

import gc
import io
import json
import os
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, Iterator

import numpy as np
import pandas as pd

from . import values as V
from .model import TIMING_TYPES, Column, DatasetError, DatasetMeta

VERSION = "1.1.0"
BLOCK_ROWS = 1 << 16
# zlib level for DSJC: the specification leaves it to the writer (9 = smallest, slowest). On 1M AE rows
# level 3 compresses about as fast as the text is made (files ~1.3x level 9's), level 6 takes 2.5x that.
DSJC_LEVEL = 3
SOURCE_SYSTEM = ("cdisc-converter", "0.1.0")


# --- metadata ----------------------------------------------------------------------------------------

def header(meta: DatasetMeta, records: int) -> dict:
    """Top-level attributes in the specification's order (rows excluded)."""
    out: dict = {"datasetJSONCreationDateTime": meta.extra.get("created_text") or V.iso_moment(meta.created),
                 "datasetJSONVersion": meta.extra.get("version") or VERSION}
    optional = {"fileOID": meta.file_oid,
                "dbLastModifiedDateTime": meta.extra.get("db_last_modified_text")
                or (V.iso_moment(meta.db_last_modified) if meta.db_last_modified else None),
                "originator": meta.originator,
                "sourceSystem": {"name": meta.source_system[0], "version": meta.source_system[1]}
                if meta.source_system else None,
                "studyOID": meta.study_oid, "metaDataVersionOID": meta.metadata_version_oid,
                "metaDataRef": meta.metadata_ref}
    out.update({k: v for k, v in optional.items() if v is not None})
    out.update({"itemGroupOID": meta.item_group_oid, "records": records, "name": meta.name, "label": meta.label,
                "columns": [column_json(c) for c in meta.columns]})
    return out


def column_json(col: Column) -> dict:
    out = {"itemOID": col.item_oid, "name": col.name, "label": col.label, "dataType": col.data_type}
    for key, value in (("targetDataType", col.target_data_type), ("length", col.length),
                       ("displayFormat", col.display_format), ("keySequence", col.key_sequence)):
        if value is not None:
            out[key] = value
    return out


def meta_from_header(head: dict, where: str) -> DatasetMeta:
    try:
        columns = tuple(Column(c["itemOID"], c["name"], c.get("label", ""), c["dataType"], c.get("targetDataType"),
                               c.get("length"), c.get("displayFormat"), c.get("keySequence"))
                        for c in head["columns"])
        created_text = head["datasetJSONCreationDateTime"]
        db_text = head.get("dbLastModifiedDateTime")
        source = head.get("sourceSystem")
        return DatasetMeta(
            name=head["name"], label=head.get("label", ""), columns=columns, created=V.parse_moment(created_text),
            item_group_oid=head["itemGroupOID"], study_oid=head.get("studyOID"),
            metadata_version_oid=head.get("metaDataVersionOID"), metadata_ref=head.get("metaDataRef"),
            file_oid=head.get("fileOID"), originator=head.get("originator"),
            db_last_modified=V.parse_moment(db_text) if db_text else None,
            source_system=(source.get("name", ""), source.get("version", "")) if isinstance(source, dict) else None,
            extra={"created_text": created_text, "db_last_modified_text": db_text, "records": head.get("records"),
                   "version": head.get("datasetJSONVersion"), "header": head})
    except (KeyError, TypeError, AttributeError) as exc:
        raise DatasetError(f"{where}: Dataset-JSON metadata lacks a required attribute ({exc})") from None


# --- rows out ----------------------------------------------------------------------------------------

def _encoder(col: Column):
    if col.target_data_type == "integer" and col.data_type == "date":
        return lambda v: json.dumps(V.sas_date_text(v))
    if col.target_data_type == "integer" and col.data_type == "datetime":
        return lambda v: json.dumps(V.sas_datetime_text(v))
    if col.target_data_type == "integer" and col.data_type == "time":
        return lambda v: json.dumps(V.sas_time_text(v))
    if col.data_type == "decimal":
        return lambda v: '"' + V.decimal_text(v) + '"'
    if col.numeric:
        integer = col.data_type == "integer"
        return lambda v: V.number_text(v, integer)
    return lambda v: json.dumps(v if isinstance(v, str) else str(v), ensure_ascii=False)


def _coded(col: Column, series: pd.Series, prefix: str, suffix: str) -> tuple[np.ndarray, np.ndarray]:
    """(codes, JSON texts) of one column: row i's text is texts[codes[i]]; each distinct value is encoded
    once for the whole column, missing values (code -1) as null, the last text."""
    encode = _encoder(col)
    if col.numeric:
        numbers = np.ascontiguousarray(series.to_numpy(dtype=np.float64, na_value=np.nan))
        # factorise the bit patterns: 0.0 and -0.0 are equal as numbers but not as values
        codes, uniq = pd.factorize(numbers.view(np.int64))
        codes[np.isnan(numbers)] = -1
        texts = ["null" if v != v else encode(float(v)) for v in uniq.view(np.float64)]
    else:
        if isinstance(series.dtype, pd.CategoricalDtype):  # already coded (the conformed frames' text)
            codes, uniq = series.cat.codes.to_numpy(), series.cat.categories.to_numpy(dtype=object)
        else:
            codes, uniq = pd.factorize(series.to_numpy(dtype=object))
        # XPORT stores a missing date as blanks: in a date/time column that is null, not the text ""
        blank = "null" if col.data_type in TIMING_TYPES else None
        texts = [blank if blank and v == "" else encode(v) for v in uniq]
    table = np.empty(len(texts) + 1, dtype=object)
    table[:] = [prefix + t + suffix for t in texts] + [prefix + "null" + suffix]
    return codes, table


def _encoded_columns(frame: pd.DataFrame, meta: DatasetMeta) -> list[tuple[np.ndarray, np.ndarray]]:
    last = len(meta.columns) - 1
    out = []
    for i, col in enumerate(meta.columns):
        try:
            out.append(_coded(col, frame[col.name], "[" if i == 0 else "", "]" if i == last else ""))
        except DatasetError as exc:
            raise DatasetError(f"{meta.name}.{col.name}: {exc}") from None
    return out


def _row_texts(coded: list[tuple[np.ndarray, np.ndarray]], start: int, stop: int) -> list[str]:
    if not coded:
        return ["[]"] * (stop - start)
    frags = [table[codes[start:stop]] for codes, table in coded]
    if len(frags) == 1:
        return list(frags[0])
    return list(map(",".join, zip(*frags)))


def _check_columns(frame: pd.DataFrame, meta: DatasetMeta) -> None:
    missing = [c.name for c in meta.columns if c.name not in frame.columns]
    if missing:
        raise DatasetError(f"{meta.name}: the frame has no column {', '.join(missing)}")


def iter_text(frame: pd.DataFrame, meta: DatasetMeta, kind: str) -> Iterator[str]:
    """The file as text pieces: kind 'json' (one object with rows) or 'ndjson' (metadata line, row lines)."""
    _check_columns(frame, meta)
    head = header(meta, len(frame))
    compact = json.dumps(head, ensure_ascii=False, separators=(",", ":"))
    rows = len(frame)
    coded = _encoded_columns(frame, meta)
    if kind == "ndjson":
        yield compact + "\n"
        for start in range(0, rows, BLOCK_ROWS):
            yield "\n".join(_row_texts(coded, start, min(rows, start + BLOCK_ROWS))) + "\n"
        return
    yield compact[:-1] + ',"rows":['
    for start in range(0, rows, BLOCK_ROWS):
        yield ("," if start else "") + ",".join(_row_texts(coded, start, min(rows, start + BLOCK_ROWS)))
    yield "]}\n"


def write(path: str | os.PathLike, frame: pd.DataFrame, meta: DatasetMeta, kind: str) -> None:
    """Write one dataset as kind 'json', 'ndjson' or 'dsjc', atomically (a temporary file renamed)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as fh:
            _write_to(fh, frame, meta, kind)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def encode(frame: pd.DataFrame, meta: DatasetMeta, kind: str) -> bytes:
    buf = io.BytesIO()
    _write_to(buf, frame, meta, kind)
    return buf.getvalue()


def _write_to(fh: BinaryIO, frame: pd.DataFrame, meta: DatasetMeta, kind: str) -> None:
    """Text is made here while a helper thread compresses and writes the block before (zlib and file
    writes release the GIL, so the two overlap on two cores)."""
    if kind not in ("json", "ndjson", "dsjc"):
        raise DatasetError(f"unknown Dataset-JSON form {kind!r}")
    packer = zlib.compressobj(DSJC_LEVEL, zlib.DEFLATED, 15) if kind == "dsjc" else None

    def put(data: bytes) -> None:
        fh.write(packer.compress(data) if packer else data)

    pending: Future | None = None
    with ThreadPoolExecutor(max_workers=1) as helper:
        for piece in iter_text(frame, meta, "ndjson" if kind == "dsjc" else kind):
            data = piece.encode("utf-8")
            if pending is not None:
                pending.result()  # one block in flight bounds the memory
            pending = helper.submit(put, data)
        if pending is not None:
            pending.result()
    if packer:
        fh.write(packer.flush())


# --- rows in -----------------------------------------------------------------------------------------

CHUNK = 1 << 24  # bytes read (or inflated) at a time


def _plain_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            yield chunk


def _inflated_chunks(path: Path) -> Iterator[bytes]:
    """DSJC content. The specification says zlib; CDISC's own example files are gzip: both are read
    (wbits 47 detects the header)."""
    unpacker = zlib.decompressobj(47)
    with open(path, "rb") as fh:
        try:
            while not unpacker.eof and (chunk := fh.read(1 << 20)):
                if out := unpacker.decompress(chunk):
                    yield out
            tail = unpacker.flush()
        except zlib.error as exc:
            raise DatasetError(f"{path}: not a zlib/gzip-compressed DSJC file ({exc})") from None
    if not unpacker.eof:
        raise DatasetError(f"{path}: compressed data ends early (truncated file)")
    if tail:
        yield tail


def _line_blocks(chunks: Iterator[bytes]) -> Iterator[bytes]:
    """The content in blocks of whole lines (each block ends before a newline)."""
    rest = b""
    for chunk in chunks:
        data = rest + chunk if rest else chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            rest = data
            continue
        yield data[:cut]
        rest = data[cut + 1:]
    if rest.strip():
        yield rest


def content_lines(path: Path) -> Iterator[bytes]:
    """The non-blank lines of an .ndjson or .dsjc file."""
    chunks = _inflated_chunks(path) if path.suffix.lower() == ".dsjc" else _plain_chunks(path)
    for block in _line_blocks(chunks):
        yield from (line for line in block.split(b"\n") if line.strip())


def _parse_rows(block: bytes) -> list:
    """The rows of a block of NDJSON lines: one parse of the whole block as a JSON array when every
    line is one row, else line by line (which names the line that is not JSON)."""
    body = block.strip()
    if not body:
        return []
    try:
        rows = json.loads(b"[" + body.replace(b"\n", b",") + b"]")
        if len(rows) == body.count(b"\n") + 1:
            return rows
    except json.JSONDecodeError:
        pass
    return [json.loads(line) for line in body.split(b"\n") if line.strip()]


def read(path: str | os.PathLike, kind: str) -> tuple[pd.DataFrame, DatasetMeta]:
    """(frame, metadata) of a .json, .ndjson or .dsjc file."""
    # Parsing creates a list per row and nothing cyclic: the cycle collector would only walk the
    # millions of new objects again and again.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _read(Path(path), kind)
    finally:
        if enabled:
            gc.enable()


def _read(path: Path, kind: str) -> tuple[pd.DataFrame, DatasetMeta]:
    try:
        if kind == "json":
            with open(path, "rb") as fh:
                doc = json.load(fh)
            if not isinstance(doc, dict):
                raise DatasetError(f"{path}: a Dataset-JSON file holds one JSON object")
            meta = meta_from_header(doc, str(path))
            rows = doc.get("rows") or []
            return _frame(meta, [rows], path), meta
        if kind == "ndjson":
            return _read_lines(_plain_chunks(path), path)
        if kind == "dsjc":
            return _read_lines(_inflated_chunks(path), path)
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: malformed JSON ({exc})") from None
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 ({exc})") from None
    raise DatasetError(f"unknown Dataset-JSON form {kind!r}")


def _read_lines(chunks: Iterator[bytes], path: Path) -> tuple[pd.DataFrame, DatasetMeta]:
    first, blocks = None, []
    for block in _line_blocks(chunks):
        if first is None:
            block = block.lstrip()
            if not block:
                continue
            cut = block.find(b"\n")
            first, block = (block, b"") if cut < 0 else (block[:cut], block[cut + 1:])
        if rows := _parse_rows(block):
            blocks.append(rows)
    if first is None:
        raise DatasetError(f"{path}: empty file (no metadata line)")
    head = json.loads(first)
    if not isinstance(head, dict):
        raise DatasetError(f"{path}: the first line must be the metadata object")
    meta = meta_from_header(head, str(path))
    return _frame(meta, blocks, path), meta


def _frame(meta: DatasetMeta, blocks: list[list], path: Path) -> pd.DataFrame:
    width = len(meta.columns)
    tables = [_table(block, width, path) for block in blocks if block]
    data = {}
    for j, col in enumerate(meta.columns):
        values = np.concatenate([t[:, j] for t in tables]) if tables else np.empty(0, dtype=object)
        try:
            data[col.name] = _column(col, values)
        except (DatasetError, TypeError, ValueError) as exc:
            raise DatasetError(f"{path}: column {col.name} ({col.data_type}): {exc}") from None
    # copy=False keeps one block per column: consolidating them would copy every column once more
    return pd.DataFrame(data, columns=[c.name for c in meta.columns], copy=False)


def _table(block: list, width: int, path: Path) -> np.ndarray:
    """A block of parsed rows as a (rows, columns) object array; a row of another width is an error."""
    table = None
    if width:
        try:
            table = np.array(block, dtype=object)
        except ValueError:  # rows of different lengths
            pass
    if table is None or table.shape != (len(block), width):
        bad = next((i for i, row in enumerate(block) if not isinstance(row, list) or len(row) != width), None)
        if bad is not None:
            raise DatasetError(f"{path}: a row has {_size(block[bad])} values, the metadata {width} columns")
        table = np.empty((len(block), width), dtype=object)  # no columns, or values that are lists themselves
        for i, row in enumerate(block):
            for j, value in enumerate(row):
                table[i, j] = value
    return table


def _size(row) -> str:
    return str(len(row)) if isinstance(row, list) else "no list of"


def _column(col: Column, values: np.ndarray) -> np.ndarray:
    parse = {"date": V.sas_date_value, "datetime": V.sas_datetime_value, "time": V.sas_time_value}
    if col.target_data_type == "integer" and col.data_type in parse:
        return _mapped(values, parse[col.data_type])
    if col.data_type == "decimal" or col.target_data_type == "decimal":
        return _mapped(values, _decimal)
    if col.numeric:
        # numpy would quietly turn "1.5" and True into numbers: only JSON numbers and null are numbers here
        if pd.api.types.infer_dtype(values, skipna=True) not in ("floating", "integer", "mixed-integer-float", "empty"):
            raise DatasetError("a value that is not a JSON number in a numeric column")
        return values.astype(np.float64)
    return values


def _decimal(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise DatasetError(f"{value!r} is not a decimal")
    return float(str(value).replace(",", ""))


def _mapped(values: np.ndarray, parse) -> np.ndarray:
    """Each distinct non-null value parsed once."""
    codes, uniq = pd.factorize(values)
    table = np.array([parse(v) for v in uniq] + [np.nan], dtype=np.float64)
    return table[codes]
