"""Build a package in a sibling staging folder and move it into place only when complete.

A crash or Ctrl-C at any point leaves the previous package intact: the staging folder is a hidden
sibling (same filesystem, so the final rename is atomic) and is removed on failure. The swap is two
renames (old package aside, new one in); an interruption between them is undone on the spot, and a
process killed there is repaired by the next run (`_recover`). Staging folders of dead processes
are removed.
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


def output_path(out: Path) -> Path:
    """Absolute and normalised ("nowhere/../OUT" -> OUT), without resolving symlinks."""
    return Path(os.path.abspath(out))


def check_output_folder(out: Path) -> None:
    """Refuse an output folder we must not replace; repair an interrupted swap left by a killed run."""
    out = output_path(out)
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise OutputFolderError(f"{out}: {parent} is a file, not a folder")
    _recover(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MARKER).is_file())):
        raise OutputFolderError(f"{out} exists and is not a cdisc-converter package; choose an empty or new folder")


@contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """Yield a staging folder; on normal exit it replaces ``out``, on any exception it is deleted."""
    out = output_path(out)
    check_output_folder(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_staging(out)
    staging = out.parent / f".{out.name}.staging-{os.getpid()}"
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    moved_aside = False
    try:
        yield staging
        if out.exists():
            os.replace(out, old)
            moved_aside = True
        os.replace(staging, out)
        moved_aside = False
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        if moved_aside and not out.exists():
            os.replace(old, out)  # interrupted between the renames: the previous package goes back
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale_staging(out: Path) -> None:
    for pattern in (f".{out.name}.staging-*", f".{out.name}.old-*"):
        for folder in out.parent.glob(pattern):
            pid = folder.name.rsplit("-", 1)[-1]
            if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)) and (
                    "staging" in folder.name or out.exists()):
                shutil.rmtree(folder, ignore_errors=True)
