"""Transport-file rules (FDA Study Data Technical Conformance Guide, SAS XPORT version 5). The XPORT limits
(names, labels, ASCII, 200 bytes) do not apply to Dataset-JSON files."""
from __future__ import annotations

import re

import pandas as pd

from .package import Package
from .registry import Emitter, rule

NAME = re.compile(r"[A-Z][A-Z0-9]{0,7}")
VARNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,7}")
MAX_LABEL, MAX_CHAR, MAX_BYTES = 40, 200, 5 * 1024 ** 3


def uniques(s: pd.Series) -> list[str]:
    """Distinct non-empty text values: checks run on these, not on every row (1M-row datasets)."""
    return [v for v in pd.unique(s.to_numpy(dtype=object)) if isinstance(v, str) and v != ""]


@rule("TR0001")
def xport_v5(pkg: Package, out: Emitter) -> None:
    for ds in pkg.xport_files():
        if ds.version != 5:
            out.add(ds.name, detail=str(ds.version))


@rule("TR0002")
def name_is_file_name(pkg: Package, out: Emitter) -> None:
    for ds in pkg.datasets.values():
        if ds.member != ds.name:
            out.add(ds.name, value=ds.member, detail=ds.rel)


@rule("TR0003")
def dataset_name(pkg: Package, out: Emitter) -> None:
    for ds in pkg.xport_files():
        if not NAME.fullmatch(ds.name):
            out.add(ds.name, value=ds.name)


@rule("TR0004")
def variable_names(pkg: Package, out: Emitter) -> None:
    for ds in pkg.xport_files():
        for c in ds.frame.columns:
            if not VARNAME.fullmatch(c):
                out.add(ds.name, variable=c, value=c)


@rule("TR0005")
def variable_labels(pkg: Package, out: Emitter) -> None:
    for ds in pkg.xport_files():
        for c in ds.frame.columns:
            label = ds.labels.get(c) or ""
            if len(label.encode("utf-8")) > MAX_LABEL:
                out.add(ds.name, variable=c, value=label, detail=str(len(label)))


@rule("TR0006")
def dataset_label(pkg: Package, out: Emitter) -> None:
    for ds in pkg.xport_files():
        if not ds.label.strip():
            out.add(ds.name, value="", detail="empty")
        elif len(ds.label.encode("utf-8")) > MAX_LABEL:
            out.add(ds.name, value=ds.label, detail=f"{len(ds.label)} characters")


@rule("TR0007")
def ascii_only(pkg: Package, out: Emitter) -> None:
    for ds in pkg.xport_files():
        for c in ds.frame.columns:
            if not c.isascii() or not (ds.labels.get(c) or "").isascii():
                out.add(ds.name, variable=c, value=ds.labels.get(c) or c)
        for c in ds.char_columns():
            values = ds.uniques(c)
            if "".join(values).isascii():
                continue
            bad = [v for v in values if not v.isascii()]
            out.flag(ds.name, ds.frame, ds.isin(c, bad), c)


@rule("TR0008")
def legacy_encoding(pkg: Package, out: Emitter) -> None:
    for ds in pkg.xport_files():
        if ds.encoding:
            out.add(ds.name, value=ds.rel, detail=ds.encoding)


def longest(ds, c: str) -> int:
    values = ds.uniques(c)
    enc = ds.encoding or "utf-8"
    return max((len(v.encode(enc, errors="replace")) for v in values), default=0)


@rule("TR0009")
def length_is_longest_value(pkg: Package, out: Emitter) -> None:
    # An all-empty variable still needs 1 byte of storage.
    for ds in pkg.datasets.values():
        for c in ds.char_columns():
            width, need = ds.widths.get(c, 0), max(1, longest(ds, c))
            if width > need:
                out.add(ds.name, variable=c, value=str(width),
                        detail=f"{width} but the longest value is {need}")


@rule("TR0010")
def char_limit(pkg: Package, out: Emitter) -> None:
    for ds in pkg.xport_files():
        for c in ds.char_columns():
            if ds.widths.get(c, 0) > MAX_CHAR:
                out.add(ds.name, variable=c, value=str(ds.widths[c]), detail=str(ds.widths[c]))


@rule("TR0011")
def file_size(pkg: Package, out: Emitter) -> None:
    for ds in pkg.datasets.values():
        if ds.size > MAX_BYTES:
            out.add(ds.name, value=ds.rel, detail=str(ds.size))
