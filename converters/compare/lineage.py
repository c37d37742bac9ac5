"""reports/lineage.parquet: for each SDTM record made from one source row, that row.

One row per record: DATASET, USUBJID, SEQ (the record's --SEQ; null for DM), FORM (the source form),
ROW (the line of the source file the record came from, as problem reports number them). Text
columns are dictionary-encoded in order of first appearance, so the same package gives the same
bytes, and a million records cost a few megabytes and well under a second.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

LINEAGE = Path("reports") / "lineage.parquet"
COLUMNS = ("DATASET", "USUBJID", "SEQ", "FORM", "ROW")


def lineage_frames(mapped: dict[str, tuple[pd.DataFrame, dict]], conformed: dict[str, pd.DataFrame]
                   ) -> list[tuple[str, str, pd.DataFrame]]:
    """(dataset, form, conformed frame with its source rows as ``_row``) for every dataset mapped
    record for record from one form (conform keeps the mapped order)."""
    out = []
    for name, (frame, sources) in mapped.items():
        if "_row" in frame.columns and len(sources) == 1 and name in conformed:
            table = conformed[name]
            rows = frame["_row"].to_numpy()
            out.append((name, next(iter(sources)), pd.DataFrame({
                "USUBJID": table["USUBJID"], "SEQ": table[f"{name}SEQ"] if f"{name}SEQ" in table else np.nan,
                "_row": rows}, copy=False)))
    return out


def write_lineage(package: Path, parts: list[tuple[str, str, pd.DataFrame]]) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sizes = [len(f) for _, _, f in parts]
    names = [d for d, _, _ in parts]
    forms = list(dict.fromkeys(form for _, form, _ in parts))
    codes, uniq = subject_codes([f["USUBJID"] for _, _, f in parts])
    table = pa.table({
        "DATASET": _dictionary(np.repeat(np.arange(len(names)), sizes), names),
        "USUBJID": _dictionary(codes, uniq),
        "SEQ": pa.array(np.concatenate([f["SEQ"].to_numpy(dtype="float64") for _, _, f in parts]) if parts
                        else np.zeros(0), type=pa.float64(), from_pandas=True),
        "FORM": _dictionary(np.repeat([forms.index(form) for _, form, _ in parts], sizes), forms),
        "ROW": pa.array(np.concatenate([f["_row"].to_numpy(dtype=np.int64) for _, _, f in parts]) if parts
                        else np.zeros(0, np.int64), type=pa.int64()),
    })
    path = Path(package) / LINEAGE
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path, compression="zstd")
    return path


def subject_codes(columns: list[pd.Series]) -> tuple[np.ndarray, list[str]]:
    """Codes and values of the concatenated columns, numbered in order of first appearance; each
    column is factorised on its own (a dictionary-encoded column by its codes)."""
    numbering: dict[str, int] = {}
    out = []
    for col in columns:
        codes, uniq = pd.factorize(col)
        remap = np.fromiter((numbering.setdefault(str(u), len(numbering)) for u in uniq), np.int64, len(uniq))
        out.append(remap[codes] if len(uniq) else np.zeros(len(codes), np.int64))
    return (np.concatenate(out) if out else np.zeros(0, np.int64)), list(numbering)


def _dictionary(codes: np.ndarray, values: list[str]):
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(codes, dtype=np.int32), type=pa.int32()),
                                          pa.array(values, type=pa.string()))


def read_lineage(package: Path) -> pd.DataFrame | None:
    """The package's lineage (text columns as str), or None when it has none."""
    path = Path(package) / LINEAGE
    if not path.is_file():
        return None
    import pyarrow.parquet as pq

    frame = pq.read_table(path).to_pandas()
    for c in ("DATASET", "USUBJID", "FORM"):
        frame[c] = frame[c].astype(object)
    return frame


def source_row(lineage: pd.DataFrame, dataset: str, usubjid: str, seq: float | None) -> tuple[str, int] | None:
    """(form, row) of one SDTM record, or None when the lineage does not hold it."""
    hit = (lineage["DATASET"] == dataset) & (lineage["USUBJID"] == usubjid)
    if seq is not None and seq == seq:
        hit &= lineage["SEQ"] == seq
    found = lineage[hit]
    if len(found) != 1:
        return None
    return str(found["FORM"].iat[0]), int(found["ROW"].iat[0])
