"""Datasets to compare, from a package folder or single files: XPT (v5 or v8), Dataset-JSON 1.1
(.json, .ndjson, .dsjc) and CSV, each as a frame with whatever variable metadata its format carries."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

SUFFIXES = (".xpt", ".json", ".ndjson", ".dsjc", ".csv")  # preference order when a folder holds several


class TableError(Exception):
    """A dataset file or folder that cannot be read: the comparison cannot run (exit status 2)."""


@dataclass
class Table:
    name: str
    path: Path
    frame: pd.DataFrame
    label: str | None = None
    labels: dict[str, str] = field(default_factory=dict)
    types: dict[str, str] = field(default_factory=dict)  # "Char" | "Num"; empty for CSV (untyped text)
    lengths: dict[str, int] = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    key_sequence: list[str] = field(default_factory=list)  # keys the file itself declares (Dataset-JSON)
    stripped: bool = False  # text already without trailing blanks (XPT readers strip them)
    factorizer: Callable | None = field(default=None, repr=False)  # the reader's own dictionaries
    _factors: dict = field(default_factory=dict, repr=False)

    @property
    def typed(self) -> bool:
        return bool(self.types)

    def factor(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes, distinct values) of a column, once: frame[col] == values[codes] (-1: missing)."""
        if col not in self._factors:
            from converters.compare.values import factor

            self._factors[col] = self.factorizer(col) if self.factorizer else factor(self.frame[col])
        return self._factors[col]


def find_datasets(root: Path) -> dict[str, Path]:
    """{DATASET: file} of a package folder (sdtm/ and adam/ subfolders, or the folder itself), or of
    one dataset file."""
    root = Path(root)
    if root.is_file():
        if root.suffix.lower() not in SUFFIXES:
            raise TableError(f"{root}: not a dataset file (expected {', '.join(SUFFIXES)})")
        return {root.stem.upper(): root}
    if not root.is_dir():
        raise TableError(f"{root}: no such file or folder")
    folders = [root / f for f in ("sdtm", "adam") if (root / f).is_dir()] or [root]
    found: dict[str, Path] = {}
    for folder in folders:
        files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES),
                       key=lambda p: (p.stem.upper(), SUFFIXES.index(p.suffix.lower())))
        for path in files:
            found.setdefault(path.stem.upper(), path)
    if not found:
        raise TableError(f"{root} has no dataset files ({', '.join(SUFFIXES)})")
    return found


def read_table(path: Path) -> Table:
    path = Path(path)
    suffix = path.suffix.lower()
    try:
        if suffix == ".xpt":
            return _read_xpt(path)
        if suffix in (".json", ".ndjson", ".dsjc"):
            return _read_dataset_json(path)
        if suffix == ".csv":
            return _read_csv(path)
    except TableError:
        raise
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise TableError(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from None
    raise TableError(f"{path}: not a dataset file (expected {', '.join(SUFFIXES)})")


def _read_xpt(path: Path) -> Table:
    from converters.validate.package import PackageError, read_dataset

    try:
        ds = read_dataset(path, path.parent, "")
    except PackageError as exc:
        raise TableError(str(exc)) from None
    formats = xpt_formats(path) if ds.version == 5 else _v8_formats(path)
    lengths = {c: w for c, w in ds.widths.items() if ds.types.get(c) == "Char"}
    return Table(path.stem.upper(), path, ds.frame, ds.label, dict(ds.labels), dict(ds.types), lengths,
                 formats, stripped=True, factorizer=ds.factor)


def xpt_formats(path: Path) -> dict[str, str]:
    """Display formats from the namestr records of a v5 transport file (the data is not read)."""
    with open(path, "rb") as fh:
        head = fh.read(8 * 80)
        if len(head) < 8 * 80:
            return {}
        nvar = int(head[7 * 80 + 54:7 * 80 + 58])
        names = fh.read(nvar * 140)
    out = {}
    for i in range(nvar):
        ns = names[140 * i:140 * (i + 1)]
        name = ns[8:16].rstrip(b" \x00").decode("latin1")
        form = ns[56:64].rstrip(b" \x00").decode("latin1")
        width, decimals = int.from_bytes(ns[64:66], "big"), int.from_bytes(ns[66:68], "big")
        out[name] = format_text(form, width, decimals)
    return out


def format_text(name: str, width: int, decimals: int) -> str:
    """SAS format as written in Define-XML (DATE9., 8.2, $20.); empty when there is none."""
    if not name and not width:
        return ""
    return f"{name}{width or ''}.{decimals or ''}"


def _v8_formats(path: Path) -> dict[str, str]:
    import pyreadstat

    _, meta = pyreadstat.read_xport(str(path), metadataonly=True)
    return {k: (v if v not in ("NULL", None) else "") for k, v in (meta.original_variable_types or {}).items()}


def _read_csv(path: Path) -> Table:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return Table(path.stem.upper(), path, frame.astype(object))


def _read_dataset_json(path: Path) -> Table:
    """Dataset-JSON 1.1 (.json, .ndjson, .dsjc) through the project's dataset layer; text missing
    values read as "" like the XPT readers give them, so the two compare alike."""
    from converters.datasets import DatasetError, read

    try:
        frame, meta = read(path)
    except DatasetError as exc:
        raise TableError(str(exc)) from None
    types, lengths, formats, labels = {}, {}, {}, {}
    for c in meta.columns:
        labels[c.name] = c.label
        types[c.name] = "Num" if c.numeric else "Char"
        if not c.numeric:
            frame[c.name] = frame[c.name].astype(object).where(frame[c.name].notna(), "")
            if c.length:
                lengths[c.name] = int(c.length)
        if c.display_format:
            formats[c.name] = c.display_format
    keys = [c.name for c in sorted((c for c in meta.columns if c.key_sequence), key=lambda c: c.key_sequence)]
    return Table(str(meta.name or path.stem).upper(), path, frame, meta.label, labels, types,
                 lengths, formats, keys)
