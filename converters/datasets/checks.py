"""Checks of a Dataset-JSON file as written (before any conversion to a frame): the official JSON Schema,
the record count, each value against its column's dataType, and the metadata against define.xml."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from .datasetjson import content_lines, meta_from_header
from .define import Define, define_column
from .model import Column, DatasetError

SCHEMA = Path(__file__).resolve().parents[2] / "specs" / "dataset-json-1.1" / "dataset.schema.json"

_DATE = r"\d{4}(-\d{2}(-\d{2})?)?"
_TIME = r"\d{2}(:\d{2}(:\d{2}(\.\d+)?)?)?"
_ZONE = r"(Z|[+-]\d{2}(:\d{2})?)?"
_PATTERNS = {
    "date": re.compile(rf"^{_DATE}$"),
    "datetime": re.compile(rf"^{_DATE}(T{_TIME}{_ZONE})?$"),
    "time": re.compile(rf"^{_TIME}{_ZONE}$"),
    "decimal": re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$|^[+-]?\.\d+$"),
}
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def raw_document(path: Path) -> dict:
    """The file's content as one Dataset-JSON object (NDJSON: metadata line plus ``rows``)."""
    try:
        if path.suffix.lower() == ".json":
            return json.loads(path.read_bytes())
        lines = list(content_lines(path))
        if not lines:
            raise DatasetError(f"{path}: empty file")
        return {**json.loads(lines[0]), "rows": [json.loads(line) for line in lines[1:]]}
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: malformed JSON ({exc})") from None


@lru_cache(maxsize=1)
def _validator():
    import jsonschema

    return jsonschema.Draft201909Validator(json.loads(SCHEMA.read_bytes()))


def schema_errors(doc: dict) -> list[str]:
    """Every way ``doc`` departs from the official schema, as 'where: message'."""
    found = []
    for err in sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path))):
        where = "/".join(map(str, err.absolute_path)) or "(top level)"
        found.append(f"{where}: {err.message[:200]}")
    return found


def value_fits(col: Column, value) -> bool:
    if value is None:
        return True
    kind = col.data_type
    if kind in ("string", "URI"):
        return isinstance(value, str)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind in ("float", "double"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if not isinstance(value, str):
        return False
    if kind == "date" and col.target_data_type == "integer":
        return bool(_FULL_DATE.match(value))
    pattern = _PATTERNS.get(kind)
    return bool(pattern.match(value)) if pattern else True


def type_errors(doc: dict, columns: tuple[Column, ...]) -> Iterator[tuple[int, Column, object]]:
    """(1-based record, column, value) of each value that does not fit its column's dataType."""
    width = len(columns)
    for number, row in enumerate(doc.get("rows") or [], start=1):
        if not isinstance(row, list) or len(row) != width:
            continue  # the schema check and the reader report malformed rows
        for col, value in zip(columns, row):
            if value is not None and not value_fits(col, value):
                yield number, col, value


def define_differences(doc: dict, define: Define) -> list[tuple[str, str]]:
    """(column or '', what differs) between the file's metadata and define.xml's."""
    meta = meta_from_header(doc, "")
    group = define.datasets.get(meta.name.upper())
    if group is None:
        return [("", f"dataset {meta.name} is not in {define.path.name}")]
    out = []
    for col in meta.columns:
        item = group.item(col.name)
        if item is None:
            out.append((col.name, f"not a variable of {group.name} in {define.path.name}"))
            continue
        expected = define_column(item, col)  # the file's own storage (number or text) decides the branch
        if col.label != item.label:
            out.append((col.name, f"label '{col.label}' but define.xml says '{item.label}'"))
        if (col.data_type, col.target_data_type) != (expected.data_type, expected.target_data_type):
            out.append((col.name, f"dataType {_type(col)} but define.xml ({item.data_type}) gives {_type(expected)}"))
        if item.length is not None and expected.data_type == "string" and col.length != item.length:
            out.append((col.name, f"length {col.length} but define.xml says {item.length}"))
    missing = [i.name for i in group.items if i.name not in {c.name for c in meta.columns}]
    out += [(name, "in define.xml but not in the file") for name in missing]
    return out


def _type(col: Column) -> str:
    return col.data_type + (f"/{col.target_data_type}" if col.target_data_type else "")


def unresolved_oids(doc: dict, define: Define) -> list[tuple[str, str]]:
    """(OID, what it should name) for each OID of the file that define.xml does not define."""
    meta = meta_from_header(doc, "")
    out = []
    if meta.study_oid is not None and meta.study_oid != define.study_oid:
        out.append((meta.study_oid, f"studyOID: define.xml's Study is {define.study_oid}"))
    if meta.metadata_version_oid is not None and meta.metadata_version_oid != define.metadata_version_oid:
        out.append((meta.metadata_version_oid, f"metaDataVersionOID: define.xml's is {define.metadata_version_oid}"))
    groups = {g.oid for g in define.datasets.values()}
    if meta.item_group_oid not in groups:
        out.append((meta.item_group_oid, "itemGroupOID: no such ItemGroupDef"))
    out += [(c.item_oid, f"itemOID of {c.name}: no such ItemDef") for c in meta.columns
            if c.item_oid not in define.item_oids]
    return out
