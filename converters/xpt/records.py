"""Fixed 80-byte header records and 140-byte NAMESTR records of SAS XPORT v5 (SAS TS-140)."""
from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass

RECORD = 80
NAMESTR_LEN = 140
SAS_VERSION = "9.4"
SAS_OS = "X64_7PRO"
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
# ntype..npos then 52 reserved bytes; all integers big-endian (TS-140 NAMESTR layout).
_NAMESTR = struct.Struct(">hhhh8s40s8shhh2s8shhi52s")


def _pad(text: str, width: int) -> bytes:
    raw = text.encode("ascii")
    if len(raw) > width:
        raise ValueError(f"{text!r} does not fit {width} bytes")
    return raw.ljust(width, b" ")


def sas_datetime(moment: dt.datetime) -> str:
    """ddMMMyy:hh:mm:ss, e.g. 25NOV26:00:00:00 (month upper case, as SAS writes it)."""
    return (
        f"{moment.day:02d}{_MONTHS[moment.month - 1]}{moment.year % 100:02d}:"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )


def header(kind: str, tail: str = "0" * 30) -> bytes:
    """A 'HEADER RECORD*******<kind> HEADER RECORD!!!!!!!<tail>' record."""
    return _pad(f"HEADER RECORD*******{kind:<8}HEADER RECORD!!!!!!!{tail}", RECORD)


def library_headers(created: dt.datetime) -> bytes:
    stamp = sas_datetime(created)
    first = _pad("SAS     SAS     SASLIB  " + f"{SAS_VERSION:<8}{SAS_OS:<8}" + " " * 24 + stamp, RECORD)
    second = _pad(stamp, RECORD)  # modified date: same as created, so output never depends on the clock
    return header("LIBRARY") + first + second


def member_headers(dataset: str, label: str, created: dt.datetime, nvars: int) -> bytes:
    stamp = sas_datetime(created)
    member = header("MEMBER", "0" * 17 + "16" + "0" * 8 + "140")  # 140 = NAMESTR length
    descriptor = header("DSCRPTR")
    first = _pad(f"SAS     {dataset:<8}SASDATA {SAS_VERSION:<8}{SAS_OS:<8}" + " " * 24 + stamp, RECORD)
    second = _pad(stamp + " " * 16 + f"{label:<40}" + " " * 8, RECORD)  # dataset type left blank
    namestr = header("NAMESTR", f"000000{nvars:04d}" + "0" * 20)
    return member + descriptor + first + second + namestr


@dataclass(frozen=True)
class Namestr:
    is_char: bool
    length: int
    number: int  # 1-based variable number (nvar0)
    name: str
    label: str
    format_name: str
    format_width: int
    format_decimals: int
    position: int  # byte offset of the variable in the observation (npos)

    def pack(self) -> bytes:
        return _NAMESTR.pack(
            2 if self.is_char else 1,
            0,
            self.length,
            self.number,
            _pad(self.name, 8),
            _pad(self.label, 40),
            _pad(self.format_name, 8),
            self.format_width,
            self.format_decimals,
            0,  # nfj: left justification
            b"\0\0",
            _pad("", 8),  # no informat
            0,
            0,
            self.position,
            b"\0" * 52,
        )


def namestr_block(namestrs: list[Namestr]) -> bytes:
    """All NAMESTR records back to back, blank-padded to a multiple of 80 bytes."""
    raw = b"".join(n.pack() for n in namestrs)
    return raw + b" " * (-len(raw) % RECORD)


def obs_header() -> bytes:
    return header("OBS")
