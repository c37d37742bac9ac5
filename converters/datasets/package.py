"""A package folder's datasets in the other formats asked for, from the XPT files just written and the
define.xml beside them: XPT, Dataset-JSON and define.xml agree by construction."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from . import FORMATS
from .define import read_define
from .transcode import read_with_define


def write_formats(folder: Path, formats: list[str] | tuple[str, ...], created: dt.datetime) -> list[Path]:
    """Each <name>.xpt of ``folder`` also as <name>.json/.ndjson/.dsjc for each of ``formats`` but xpt;
    creation time is the package's own (the bytes never depend on the clock)."""
    others = [f for f in formats if f != "xpt"]
    if not others:
        return []
    define_path = folder / "define.xml"
    define = read_define(define_path) if define_path.is_file() else None
    written = []
    for path in sorted(folder.glob("*.xpt")):
        frame, meta = read_with_define(path, define)
        meta = meta.with_(created=created, db_last_modified=created)
        for name in others:
            target = folder / f"{path.stem}{FORMATS[name].extension}"
            FORMATS[name].write(target, frame, meta)
            written.append(target)
    return written
