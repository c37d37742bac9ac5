"""Reading a package folder: XPT files (v5 or v8, any encoding) and its define.xml files."""
from __future__ import annotations

import stat
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from converters.datasets import xport5

SDTM, ADAM = "sdtmig-3.4", "adamig-1.3"
LEGACY_ENCODING = "cp1252"  # SAS on Windows wrote "WLATIN1" text into many legacy transport files


class PackageError(Exception):
    """The package cannot be validated at all (no data, unreadable file): exit status 2."""


@dataclass
class DatasetFile:
    name: str  # upper-case file stem: the dataset name the file must hold (FDA TCG)
    path: Path
    rel: str  # path relative to the package folder, for reports
    standard: str
    frame: pd.DataFrame
    member: str  # dataset name stored in the file
    label: str
    version: int  # XPORT 5 or 8
    labels: dict[str, str]
    widths: dict[str, int]  # storage width in bytes (Char) or 8 (Num)
    types: dict[str, str]  # "Char" | "Num"
    size: int
    encoding: str  # "" = default (UTF-8 / ASCII), else the fallback used
    format: str = "xpt"  # xpt | json | ndjson | dsjc (converters.datasets.FORMATS)

    _factors: dict = field(default_factory=dict, repr=False)
    _memo: dict = field(default_factory=dict, repr=False)

    def char_columns(self) -> list[str]:
        return [c for c in self.frame.columns if self.types.get(c) == "Char"]

    def factor(self, col: str) -> tuple[np.ndarray, np.ndarray]:
        """(codes, distinct values) of a column, computed once: checks work on the distinct values."""
        if col not in self._factors:
            self._factors[col] = pd.factorize(self.frame[col].to_numpy(dtype=object), use_na_sentinel=False)
        return self._factors[col]

    def memo(self, key, compute):
        """compute(), once per key: values several rules derive from the same columns."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def per_value(self, col: str, fn) -> pd.Series:
        """fn (Series -> Series) of a column, applied to its distinct values only."""
        codes, uniq = self.factor(col)
        return pd.Series(fn(pd.Series(uniq, dtype=object)).to_numpy()[codes], index=self.frame.index)

    def uniques(self, col: str) -> list[str]:
        return [v for v in self.factor(col)[1] if isinstance(v, str) and v != ""]

    def isin(self, col: str, values) -> np.ndarray:
        codes, uniq = self.factor(col)
        wanted = set(values)
        return np.fromiter((u in wanted for u in uniq), bool, len(uniq))[codes] if len(uniq) else \
            np.zeros(len(codes), bool)

    def blank(self, col: str) -> np.ndarray:
        if self.types.get(col) == "Num":
            return self.frame[col].isna().to_numpy()
        codes, uniq = self.factor(col)
        empty = np.fromiter((not isinstance(u, str) or u == "" for u in uniq), bool, len(uniq))
        return empty[codes] if len(uniq) else np.zeros(len(codes), bool)


@dataclass
class Package:
    root: Path
    datasets: dict[str, DatasetFile] = field(default_factory=dict)
    defines: dict[str, Path] = field(default_factory=dict)  # folder rel ("" | "sdtm" | "adam") -> define

    def of(self, standard: str) -> list[DatasetFile]:
        return [d for n, d in sorted(self.datasets.items()) if d.standard == standard]

    def get(self, name: str) -> DatasetFile | None:
        return self.datasets.get(name)

    def xport_files(self) -> list[DatasetFile]:
        return [d for d in self.datasets.values() if d.format == "xpt"]


def _refactor(codes: np.ndarray, decoded: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`DatasetFile.factor` of a column from the reader's codes of its raw fields: the distinct decoded
    values, factorised in the fields' order of first appearance, are the column's in its own."""
    again, uniq = pd.factorize(decoded, use_na_sentinel=False)
    if len(again) == len(decoded) and (again == np.arange(len(again))).all():
        return codes, uniq  # distinct fields decode to distinct values (the rule): codes stay
    return again[codes], uniq


def xport_version(path: Path) -> int:
    """8 for the SAS V8 extended transport format (LIBV8 header), else 5 (FDA TCG requires 5)."""
    with open(path, "rb") as fh:
        head = fh.read(80)
    return 8 if b"LIBV8" in head else 5


def _standard(folder: str, name: str) -> str:
    if folder == "adam" or (folder != "sdtm" and name.startswith("AD")):
        return ADAM
    return SDTM


