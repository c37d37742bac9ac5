"""Two versions of a dataset compared record by record, as PROC COMPARE or diffdf do: records only in
one side, variables only in one side, attribute differences and cell differences per variable."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from converters.compare.keys import choose_keys, match, text_side
from converters.compare.tables import Table
from converters.compare.values import Options, as_numbers, is_number_dtype, joint_codes, looks_numeric, numbers_equal

ATTRIBUTES = ("label", "type", "length", "format")


@dataclass
class CellDiff:
    variable: str
    count: int
    examples: list[dict]  # {"keys": {...}, "base": value, "compare": value}


@dataclass
class AttributeDiff:
    variable: str  # "" for the dataset itself
    attribute: str
    base: object
    compare: object


@dataclass
class DatasetDiff:
    name: str
    base_file: str
    compare_file: str
    keys: list[str]
    note: str
    base_rows: int
    compare_rows: int
    matched: int = 0
    only_base: int = 0
    only_compare: int = 0
    only_base_examples: list[dict] = field(default_factory=list)
    only_compare_examples: list[dict] = field(default_factory=list)
    only_base_vars: list[str] = field(default_factory=list)
    only_compare_vars: list[str] = field(default_factory=list)
    attributes: list[AttributeDiff] = field(default_factory=list)
    cells: list[CellDiff] = field(default_factory=list)
    rows_identical: int = 0  # matched records whose every common variable is equal
    cells_compared: int = 0  # (records of either side) x (common variables)
    cells_equal: int = 0

    @property
    def equal(self) -> bool:
        return not (self.only_base or self.only_compare or self.only_base_vars or self.only_compare_vars
                    or self.attributes or self.cells)

    @property
    def records_pct(self) -> float:
        """Identical records over all records of either side (a record in one side only counts once)."""
        union = self.matched + self.only_base + self.only_compare
        return 100.0 * self.rows_identical / union if union else 100.0

    @property
    def cells_pct(self) -> float:
        return 100.0 * self.cells_equal / self.cells_compared if self.cells_compared else 100.0


@dataclass
class Comparison:
    base: str
    compare: str
    datasets: list[DatasetDiff]
    only_base: list[str] = field(default_factory=list)  # datasets in one package only
    only_compare: list[str] = field(default_factory=list)

    @property
    def equal(self) -> bool:
        return not self.only_base and not self.only_compare and all(d.equal for d in self.datasets)


def compare_tables(base: Table, compare: Table, opts: Options = Options(), keys: list[str] | None = None,
                   max_examples: int = 5) -> DatasetDiff:
    keys, bkey, ckey, note = choose_keys(base.name, base, compare, keys)
    out = DatasetDiff(base.name, str(base.path), str(compare.path), keys, note, len(base.frame), len(compare.frame))
    pos = match(bkey, ckey)
    matched_b = np.flatnonzero(pos >= 0)
    matched_c = pos[matched_b]
    in_compare = np.zeros(len(compare.frame), bool)
    in_compare[matched_c] = True
    only_b, only_c = np.flatnonzero(pos < 0), np.flatnonzero(~in_compare)
    out.matched, out.only_base, out.only_compare = len(matched_b), len(only_b), len(only_c)
    out.only_base_examples = [key_of(base.frame, keys, i) for i in only_b[:max_examples]]
    out.only_compare_examples = [key_of(compare.frame, keys, i) for i in only_c[:max_examples]]
    bcols, ccols = list(base.frame.columns), set(compare.frame.columns)
    common = [c for c in bcols if c in ccols]
    out.only_base_vars = [c for c in bcols if c not in ccols]
    out.only_compare_vars = [c for c in compare.frame.columns if c not in set(bcols)]
    out.attributes = attribute_diffs(base, compare, common)
    identical = np.ones(len(matched_b), bool)
    for var in common:
        if var in keys and not note:
            continue  # matched on it: equal by construction
        differs = ~cells_equal(base, compare, var, matched_b, matched_c, opts)
        if differs.any():
            identical &= ~differs
            rows = np.flatnonzero(differs)
            out.cells.append(CellDiff(var, len(rows), [
                {"keys": key_of(base.frame, keys, matched_b[r]), "base": plain(base.frame[var].iat[matched_b[r]]),
                 "compare": plain(compare.frame[var].iat[matched_c[r]])} for r in rows[:max_examples]]))
    out.rows_identical = int(identical.sum())
    union = out.matched + out.only_base + out.only_compare
    out.cells_compared = union * len(common)
    out.cells_equal = out.matched * len(common) - sum(c.count for c in out.cells)
    return out


def cells_equal(base: Table, compare: Table, var: str, rows_b: np.ndarray, rows_c: np.ndarray,
                opts: Options) -> np.ndarray:
    b, c = base.frame[var], compare.frame[var]
    if numeric_pair(base, compare, var):
        bv, bad_b = as_numbers(b, None if is_number_dtype(b) else base.factor(var))
        cv, bad_c = as_numbers(c, None if is_number_dtype(c) else compare.factor(var))
        same = numbers_equal(bv[rows_b], cv[rows_c], opts.tolerance)
        if bad_b.any() or bad_c.any():  # text that is not a number: equal only to the same text
            jb, jc = joint_codes(text_side(base, var, opts), text_side(compare, var, opts))
            same = np.where(bad_b[rows_b] | bad_c[rows_c], jb[rows_b] == jc[rows_c], same)
        return same
    jb, jc = joint_codes(text_side(base, var, opts), text_side(compare, var, opts))
    return jb[rows_b] == jc[rows_c]


def numeric_pair(base: Table, compare: Table, var: str) -> bool:
    """Compare as numbers: both typed Num, one typed Num (a type difference is reported apart), or
    both untyped (CSV) and every value a number."""
    kinds = [t.types.get(var) for t in (base, compare) if t.typed]
    if kinds:
        return "Num" in kinds
    return looks_numeric(base.frame[var], base.factor(var)) and looks_numeric(compare.frame[var], compare.factor(var))


def attribute_diffs(base: Table, compare: Table, common: list[str]) -> list[AttributeDiff]:
    out = []
    if base.label is not None and compare.label is not None and base.label != compare.label:
        out.append(AttributeDiff("", "label", base.label, compare.label))
    for var in common:
        for attr, b, c in (("label", base.labels, compare.labels), ("type", base.types, compare.types),
                           ("length", base.lengths, compare.lengths), ("format", base.formats, compare.formats)):
            if not (b and c):
                continue  # the format does not carry this attribute
            if b.get(var) is not None and c.get(var) is not None and b.get(var) != c.get(var):
                out.append(AttributeDiff(var, attr, b.get(var), c.get(var)))
    return out


def key_of(frame: pd.DataFrame, keys: list[str], i: int) -> dict:
    if not keys:
        return {"record": int(i) + 1}
    return {k: plain(frame[k].iat[int(i)]) for k in keys}


def plain(v):
    """A cell as a JSON value: NaN -> None, numpy scalars -> Python, whole floats kept as floats."""
    if v is None:
        return None
    if isinstance(v, (float, np.floating)):
        return None if v != v else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v
