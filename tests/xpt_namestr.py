"""Display formats as the XPT file itself records them, read from its NAMESTR records.

Tests compare these with the specs instead of a reader library's spelling of them (readers differ:
`DATE9` or `DATE9.`). Layout: SAS TS-140, the 140-byte NAMESTR: NFORM at 56..64, NFL at 64..66,
NFD at 66..68.
"""
from __future__ import annotations

from pathlib import Path

REC = 80


def display_formats(path: Path) -> dict[str, str]:
    """{variable: SAS format as written in a program, e.g. 'DATE9.', '8.2', '$CHAR1.'}; '' when none."""
    data = Path(path).read_bytes()
    assert data[7 * REC:].startswith(b"HEADER RECORD*******NAMESTR HEADER RECORD!!!!!!!"), path
    nvar = int(data[7 * REC + 54:7 * REC + 58])
    out = {}
    for i in range(nvar):
        ns = data[8 * REC + 140 * i:8 * REC + 140 * (i + 1)]
        name = ns[8:16].decode("ascii").rstrip()
        fmt = ns[56:64].decode("ascii").rstrip()
        width, decimals = int.from_bytes(ns[64:66], "big"), int.from_bytes(ns[66:68], "big")
        out[name] = "" if not (fmt or width) else f"{fmt}{width or ''}.{decimals or ''}"
    return out
