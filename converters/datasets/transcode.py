"""One dataset file, or a folder of them, rewritten in other formats. XPORT files carry no OIDs or
logical types, so their metadata comes from the define.xml beside them (or given) when there is one."""
from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from . import FORMATS, dataset_files, format_of
from .datasetjson import SOURCE_SYSTEM
from .define import Define, apply_define, read_define
from .model import DatasetError, DatasetMeta


def read_with_define(path: Path, define: Define | None) -> tuple[pd.DataFrame, DatasetMeta]:
    frame, meta = format_of(path).read(path)
    if format_of(path).name == "xpt":
        if define is not None:
            meta = apply_define(meta, define)
        meta = meta.with_(source_system=SOURCE_SYSTEM)
    return frame, meta


def transcode_file(src: Path, targets: list[Path], define: Define | None) -> list[Path]:
    frame, meta = read_with_define(src, define)
    for target in targets:
        if target.resolve() == src.resolve():
            raise DatasetError(f"{src}: would overwrite itself")
        format_of(target).write(target, frame, meta)
    return targets


def transcode(src: Path, out: Path, formats: list[str], define_path: Path | None = None) -> list[Path]:
    """Write ``src`` (a dataset file or a folder of them) as each of ``formats`` under ``out``; returns
    the files written. A file may go to OUT as a file name when one format is asked for."""
    src, out = Path(src), Path(out)
    if define_path is None:
        beside = (src if src.is_dir() else src.parent) / "define.xml"
        define_path = beside if beside.is_file() else None
    define = read_define(define_path) if define_path else None
    if src.is_file():
        if out.suffix and not out.is_dir():
            if len(formats) != 1 or format_of(out).name != formats[0]:
                raise DatasetError(f"{out}: the file name's extension must match the one --format asked for")
            out.parent.mkdir(parents=True, exist_ok=True)
            return transcode_file(src, [out], define)
        out.mkdir(parents=True, exist_ok=True)
        return transcode_file(src, [out / f"{src.stem}{FORMATS[f].extension}" for f in formats], define)
    files = dataset_files(src)
    if not files:
        raise DatasetError(f"{src}: no dataset files ({', '.join(f.extension for f in FORMATS.values())})")
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for path in files.values():
        written += transcode_file(path, [out / f"{path.stem}{FORMATS[f].extension}" for f in formats], define)
    if define_path is not None and not (out / "define.xml").exists():
        shutil.copyfile(define_path, out / "define.xml")  # metaDataRef names it: the package stays whole
        written.append(out / "define.xml")
    return written