def read_dataset(path: Path, root: Path, folder: str) -> DatasetFile:
    name = path.stem.upper()
    try:
        fast = xport5.read(path, factors=True)
    except xport5.CorruptXpt as exc:
        raise PackageError(f"{path}: corrupt SAS transport file: {exc}") from None
    if fast is not None:
        frame, m = fast
        return DatasetFile(name=name, path=path, rel=path.relative_to(root).as_posix(),
                           standard=_standard(folder, name), frame=frame, member=m.table_name,
                           label=m.file_label, version=5, labels=m.labels, widths=m.widths, types=m.types,
                           size=path.stat().st_size, encoding=m.encoding,
                           _factors={c: _refactor(*f) for c, f in m.factors.items()})
    encoding = ""
    announced = _member_layout(path)
    try:
        frame, meta = pyreadstat.read_xport(str(path))
    except UnicodeDecodeError:
        encoding = LEGACY_ENCODING
        frame, meta = pyreadstat.read_xport(str(path), encoding=LEGACY_ENCODING)
    except Exception as exc:  # pyreadstat raises its own error types for damaged files
        raise PackageError(f"{path}: not a readable SAS transport file ({type(exc).__name__}: {exc})") from None
    if announced and announced != len(frame):
        raise PackageError(f"{path}: corrupt SAS transport file: its header announces {announced} records "
                           f"but it holds {len(frame)}")
    types = {c: ("Char" if t == "string" else "Num") for c, t in meta.readstat_variable_types.items()}
    for c, t in types.items():  # one representation of "missing" for text: ""
        if t == "Char":
            frame[c] = frame[c].astype(object).where(frame[c].notna(), "")
        elif frame[c].dtype == object:  # pyreadstat turns date-formatted numbers into dates: keep SAS days
            frame[c] = (pd.to_datetime(frame[c]) - pd.Timestamp("1960-01-01")).dt.days.astype("float64")
    return DatasetFile(
        name=name, path=path, rel=path.relative_to(root).as_posix(), standard=_standard(folder, name),
        frame=frame, member=(meta.table_name or "").upper(), label=meta.file_label or "",
        version=xport_version(path), labels=dict(meta.column_names_to_labels or {}),
        widths=dict(meta.variable_storage_width or {}), types=types, size=path.stat().st_size,
        encoding=encoding)


def load_package(root: Path, define: Path | None = None) -> Package:
    """A folder of .xpt files, or sdtm/ and adam/ subfolders of one; define.xml files beside them."""
    root = Path(root)
    if not root.is_dir():
        raise PackageError(f"{root} is not a folder")
    pkg = Package(root)
    folders = [f for f in ("sdtm", "adam") if (root / f).is_dir()] or [""]
    for folder in folders:
        base = root / folder if folder else root
        for path in _dataset_paths(base):
            _regular_file(path)
            ds = read_dataset(path, root, folder) if path.suffix.lower() == ".xpt" else read_json_dataset(path, root, folder)
            if ds.name in pkg.datasets:
                raise PackageError(f"dataset {ds.name} is in two folders ({pkg.datasets[ds.name].rel}, {ds.rel})")
            pkg.datasets[ds.name] = ds
        if (base / "define.xml").is_file():
            pkg.defines[folder] = base / "define.xml"
    if not pkg.datasets:
        raise PackageError(f"{root} has no .xpt, .json, .ndjson or .dsjc files "
                           f"(looked in {', '.join(f or '.' for f in folders)})")
    if define is not None:
        if not Path(define).is_file():
            raise PackageError(f"{define}: no such define.xml")
        pkg.defines = {_define_folder(Path(define), folders): Path(define)}
    return pkg


_MEMBER = (b"HEADER RECORD*******MEMBER  HEADER RECORD!!!!!!!", b"HEADER RECORD*******MEMBV8  HEADER RECORD!!!!!!!")
_OBS_V8 = b"HEADER RECORD*******OBSV8   HEADER RECORD!!!!!!!"


def _member_layout(path: Path) -> int:
    """The record count a V8 file announces (0 when it does not); a file of several datasets is refused,
    as its rows would be read as one dataset."""
    data = path.read_bytes()
    members = sum(data.count(m) for m in _MEMBER)
    if members > 1:
        raise PackageError(f"{path}: holds {members} datasets; a submission transport file holds one")
    at = data.find(_OBS_V8)
    count = data[at + 48:at + 63].strip() if at >= 0 else b""
    return int(count) if count.isdigit() else 0


def _regular_file(path: Path) -> None:
    """A FIFO would block the read, a link to /dev/zero never end it: refuse both, by name."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise PackageError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(mode):
        raise PackageError(f"{path}: not a regular file (a pipe, device or folder), so it cannot be checked")


def _dataset_paths(base: Path) -> list[Path]:
    """One file per dataset: the .xpt where there is one, else its Dataset-JSON file (.json, .ndjson,
    .dsjc, in that order): a package written in several formats holds the same data in each."""
    from converters.datasets import dataset_files

    return list(dataset_files(base).values())


def read_json_dataset(path: Path, root: Path, folder: str) -> DatasetFile:
    """A Dataset-JSON file as the checks see datasets: missing text as "" (as XPORT stores it), SAS
    dates as numbers."""
    from converters.datasets import DatasetError, format_of

    try:
        frame, meta = format_of(path).read(path)
    except DatasetError as exc:
        raise PackageError(str(exc)) from None
    types = {c.name: "Num" if c.numeric else "Char" for c in meta.columns}
    for c, t in types.items():
        if t == "Char":
            frame[c] = frame[c].where(frame[c].notna(), "")
    widths = {c.name: 8 if c.numeric else (c.length or longest_text(frame[c.name])) for c in meta.columns}
    name = path.stem.upper()
    return DatasetFile(name=name, path=path, rel=path.relative_to(root).as_posix(), standard=_standard(folder, name),
                       frame=frame, member=meta.name.upper(), label=meta.label, version=5,
                       labels={c.name: c.label for c in meta.columns}, widths=widths, types=types,
                       size=path.stat().st_size, encoding="", format=format_of(path).name)


def longest_text(values: pd.Series) -> int:
    return max((len(str(v).encode("utf-8")) for v in values), default=1) or 1


def _define_folder(define: Path, folders: list[str]) -> str:
    """--define describes the folder of the standard it names (ADaM or SDTM); one folder: that one."""
    if len(folders) == 1:
        return folders[0]
    with open(define, "rb") as fh:
        head = fh.read(8192)
    return "adam" if b"ADaM" in head else "sdtm"
