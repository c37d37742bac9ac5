"""Damaged or hostile transport files: `cdisc validate` reports a corrupt or unreadable file (exit 2)
instead of findings about rows made of padding, a traceback, or gigabytes of memory."""
from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from conftest import ROOT

REC = 80


def write_v5(folder: Path, name: str = "dm", rows: int = 5) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.xpt"
    frame = pd.DataFrame({"STUDYID": ["S"] * rows, "USUBJID": [f"S-{i}" for i in range(rows)],
                          "AGE": [float(30 + i) for i in range(rows)]})
    pyreadstat.write_xport(frame, str(path), table_name=name.upper(), file_format_version=5)
    return path


def namestr(data: bytearray, i: int) -> int:
    return 8 * REC + 140 * i


def validate(folder: Path, memory_mb: int | None = None) -> subprocess.CompletedProcess:
    def limit():
        if memory_mb:
            resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    return subprocess.run([sys.executable, "-m", "converters.cli", "validate", str(folder), "-q"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, preexec_fn=limit)


def damaged(tmp_path: Path, change) -> Path:
    path = write_v5(tmp_path / "pkg")
    data = bytearray(path.read_bytes())
    path.write_bytes(bytes(change(data)))
    return path.parent


def non_numeric_count(data):
    data[7 * REC + 54:7 * REC + 58] = b"00x3"
    return data


def truncated(data):
    return data[:8 * REC + 50]


def truncated_in_a_record(data):
    return data[:-37]


def numeric_longer_than_8(data):
    at = namestr(data, 2)  # AGE
    data[at + 4:at + 6] = (9).to_bytes(2, "big")
    return data


def overlapping(data):
    at = namestr(data, 1)  # USUBJID moved onto STUDYID
    data[at + 84:at + 88] = (0).to_bytes(4, "big")
    return data


def two_members(data):
    member = data.index(b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!")
    return data + data[member:]


@pytest.mark.parametrize("change, message", [
    (non_numeric_count, "is not a number"),
    (truncated, "truncated"),
    (truncated_in_a_record, "not a whole number of 80-byte records"),
    (numeric_longer_than_8, "has length 9"),
    (overlapping, "overlaps the variable before it"),
    (two_members, "holds 2 datasets"),
])
def test_corrupt_file_is_reported_not_read(change, message, tmp_path: Path):
    run = validate(damaged(tmp_path, change))
    assert run.returncode == 2, run.stdout + run.stderr
    assert "corrupt" in run.stderr or "datasets" in run.stderr
    assert message in run.stderr and "Traceback" not in run.stderr


def test_v8_header_claiming_more_records_than_present(tmp_path: Path):
    folder = tmp_path / "pkg"
    folder.mkdir()
    path = folder / "dm.xpt"
    frame = pd.DataFrame({"USUBJID": [f"S-{i}" for i in range(3)], "AGE": [30.0, 31.0, 32.0]})
    pyreadstat.write_xport(frame, str(path), table_name="DM", file_format_version=8)
    data = bytearray(path.read_bytes())
    at = data.index(b"HEADER RECORD*******OBSV8   HEADER RECORD!!!!!!!")
    assert data[at + 48:at + 63].strip() == b"3"  # the writer announces its count here
    data[at + 48:at + 63] = b"%15d" % 2 ** 31
    path.write_bytes(bytes(data))
    run = validate(folder)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "announces 2147483648 records but it holds" in run.stderr


def test_many_overlapping_variables_cost_no_memory(tmp_path: Path):
    """500 variables all at position 0 of a 2 MB file: refused from the headers, within 1 GB."""
    folder = tmp_path / "pkg"
    path = write_v5(folder, rows=1)
    data = bytearray(path.read_bytes())
    first = bytes(data[namestr(data, 0):namestr(data, 0) + 140])
    head, obs_at = data[:8 * REC], data.index(b"HEADER RECORD*******OBS     HEADER RECORD!!!!!!!")
    names = b"".join(first[:8] + b"V%-7d" % i + first[16:] for i in range(500))
    names += b" " * (-len(names) % REC)
    head[7 * REC + 54:7 * REC + 58] = b"0500"
    path.write_bytes(bytes(head + names + data[obs_at:obs_at + REC] + b"S" * (REC * 26_215)))
    run = validate(folder, memory_mb=1024)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "overlaps the variable before it" in run.stderr
