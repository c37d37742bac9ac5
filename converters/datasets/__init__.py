"""Dataset files in every supported format behind one small interface.

    frame, meta = read(path)                  # format from the file's extension
    write(path, frame, meta)                  # likewise
    FORMATS["json"].write(path, frame, meta)  # or by name

A format is a module-level pair read(path) -> (frame, DatasetMeta) and write(path, frame, meta); adding
one is one entry in FORMATS. Frames hold numbers as float64 (NaN missing) and text as str: Dataset-JSON's
null is None, XPORT's blank text is "" (XPORT cannot tell them apart).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Callable

import pandas as pd

from . import datasetjson, xpt
from .model import Column, DatasetError, DatasetMeta


@dataclass(frozen=True)
class Format:
    name: str
    extension: str
    read: Callable[[str | os.PathLike], tuple[pd.DataFrame, DatasetMeta]]
    write: Callable[[str | os.PathLike, pd.DataFrame, DatasetMeta], object]


def _json_format(kind: str) -> Format:
    return Format(kind, f".{kind}", partial(datasetjson.read, kind=kind),
                  lambda path, frame, meta: datasetjson.write(path, frame, meta, kind))


FORMATS: dict[str, Format] = {
    "xpt": Format("xpt", ".xpt", xpt.read, xpt.write),
    "json": _json_format("json"),
    "ndjson": _json_format("ndjson"),
    "dsjc": _json_format("dsjc"),
}


def parse_formats(text: str) -> list[str]:
    """'xpt,json' -> ['xpt', 'json'] (order kept, duplicates dropped); unknown names raise DatasetError."""
    names = list(dict.fromkeys(n.strip().lower() for n in text.split(",") if n.strip()))
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        raise DatasetError(f"unknown format {', '.join(unknown) or repr(text)}: choose from {', '.join(FORMATS)}")
    return names


def format_of(path: str | os.PathLike) -> Format:
    suffix = Path(path).suffix.lower()
    for fmt in FORMATS.values():
        if fmt.extension == suffix:
            return fmt
    raise DatasetError(f"{path}: not a dataset file (extensions: {', '.join(f.extension for f in FORMATS.values())})")


def read(path: str | os.PathLike) -> tuple[pd.DataFrame, DatasetMeta]:
    return format_of(path).read(path)


def write(path: str | os.PathLike, frame: pd.DataFrame, meta: DatasetMeta) -> object:
    return format_of(path).write(path, frame, meta)


def dataset_files(folder: str | os.PathLike) -> dict[str, Path]:
    """{dataset name: file} of a package folder, one file per dataset: where a dataset exists in several
    formats, the first in FORMATS order (XPORT, then JSON, NDJSON, DSJC)."""
    found: dict[str, Path] = {}
    for fmt in FORMATS.values():
        for path in sorted(Path(folder).glob(f"*{fmt.extension}")):
            if not path.name.startswith("."):
                found.setdefault(path.stem.upper(), path)
    return dict(sorted(found.items()))


__all__ = ["Column", "DatasetError", "DatasetMeta", "FORMATS", "Format", "dataset_files", "format_of",
           "parse_formats", "read", "write"]
