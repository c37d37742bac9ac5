"""Build a package in a sibling staging folder and move it into place only when complete.

A crash or Ctrl-C at any point leaves the previous package intact: the staging folder is a hidden
sibling (same filesystem, so the final rename is atomic) and is removed on failure.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

MARKER = Path("reports") / "manifest.json"


class OutputFolderError(Exception):
    """The output folder cannot be used (exists and is not a package of this tool)."""


def check_output_folder(out: Path) -> None:
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise OutputFolderError(f"{out} exists and is not a cdisc-converter package; choose an empty or new folder")


@contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """Yield a staging folder; on normal exit it replaces ``out``, on any exception it is deleted."""
    out = Path(out).absolute()
    check_output_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _recover(out)
    staging = out.parent / f".{out.name}.staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    try:
        yield staging
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        if out.exists():
            os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _recover(out: Path) -> None:
    """If an earlier run died between its two renames, put the previous package back."""
    if out.exists():
        return
    for old in sorted(out.parent.glob(f".{out.name}.old-*")):
        if (old / MARKER).is_file():
            os.replace(old, out)
            return
