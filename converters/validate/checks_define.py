"""Define-XML <-> data rules: safe, schema-valid define whose datasets, variables, lengths, types,
codelists and where clauses match the transport files (Define-XML 2.1 specification)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from .checks_transport import uniques
from .define import NUMERIC, Define, UnsafeXml, parse, read_define, schema
from .package import DatasetFile, Package
from .registry import Emitter, rule

DEFINE = "DEFINE"  # the dataset column of findings about the define file itself


@lru_cache(maxsize=16)
def _load(path: Path, mtime: float):
    try:
        tree = parse(path)
    except UnsafeXml as exc:
        return None, str(exc)
    return tree, ""


def loaded(pkg: Package) -> list[tuple[str, Path, object, str]]:
    """(folder, path, tree or None, refusal reason) for each define of the package."""
    return [(folder, p, *_load(p, p.stat().st_mtime)) for folder, p in sorted(pkg.defines.items())]


def defines(pkg: Package) -> list[tuple[Define, list[DatasetFile]]]:
    """Each readable define with the datasets of its folder."""
    out = []
    for folder, _, tree, _ in loaded(pkg):
        if tree is None:
            continue
        d = read_define(tree)
        if not d.version.startswith("2"):
            continue  # Define-XML 1.0 (ODM 1.2) has another model: DD0003 says the checks were skipped
        data = [d for d in pkg.datasets.values() if d.rel.startswith(folder + "/") or not folder]
        out.append((d, sorted(data, key=lambda d: d.name)))
    return out


def _rel(pkg: Package, p: Path) -> str:
    try:
        return p.relative_to(pkg.root).as_posix()
    except ValueError:
        return p.name


@rule("DD0001")
def define_safe(pkg: Package, out: Emitter) -> None:
    for _, path, tree, why in loaded(pkg):
        if tree is None:
            out.add(DEFINE, value=_rel(pkg, path), detail=why)


@rule("DD0002")
def define_schema(pkg: Package, out: Emitter) -> None:
    for _, path, tree, _ in loaded(pkg):
        xsd = schema() if tree is not None else None
        if tree is None or xsd is None or not read_define(tree).is21:
            continue
        if not xsd.validate(tree):
            for e in list(xsd.error_log)[:50]:
                out.add(DEFINE, value=_rel(pkg, path), record=e.line, detail=e.message)


@rule("DD0003")
def define_version(pkg: Package, out: Emitter) -> None:
    for _, path, tree, _ in loaded(pkg):
        if tree is not None:
            d = read_define(tree)
            if not d.is21:
                skipped = "schema check" if d.version.startswith("2") else "schema and define-data checks"
                out.add(DEFINE, value=_rel(pkg, path), detail=f"{d.version}, not 2.1: {skipped} skipped")


@rule("DD0004")
def dataset_in_define(pkg: Package, out: Emitter) -> None:
    for d, data in defines(pkg):
        for ds in data:
            if ds.name not in d.datasets:
                out.add(ds.name, value=ds.rel)


@rule("DD0005")
def define_dataset_has_data(pkg: Package, out: Emitter) -> None:
    for d, data in defines(pkg):
        have = {ds.name for ds in data}
        for name in sorted(set(d.datasets) - have):
            out.add(name, detail=f"{name.lower()}.xpt")


def as_text(ds: DatasetFile, name: str) -> pd.Series:
    """Values as define.xml writes them: numbers without a trailing '.0'."""
    if ds.types.get(name) != "Num":
        return ds.frame[name]
    return ds.memo(("text", name), lambda: ds.per_value(name, lambda values: values.map(
        lambda v: "" if pd.isna(v) else (str(int(v)) if float(v).is_integer() else f"{v:.12g}"))))


def _vars(d: Define, ds: DatasetFile) -> dict[str, object]:
    return {d.items[o].name: d.items[o] for o in d.datasets.get(ds.name, []) if o in d.items}


@rule("DD0006")
def variable_in_define(pkg: Package, out: Emitter) -> None:
    for d, data in defines(pkg):
        for ds in data:
            if ds.name in d.datasets:
                described = _vars(d, ds)
                for c in ds.frame.columns:
                    if c not in described:
                        out.add(ds.name, variable=c)


@rule("DD0007")
def define_variable_has_data(pkg: Package, out: Emitter) -> None:
    for d, data in defines(pkg):
        for ds in data:
            if ds.name in d.datasets:
                for name in _vars(d, ds):
                    if name not in ds.frame.columns:
                        out.add(ds.name, variable=name)


@rule("DD0008")
def define_length(pkg: Package, out: Emitter) -> None:
    for d, data in defines(pkg):
        for ds in data:
            for name, item in _vars(d, ds).items():
                if ds.types.get(name) != "Char" or item.length is None:
                    continue
                width = ds.widths.get(name, 0)
                if width != item.length:
                    out.add(ds.name, variable=name, value=str(width),
                            detail=f"define Length {item.length} but the file stores {width} bytes")


@rule("DD0009")
def define_type(pkg: Package, out: Emitter) -> None:
    for d, data in defines(pkg):
        for ds in data:
            for name, item in _vars(d, ds).items():
                kind = ds.types.get(name)
                if kind is None or not item.data_type:
                    continue
                if (item.data_type in NUMERIC) != (kind == "Num"):
                    out.add(ds.name, variable=name, value=item.data_type, detail=kind)


@rule("DD0010")
def define_codelist(pkg: Package, out: Emitter) -> None:
    for d, data in defines(pkg):
        for ds in data:
            for name, item in sorted(_vars(d, ds).items()):
                if name not in ds.frame.columns or item.codelist not in d.codelists:
                    continue
                cl_name, values = d.codelists[item.codelist]
                s = as_text(ds, name)
                bad = [v for v in (ds.uniques(name) if ds.types.get(name) != "Num" else uniques(s)) if v not in values]
                if bad:
                    out.flag(ds.name, ds.frame, s.isin(bad), name, values=s, detail=f"{cl_name} ({item.codelist})")


@rule("DD0011")
def define_where_clauses(pkg: Package, out: Emitter) -> None:
    for d, data in defines(pkg):
        by_name = {ds.name: ds for ds in data}
        for oid, checks in sorted(d.where.items()):
            for item_oid, op, values in checks:
                item = d.items.get(item_oid)
                owners = [n for n, oids in d.datasets.items() if item_oid in oids]
                if item is None or not owners:
                    out.add(DEFINE, value=oid, detail=f"refers to {item_oid}, which no dataset has")
                    continue
                for owner in owners:
                    ds = by_name.get(owner)
                    if ds is None or item.name not in ds.frame.columns:
                        continue
                    if op in ("EQ", "IN") and not as_text(ds, item.name).isin(values).any():
                        out.add(owner, variable=item.name, value=oid,
                                detail=f"({item.name} {op} {', '.join(values)}) matches no record")
