"""Dataset-JSON v1.1 rules, on every .json/.ndjson/.dsjc file of the package folders (beside the XPT
files or instead of them)."""
from __future__ import annotations

from pathlib import Path

from .package import Package
from .registry import Emitter, rule

def dataset_json_files(pkg: Package) -> list[tuple[str, Path]]:
    """(folder, file) of each Dataset-JSON file of the package."""
    from converters.datasets import FORMATS

    folders = [f for f in ("sdtm", "adam") if (pkg.root / f).is_dir()] or [""]
    out = []
    for folder in folders:
        base = pkg.root / folder if folder else pkg.root
        for name in ("json", "ndjson", "dsjc"):
            out += [(folder, p) for p in sorted(base.glob(f"*{FORMATS[name].extension}")) if not p.name.startswith(".")]
    return out


def _documents(pkg: Package):
    """(dataset name, folder, path, parsed document or the error text) per file, parsed once per package."""
    from converters.datasets import DatasetError
    from converters.datasets.checks import raw_document

    docs = getattr(pkg, "_dataset_json_documents", None)
    if docs is None:
        docs = []
        for folder, path in dataset_json_files(pkg):
            try:
                docs.append((path.stem.upper(), folder, path, raw_document(path)))
            except DatasetError as exc:
                docs.append((path.stem.upper(), folder, path, str(exc)))
        pkg._dataset_json_documents = docs  # the five rules share one parse of each file
    return docs


def _define(pkg: Package, folder: str):
    """The folder's define.xml as the dataset layer reads it (once per package), or None."""
    from converters.datasets import DatasetError
    from converters.datasets.define import read_define

    cache = pkg.__dict__.setdefault("_dataset_json_defines", {})
    if folder not in cache:
        path = pkg.defines.get(folder)
        try:
            cache[folder] = read_define(path) if path is not None else None
        except DatasetError:
            cache[folder] = None  # the define rules report an unreadable define.xml
    return cache[folder]


def _rel(pkg: Package, path: Path) -> str:
    return path.relative_to(pkg.root).as_posix()


@rule("DJ0001")
def matches_schema(pkg: Package, out: Emitter) -> None:
    from converters.datasets.checks import schema_errors

    for name, _, path, doc in _documents(pkg):
        errors = [doc] if isinstance(doc, str) else schema_errors(doc)
        for error in errors:
            out.add(name, value=_rel(pkg, path), detail=error)


@rule("DJ0002")
def records_match_rows(pkg: Package, out: Emitter) -> None:
    for name, _, path, doc in _documents(pkg):
        if isinstance(doc, dict) and isinstance(doc.get("rows", []), list):
            rows = len(doc.get("rows") or [])
            if doc.get("records") != rows:
                out.add(name, value=str(doc.get("records")), detail=f"{rows} in {_rel(pkg, path)}")


def _columns(doc: dict):
    from converters.datasets import DatasetError
    from converters.datasets.datasetjson import meta_from_header

    try:
        return meta_from_header(doc, "")
    except DatasetError:
        return None  # DJ0001 reports the missing attributes


@rule("DJ0003")
def metadata_matches_define(pkg: Package, out: Emitter) -> None:
    from converters.datasets.checks import define_differences

    for name, folder, path, doc in _documents(pkg):
        define = _define(pkg, folder)
        if define is None or not isinstance(doc, dict) or _columns(doc) is None:
            continue
        for variable, what in define_differences(doc, define):
            out.add(name, variable=variable, value=_rel(pkg, path), detail=what)


@rule("DJ0004")
def values_match_types(pkg: Package, out: Emitter) -> None:
    from converters.datasets.checks import type_errors

    for name, _, path, doc in _documents(pkg):
        meta = _columns(doc) if isinstance(doc, dict) else None
        if meta is None:
            continue
        for record, col, value in type_errors(doc, meta.columns):
            kind = col.data_type + (f" (target {col.target_data_type})" if col.target_data_type else "")
            out.add(name, variable=col.name, value=value, record=record, detail=kind)


@rule("DJ0005")
def oids_resolve(pkg: Package, out: Emitter) -> None:
    from converters.datasets.checks import unresolved_oids

    for name, folder, path, doc in _documents(pkg):
        define = _define(pkg, folder)
        if define is None or not isinstance(doc, dict) or _columns(doc) is None:
            continue
        for oid, what in unresolved_oids(doc, define):
            out.add(name, value=oid, detail=what)
