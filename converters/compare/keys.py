"""Which variables identify a record, and integer record keys for matching two datasets.

Keys come from the dataset specs (datasets.csv, the Define-XML KeySequence), else from the file
(Dataset-JSON keySequence), else STUDYID USUBJID --SEQ; a key that is not unique has its repeated
values numbered in file order (PROC COMPARE's BY with duplicates), and with no usable key at all
records are matched by position.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.compare.tables import Table
from converters.compare.values import Options, as_numbers, is_number_dtype, joint_codes, text_values

SUPP_KEYS = ["STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM"]


def spec_keys(name: str) -> list[str]:
    from specs import datasets

    for standard in ("sdtmig-3.4", "adamig-1.3"):
        spec = datasets(standard).get(name)
        if spec is not None:
            return list(spec.keys)
    return []


def candidate_keys(name: str, base: Table, compare: Table) -> list[list[str]]:
    """Key variable lists to try, best first."""
    found = [spec_keys(name), base.key_sequence, compare.key_sequence]
    if name.startswith("SUPP"):
        found.append(SUPP_KEYS)
    seq = [c for c in base.frame.columns if c.endswith("SEQ") and len(c) in (5, 4)]
    found += [[k for k in ("STUDYID", "USUBJID") if k in base.frame.columns] + [s] for s in seq[:1]]
    out = []
    for keys in found:
        if keys and keys not in out:
            out.append(list(keys))
    return out


def choose_keys(name: str, base: Table, compare: Table, given: list[str] | None = None
                ) -> tuple[list[str], np.ndarray, np.ndarray, str]:
    """(keys, base record keys, compare record keys, note): integer keys, unique within each side.

    ``given`` keys must exist on both sides (else ValueError)."""
    both = set(base.frame.columns) & set(compare.frame.columns)
    if given:
        missing = [k for k in given if k not in both]
        if missing:
            raise ValueError(f"{name}: key variable(s) {', '.join(missing)} not in both datasets")
        tries = [list(given)]
    else:
        tries = [k for k in candidate_keys(name, base, compare) if set(k) <= both]
    first = None
    for keys in tries:
        b, c = record_keys(base, compare, keys)
        if _unique(b) and _unique(c):
            return keys, b, c, ""
        if first is None:
            first = keys, b, c
    if first is not None:
        keys, b, c = first
        dups = len(b) - len(np.unique(b)), len(c) - len(np.unique(c))
        b, c = numbered(b, c)
        return keys, b, c, (f"keys not unique ({dups[0]} repeated in base, {dups[1]} in compare): "
                            "repeated keys matched in file order")
    return [], np.arange(len(base.frame)), np.arange(len(compare.frame)), "no key variables: records matched by position"


def record_keys(base: Table, compare: Table, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """One int64 per record: equal exactly when every key value is equal (joint factorisation)."""
    nb = len(base.frame)
    code = np.zeros(nb + len(compare.frame), np.int64)
    size = 1
    for k in keys:
        values = key_values(base, compare, k)
        codes, uniq = pd.factorize(values, use_na_sentinel=False)
        n = max(len(uniq), 1)
        if size * n >= 2 ** 62:  # keep the mixed-radix number exact: renumber what we have so far
            code, size = _renumber(code)
        code = code * n + codes
        size *= n
    return code[:nb], code[nb:]


def key_values(base: Table, compare: Table, k: str) -> np.ndarray:
    """Both sides' values of a key variable in one array, where equal means equal: numbers when
    either side is numeric (and the other's text all numbers), else joint text codes."""
    b, c = base.frame[k], compare.frame[k]
    if is_number_dtype(b) or is_number_dtype(c):
        bv, bad_b = as_numbers(b, None if is_number_dtype(b) else base.factor(k))
        cv, bad_c = as_numbers(c, None if is_number_dtype(c) else compare.factor(k))
        if not (bad_b.any() or bad_c.any()):
            return np.concatenate([bv, cv])
    opts = Options()
    jb, jc = joint_codes(text_side(base, k, opts), text_side(compare, k, opts))
    return np.concatenate([jb, jc])


def text_side(t: Table, col: str, opts: Options) -> tuple[np.ndarray, list]:
    codes, uniq = t.factor(col)
    return codes, text_values(uniq, opts, t.stripped)


def _renumber(code: np.ndarray) -> tuple[np.ndarray, int]:
    codes, uniq = pd.factorize(code)
    return codes.astype(np.int64), max(len(uniq), 1)


def _unique(code: np.ndarray) -> bool:
    return pd.Index(code).is_unique


def numbered(base: np.ndarray, compare: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keys made unique on each side by the occurrence number of each repeated value, in file order."""
    codes, _ = _renumber(np.concatenate([base, compare]))
    b, c = codes[:len(base)], codes[len(base):]
    occ_b = pd.Series(b).groupby(b).cumcount().to_numpy()
    occ_c = pd.Series(c).groupby(c).cumcount().to_numpy()
    m = int(max(occ_b.max(initial=0), occ_c.max(initial=0))) + 1
    return b * m + occ_b, c * m + occ_c


def match(base_keys: np.ndarray, compare_keys: np.ndarray) -> np.ndarray:
    """For each base record, the position of its compare record, or -1."""
    return pd.Index(compare_keys).get_indexer(base_keys)
