"""At scale: the fast path's package is byte-identical to the record-by-record path's on a
10,000-subject study (~1M AE, ~0.9M RS, 0.19M EX rows). Minutes of work, so opt-in:

    CDISC_SCALE_TESTS=1 python -m pytest tests/test_fastpath_scale.py
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from benchmarks.generate import generate
from converters.pipeline import convert_study

pytestmark = pytest.mark.skipif(os.environ.get("CDISC_SCALE_TESTS") != "1",
                                reason="set CDISC_SCALE_TESTS=1 to run the 10k-subject comparison")


def _digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_10k_subject_package_is_byte_identical(tmp_path, monkeypatch):
    study = generate(tmp_path / "study", int(os.environ.get("CDISC_SCALE_SUBJECTS", "10000")))
    digests = {}
    for mode in ("0", "1"):
        monkeypatch.setenv("CDISC_SLOW_PATH", mode)
        result = convert_study(study, tmp_path / mode / "package")
        assert result.ok, result.problems[:5]
        digests[mode] = _digest(tmp_path / mode / "package")
    assert digests["0"] == digests["1"]
    assert result.records["AE"] >= 900_000
