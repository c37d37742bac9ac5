"""What a report names the package by, read from the data: its STUDYID and when its datasets were made."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from .package import Package

_MONTHS = {m: i for i, m in enumerate(
    ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), start=1)}


def study_id(pkg: Package) -> str:
    """STUDYID of DM, else of TS, else of the first dataset that has one; "" when none does."""
    names = ["DM", "TS"] + sorted(n for n in pkg.datasets if n not in ("DM", "TS"))
    for name in names:
        ds = pkg.get(name)
        if ds is not None and "STUDYID" in ds.frame.columns:
            values = ds.uniques("STUDYID")
            if values:
                return str(values[0]).strip()
    return ""


def sas_datetime(text: str) -> dt.datetime | None:
    """'04APR12:22:16:21' (the XPORT header form) as a datetime; two-digit years 60-99 are 19xx."""
    try:
        day, mon, yy = int(text[0:2]), _MONTHS[text[2:5].upper()], int(text[5:7])
        hh, mm, ss = int(text[8:10]), int(text[11:13]), int(text[14:16])
        return dt.datetime(1900 + yy if yy >= 60 else 2000 + yy, mon, day, hh, mm, ss)
    except (KeyError, ValueError):
        return None


def header_created(path: Path) -> dt.datetime | None:
    """Creation date/time of a transport file: the last 16 bytes of its second 80-byte header record."""
    with open(path, "rb") as fh:
        head = fh.read(160)
    return sas_datetime(head[144:160].decode("ascii", "replace")) if len(head) == 160 else None


def package_created(pkg: Package) -> str:
    """The latest creation date/time of the package's datasets (ISO 8601); "" when no header has one."""
    times = [t for t in (header_created(ds.path) for ds in pkg.datasets.values()) if t is not None]
    return max(times).isoformat() if times else ""


def define_files(pkg: Package) -> list[str]:
    """The define.xml files checked: relative to the package, or by name when given from elsewhere."""
    return [p.relative_to(pkg.root).as_posix() if p.is_relative_to(pkg.root) else p.name
            for _, p in sorted(pkg.defines.items())]
