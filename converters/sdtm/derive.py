"""SDTM derivations as pure functions (frame in, frame out), in the manner of admiral's verbs.

Date columns repeat few distinct values (a study has a few thousand days), so dates are parsed
once per distinct value and spread back to the rows with numpy (pd.factorize + take). The
derivations copy their input shallowly: they only add columns, never write into the input's arrays
(tests/test_fastpath.py compares whole packages with the deep-copying slow path).
CDISC_SLOW_PATH=1 selects the element-wise versions the fast ones are tested against.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from converters.sdtm.coded import codes_of, constant, is_coded, positions, same_kind, sorted_codes
from converters.slowpath import slow_path as _slow
from schemas.dates import date_bounds


def _per_value(dtc: pd.Series, convert) -> pd.Series:
    """``convert`` (Series -> datetime Series) applied to the distinct values only, spread back."""
    codes, uniques = codes_of(dtc)
    done = convert(pd.Series(uniques, dtype=object)).to_numpy(dtype="datetime64[ns]")
    values = np.append(done, np.datetime64("NaT", "ns"))[codes]  # code -1 (missing) -> NaT
    return pd.Series(values, index=dtc.index, name=dtc.name)


def _to_date_each(dtc: pd.Series) -> pd.Series:
    text = dtc.astype("string").str.slice(0, 10)
    return pd.to_datetime(text.where(text.str.len() == 10), format="%Y-%m-%d", errors="coerce")


def to_date(dtc: pd.Series) -> pd.Series:
    """Complete ISO 8601 dates (a time part allowed) -> datetime64; partial or empty -> NaT."""
    if _slow() or not (dtc.dtype == object or is_coded(dtc)):
        return _to_date_each(dtc)
    return _per_value(dtc, _to_date_each)


def derive_usubjid(frame: pd.DataFrame, studyid: str, subjid: str = "subject_id") -> pd.DataFrame:
    """USUBJID = STUDYID-SUBJID, unique across the submission (SDTMIG 3.4 5.2 DM).

    >>> derive_usubjid(pd.DataFrame({"subject_id": ["001"]}), "S1")["USUBJID"].tolist()
    ['S1-001']
    """
    out = frame.copy(deep=_slow())  # adds columns only (a deep copy of every source column is the cost)
    subject = out[subjid]
    if is_coded(subject) and not _slow():  # per distinct subject; a common prefix keeps the order
        usubjid = studyid + "-" + subject.cat.categories.astype("string")
        if usubjid.is_unique:
            out["STUDYID"] = constant(studyid, len(out))
            out["USUBJID"] = pd.Categorical.from_codes(subject.cat.codes, dtype=pd.CategoricalDtype(
                usubjid.astype(object)), validate=False)
            return out
    out["STUDYID"] = studyid
    out["USUBJID"] = studyid + "-" + subject.astype("string")
    return out


def derive_study_day(frame: pd.DataFrame, dtc: str, out: str, ref: str = "RFSTDTC") -> pd.DataFrame:
    """--DY = date - RFSTDTC + 1 on or after the reference day, date - RFSTDTC before it: no day 0
    (SDTMIG 3.4 4.4.4). Null when either date is partial or missing.

    >>> f = pd.DataFrame({"RFSTDTC": ["2021-05-10"] * 3, "AESTDTC": ["2021-05-10", "2021-05-09", "2021-05"]})
    >>> derive_study_day(f, "AESTDTC", "AESTDY")["AESTDY"].tolist()
    [1.0, -1.0, nan]
    """
    result = frame.copy(deep=_slow())
    days = (to_date(frame[dtc]) - to_date(frame[ref])).dt.days.astype("float64")
    result[out] = np.where(days >= 0, days + 1, days)
    return result


def derive_seq(frame: pd.DataFrame, out: str, order: list[str]) -> pd.DataFrame:
    """--SEQ: 1, 2, ... within USUBJID after a stable sort by ``order`` (which starts with USUBJID).

    >>> f = pd.DataFrame({"USUBJID": ["A", "A", "B"], "X": [2, 1, 5]})
    >>> derive_seq(f, "XXSEQ", ["USUBJID", "X"])["XXSEQ"].tolist()
    [1.0, 2.0, 1.0]
    """
    if _slow():
        result = frame.sort_values(order, kind="mergesort", na_position="first").reset_index(drop=True)
        result[out] = (result.groupby("USUBJID", sort=False).cumcount() + 1).astype("float64")
        return result
    coded = {} if frame.columns.has_duplicates else {c: sorted_codes(frame[c]) for c in frame.columns}
    position = _sorted_position(frame, order, [coded[c][0] if coded.get(c) else _rank(frame[c]) for c in order])
    if not coded:
        result = frame.take(position)
        result.index = pd.RangeIndex(len(result))
    else:
        # Text columns come back dictionary-encoded (Categorical, sorted categories: sorting stays
        # alphabetical): reordering a million rows moves integer codes, not Python objects, and
        # conform and the XPT writer reuse the codes.
        result = pd.DataFrame({c: pd.Categorical.from_codes(coded[c][0].take(position), dtype=coded[c][1],
                                                            validate=False)
                               if coded[c] else frame[c].take(position).reset_index(drop=True)
                               for c in frame.columns}, copy=False)
    result[out] = _cumcount(result["USUBJID"]) + 1.0
    return result


def sort_rows(frame: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """frame.sort_values(order, kind="mergesort", na_position="first").reset_index(drop=True), sorting
    the keys' integer ranks (text is ranked once per distinct value).

    >>> sort_rows(pd.DataFrame({"K": ["b", None, "a"], "N": [1, 2, 3]}), ["K"])["N"].tolist()
    [2, 3, 1]
    """
    if _slow():
        return frame.sort_values(order, kind="mergesort", na_position="first").reset_index(drop=True)
    ranks = []
    for c in order:
        coded = sorted_codes(frame[c])
        ranks.append(coded[0] if coded is not None else _rank(frame[c]))
    return frame.take(_sorted_position(frame, order, ranks)).reset_index(drop=True)


def _sorted_position(frame: pd.DataFrame, order: list[str], ranks: list[np.ndarray | None]) -> np.ndarray:
    if any(r is None for r in ranks) or frame[order[0]].isna().any():  # the same stable order, found on the key columns alone
        keys = frame[order].reset_index(drop=True)
        return keys.sort_values(order, kind="mergesort", na_position="first").index.to_numpy()
    return _stable_order(ranks)  # missing rank -1: first, as na_position="first"


def _stable_order(ranks: list[np.ndarray]) -> np.ndarray:
    """np.lexsort of the ranks (first is the major key); one argsort of a combined key when the
    ranks fit in an int64 together."""
    key, span = np.zeros(len(ranks[0]), dtype="int64"), 1
    for r in ranks:
        size = int(r.max(initial=-1)) + 2  # ranks -1 .. max, shifted to 0 .. max + 1
        span *= size
        if span >= 2 ** 62:
            return np.lexsort(ranks[::-1])
        key = key * size + (r.astype("int64") + 1)
    return np.argsort(key, kind="stable")


def _rank(col: pd.Series) -> np.ndarray | None:
    """Sort rank of each value (-1 when missing), or None when the values are not all text or
    numbers of one kind (left to sort_values)."""
    kind = pd.api.types.infer_dtype(col, skipna=True)
    if kind not in ("string", "integer", "floating", "empty"):
        return None
    codes, _ = pd.factorize(col, sort=True, use_na_sentinel=True)
    return codes


def _cumcount(usubjid: pd.Series) -> np.ndarray:
    """Position of each row within its run of equal USUBJID (rows are sorted by USUBJID)."""
    codes, _ = pd.factorize(usubjid, use_na_sentinel=False)
    n = len(codes)
    if n == 0:
        return np.zeros(0, dtype="float64")
    start = np.r_[True, codes[1:] != codes[:-1]]
    first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
    return (np.arange(n) - first).astype("float64")


@lru_cache(maxsize=65536)
def _bounds(value: str):
    return date_bounds(value)


def derive_epoch(frame: pd.DataFrame, dtc: str, milestones: pd.DataFrame, out: str = "EPOCH") -> pd.DataFrame:
    """EPOCH of an observation from its date and the subject's milestones.

    ``milestones`` has USUBJID, TRTSTART (first dose of any protocol treatment: lymphodepletion) and
    INFUSION (investigational product). SCREENING before TRTSTART, TREATMENT from TRTSTART through the
    infusion day, FOLLOW-UP after it. A partial date gets the epoch only when every day it can denote
    falls in the same epoch; otherwise EPOCH is null (SDTMIG 3.4 4.1.3.1: EPOCH is not imputed).
    """
    key = milestones["USUBJID"]
    if _slow() or not key.is_unique or key.isna().any() or not same_kind(key, frame["USUBJID"]) \
            or frame["USUBJID"].isna().any() or dtc in ("TRTSTART", "INFUSION"):
        m = frame[["USUBJID", dtc]].merge(milestones, on="USUBJID", how="left")
        lo, hi = date_bounds_series(m[dtc])
        trtstart, infusion = _datetimes(m["TRTSTART"]), _datetimes(m["INFUSION"])
    else:  # one milestone row per subject: the left merge is a lookup
        position = positions(key, frame["USUBJID"])
        lo, hi = date_bounds_series(frame[dtc].reset_index(drop=True))
        trtstart, infusion = (_datetimes(pd.Series(np.append(_datetimes(milestones[c].reset_index(drop=True))
                                                             .to_numpy(), np.datetime64("NaT"))[position]))
                              for c in ("TRTSTART", "INFUSION"))

    epochs = ["FOLLOW-UP", "SCREENING", "TREATMENT"]  # codes 0, 1, 2 (sorted, as encode_text's); -1 missing

    def epoch_at(day: pd.Series) -> np.ndarray:
        return np.select([day.isna().to_numpy(), (trtstart.isna() | (day < trtstart)).to_numpy(),
                          (infusion.isna() | (day <= infusion)).to_numpy()], [-1, 1, 2], default=0).astype(np.int8)

    first, last = epoch_at(lo), epoch_at(hi)
    codes = np.where(first == last, first, np.int8(-1))
    result = frame.copy(deep=_slow())
    if _slow():
        result[out] = np.append(np.array(epochs, dtype=object), None)[codes]
    else:
        result[out] = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(epochs), validate=False)
    return result


def _datetimes(col: pd.Series) -> pd.Series:
    """pd.to_datetime, skipped when the column already is datetime64[ns] (it would only scan it)."""
    return col if col.dtype == "datetime64[ns]" and not _slow() else pd.to_datetime(col)


def _bounds_each(dtc: pd.Series) -> tuple[pd.Series, pd.Series]:
    uniq = pd.unique(dtc.dropna())
    lo = {v: _bounds(v)[0] for v in uniq if v}
    hi = {v: _bounds(v)[1] for v in uniq if v}
    return pd.to_datetime(dtc.map(lo)), pd.to_datetime(dtc.map(hi))


def date_bounds_series(dtc: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Earliest and latest day each (possibly partial) ISO 8601 date can denote, as datetime64 series."""
    if _slow() or not (dtc.dtype == object or is_coded(dtc)):
        return _bounds_each(dtc)
    codes, uniques = codes_of(dtc)
    nat = np.datetime64("NaT", "ns")
    lo = np.array([np.datetime64(_bounds(v)[0], "ns") if v else nat for v in uniques] + [nat], "datetime64[ns]")
    hi = np.array([np.datetime64(_bounds(v)[1], "ns") if v else nat for v in uniques] + [nat], "datetime64[ns]")
    return (pd.Series(lo[codes], index=dtc.index, name=dtc.name),
            pd.Series(hi[codes], index=dtc.index, name=dtc.name))
