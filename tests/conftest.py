"""Shared fixtures for the source, pipeline and CLI tests: a small valid study and its package."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "tests"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from studybuilder import make_study  # noqa: E402


def tree_digest(folder: Path) -> dict[str, str]:
    """{relative path: sha256} of every file under ``folder`` (hidden staging files included)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """A fresh valid small study folder, free to break."""
    return make_study(tmp_path / "study")


@pytest.fixture
def light_pipeline(monkeypatch):
    """Only the XPT writing and the folder handling run: ADaM, define, survival report and
    conformance writers are stubbed (each has its own tests) to keep these tests fast."""
    import converters.pipeline as pipeline
    monkeypatch.setattr(pipeline, "write_adam", lambda *a, **k: {}, raising=False)
    for name in ("write_define", "write_report", "write_conformance"):
        monkeypatch.setattr(pipeline, name, lambda *a, **k: None, raising=False)
