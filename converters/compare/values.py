"""Cell values made comparable: numbers with a tolerance, text without trailing blanks, and an empty
text the same as a missing value (both options of `cdisc compare`).

Text is compared as integer codes: each side's distinct values (the reader's dictionary for XPT) are
normalised once and numbered jointly, so a million-row column costs two integer lookups, not a
million string comparisons.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Options:
    tolerance: float = 1e-9  # numbers equal when |a - b| <= tolerance * max(1, |a|, |b|)
    strip_blanks: bool = True  # "AB " equals "AB" (XPT stores text blank-padded)
    missing_equal: bool = True  # an empty text equals a missing value


def is_number_dtype(s: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype)


def factor(s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values): s == values[codes]; missing values are codes -1 or a NaN/None value."""
    return pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=True)


def as_numbers(s: pd.Series, factors: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(float64 values, text that is not a number): empty text is a missing number."""
    if is_number_dtype(s):
        return s.to_numpy(dtype="float64", na_value=np.nan), np.zeros(len(s), bool)
    codes, uniq = factors if factors is not None else factor(s)
    texts = pd.Series([u if isinstance(u, str) else "" for u in uniq], dtype=object).str.strip()
    nums = pd.to_numeric(texts, errors="coerce").to_numpy(dtype="float64")
    bad = np.isnan(nums) & (texts != "").to_numpy()
    return np.append(nums, np.nan)[codes], np.append(bad, False)[codes]


def text_values(uniq: np.ndarray, opts: Options, stripped: bool) -> list[str | None]:
    """A side's distinct values normalised: str, trailing blanks cut, None for missing."""
    out: list[str | None] = []
    for u in uniq:
        if u is None or (isinstance(u, float) and u != u):
            out.append(None)
            continue
        u = u if isinstance(u, str) else (f"{u:.15g}" if isinstance(u, float) else str(u))
        if opts.strip_blanks and not stripped:
            u = u.rstrip(" ")
        out.append(None if u == "" and opts.missing_equal else u)
    return out


def joint_codes(left: tuple[np.ndarray, list], right: tuple[np.ndarray, list]) -> tuple[np.ndarray, np.ndarray]:
    """Both sides' values as integer codes of one numbering (-1 = missing): equal codes, equal texts."""
    (lc, lv), (rc, rv) = left, right
    numbered, _ = pd.factorize(np.array(lv + rv + [None], dtype=object), use_na_sentinel=True)
    lmap, rmap = numbered[:len(lv)], numbered[len(lv):len(lv) + len(rv)]
    return np.append(lmap, -1)[lc], np.append(rmap, -1)[rc]


def looks_numeric(s: pd.Series, factors: tuple[np.ndarray, np.ndarray] | None = None) -> bool:
    """An untyped (CSV) column whose every non-empty value is a number, and which has one."""
    if is_number_dtype(s):
        return True
    values, bad = as_numbers(s, factors)
    return not bad.any() and bool((~np.isnan(values)).any())


def numbers_equal(a: np.ndarray, b: np.ndarray, tolerance: float) -> np.ndarray:
    both_missing = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore"):
        scale = np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
        close = np.abs(a - b) <= tolerance * scale
    return both_missing | close
