"""Build a package in a sibling staging folder and move it into place only when complete.

A crash or Ctrl-C at any point leaves the previous package intact: the staging folder is a hidden
sibling (same filesystem, so the final rename is atomic) and is removed on failure. The swap is two
renames (old package aside, new one in); an interruption between them is undone on the spot, and a
process killed there is repaired by the next run (`_recover`). Staging folders of dead processes
are removed.

Only a folder holding a manifest this tool wrote (reports/manifest.json naming cdisc-converter) is
ever replaced. Sibling names are matched literally (an OUT named `pkg[A]` is not a pattern). A run
holds an exclusive lock (flock) on the hidden sibling `.OUT.lock` from its checks to its swap, so two
runs into one OUT cannot interleave; readers (`cdisc validate`) take a shared lock on it, so they
never see half of an old and half of a new package.
"""
from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

MARKER = Path("reports") / "manifest.json"
TOOL_NAME = "cdisc-converter"
_MAX_MANIFEST = 256 << 20  # a manifest this size is not ours (it lists files, it does not hold them)


class OutputFolderError(Exception):
    """The output folder cannot be used (exists and is not a package of this tool, or is in use)."""


def output_path(out: Path) -> Path:
    """Absolute and normalised ("nowhere/../OUT" -> OUT), without resolving symlinks."""
    return Path(os.path.abspath(out))


def is_our_package(folder: Path) -> bool:
    """True when ``folder`` holds a manifest written by this tool (not just any reports/manifest.json)."""
    path = Path(folder) / MARKER
    try:
        if not path.is_file() or path.stat().st_size > _MAX_MANIFEST:
            return False
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    tool = data.get("tool") if isinstance(data, dict) else None
    return (isinstance(tool, dict) and tool.get("name") == TOOL_NAME
            and isinstance(data.get("outputs"), list) and isinstance(data.get("inputs"), list))


def check_output_folder(out: Path) -> None:
    """Refuse an output folder we must not replace, or that another run is writing; repair an
    interrupted swap left by a killed run."""
    try:
        _check_output_folder(output_path(out))
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte, a symlink loop...
        raise OutputFolderError(f"{out}: cannot be used as the output folder "
                                f"({getattr(exc, 'strerror', None) or exc})") from None


def _check_output_folder(out: Path) -> None:
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise OutputFolderError(f"{out}: {parent} is a file, not a folder")
    if out.parent.is_dir():
        with output_lock(out):
            _check_unlocked(out)
    else:
        _check_unlocked(out)


def _check_unlocked(out: Path) -> None:
    _recover(out)
    if out.is_symlink() or (out.exists() and (not out.is_dir() or (any(out.iterdir()) and not is_our_package(out)))):
        raise OutputFolderError(f"{out} exists and is not a cdisc-converter package; choose an empty or new folder")


def check_not_inside(inputs: list[Path], out: Path) -> None:
    """Refuse an output folder that holds (or is) one of the inputs: replacing it would delete them."""
    target = output_path(out).resolve()
    for path in inputs:
        resolved = Path(path).resolve()
        if resolved == target or target in resolved.parents:
            raise OutputFolderError(f"{path} is inside the output folder {out}, which this command replaces; "
                                    "choose another output folder")


# --- locking ----------------------------------------------------------------------------------------

def lock_path(out: Path) -> Path:
    out = output_path(out)
    return out.parent / f".{out.name}.lock"


@contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold the exclusive lock of ``out`` or raise OutputFolderError naming the process holding it."""
    path = lock_path(out)
    try:
        fd = _locked(path, fcntl.LOCK_EX | fcntl.LOCK_NB, create=True)
    except OSError as exc:
        raise OutputFolderError(f"cannot write beside {output_path(out)}: {exc.strerror or exc}") from None
    if fd is None:
        raise OutputFolderError(f"{output_path(out)} is being written by process {_holder(path)}; "
                                "wait for it to finish")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        _release(path, fd)


@contextmanager
def reading_lock(package: Path, waiting=lambda message: None) -> Iterator[None]:
    """A shared lock on ``package`` while it is read: waits (telling ``waiting``) for a run replacing
    it to finish. Without write access beside the package (a read-only medium, where no run can
    write either) no lock."""
    package = output_path(package)
    if package.name in ("sdtm", "adam") and is_our_package(package.parent):
        package = package.parent  # the folder a run replaces as a whole
    path = lock_path(package)
    try:
        fd = _locked(path, fcntl.LOCK_SH | fcntl.LOCK_NB, create=True)
        if fd is None:
            waiting(f"waiting for process {_holder(path)}, which is writing {output_path(package)}")
            fd = _locked(path, fcntl.LOCK_SH, create=True)
    except OSError:
        fd = None
    try:
        yield
    finally:
        if fd is not None:
            _release(path, fd)


def _locked(path: Path, operation: int, create: bool) -> int | None:
    """An fd holding ``operation`` on the lock file at ``path`` (re-opened if it was replaced while
    we waited), or None if a non-blocking lock is taken."""
    while True:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0) | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, operation)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return None
            raise
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder removed the file as we waited: lock the current one


def _release(path: Path, fd: int) -> None:
    """Release; the last holder removes the lock file (the next one creates it again)."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                os.unlink(path)
        except FileNotFoundError:
            pass
    except OSError:
        pass  # someone else holds it too: they remove it
    finally:
        os.close(fd)


def _holder(path: Path) -> str:
    try:
        pid = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        pid = ""
    return pid if pid.isdigit() else "(unknown)"


# --- staging and swap -------------------------------------------------------------------------------

@contextmanager
def staged_output(out: Path) -> Iterator[Path]:
    """Yield a staging folder; on normal exit it replaces ``out``, on any exception it is deleted.
    The exclusive lock on ``out`` is held throughout."""
    out = output_path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with output_lock(out):
        _check_unlocked(out)
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


def _siblings(out: Path, kind: str) -> list[tuple[Path, int]]:
    """Hidden siblings ``.OUT.<kind>-<pid>`` of ``out``, matched literally, with their pid."""
    prefix = f".{out.name}.{kind}-"
    found = []
    try:
        entries = list(os.scandir(out.parent))
    except OSError:
        return []
    for entry in entries:
        pid = entry.name[len(prefix):]
        if entry.name.startswith(prefix) and pid.isdigit() and entry.is_dir(follow_symlinks=False):
            found.append((Path(entry.path), int(pid)))
    return sorted(found)


def _recover(out: Path) -> None:
    """If an earlier run died between its two renames, put the previous package back."""
    if out.exists() or out.is_symlink():
        return
    for old, pid in _siblings(out, "old"):
        if pid != os.getpid() and not _alive(pid) and is_our_package(old):
            os.replace(old, out)
            return


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _remove_stale_staging(out: Path) -> None:
    for kind in ("staging", "old"):
        for folder, pid in _siblings(out, kind):
            if pid != os.getpid() and not _alive(pid) and (kind == "staging" or out.exists()):
                shutil.rmtree(folder, ignore_errors=True)
