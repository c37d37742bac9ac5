"""Dictionary-encoded text columns: how large domains are mapped.

A million-row text column holds a few hundred distinct values. As a pandas Categorical (codes plus
the distinct values) it is filtered, reordered and concatenated as integer codes, and dates, the
codelist checks and the XPT writer work once per distinct value. Categories are kept sorted, so
sorting a coded column stays alphabetical. CDISC_SLOW_PATH=1 keeps plain object columns (the
reference the coded path is tested against).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from converters.slowpath import slow_path as _slow


def is_coded(col: pd.Series) -> bool:
    return isinstance(col.dtype, pd.CategoricalDtype)


def codes_of(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(codes, distinct values), missing -1: a Categorical's own, else factorised."""
    if is_coded(col):
        return col.cat.codes.to_numpy(), col.cat.categories.to_numpy(dtype=object)
    return pd.factorize(col, use_na_sentinel=True)


def encode_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Every text column as a Categorical of its sorted distinct values; the values are unchanged.

    >>> encode_text(pd.DataFrame({"X": ["b", "a", None]}))["X"].cat.categories.tolist()
    ['a', 'b']
    """
    if _slow() or frame.columns.has_duplicates:
        return frame
    columns = {}
    for name in frame.columns:
        col = frame[name]
        coded = None if is_coded(col) else sorted_codes(col)
        columns[name] = col if coded is None else pd.Categorical.from_codes(coded[0], dtype=coded[1], validate=False)
    # a new frame, not column assignments into a copy: those would split the text block, and the
    # next copy would consolidate (copy) what is left of it
    return pd.DataFrame(columns, index=frame.index, copy=False)


def map_values(col: pd.Series, mapping: dict) -> pd.Series:
    """``col.map(mapping)`` (values without a mapping become missing), per distinct value.

    >>> map_values(pd.Series(["Y", "N", None]), {"Y": "YES"}).tolist()
    ['YES', nan, nan]
    """
    if _slow():
        return col.map(mapping)
    codes, uniques = codes_of(col)
    mapped = pd.Series(uniques, dtype=object).map(mapping).to_numpy(dtype=object)
    again, texts = pd.factorize(mapped)  # unmapped -> -1
    return pd.Series(pd.Categorical.from_codes(np.append(again, -1)[codes], categories=pd.Index(texts, dtype=object)),
                     index=col.index, name=col.name)


def stack(parts: list[pd.Series]) -> pd.Series:
    """The parts one after another (fresh index); text stays dictionary-encoded."""
    parts = [p if is_coded(p) else pd.Series(pd.Categorical(p.to_numpy(dtype=object)), name=p.name)
             if pd.api.types.infer_dtype(p, skipna=True) in ("string", "empty") and not _slow() else p for p in parts]
    if all(is_coded(p) for p in parts):
        return pd.Series(union_categoricals([p.array for p in parts], sort_categories=True, ignore_order=True))
    return pd.concat([p.astype(object) for p in parts], ignore_index=True)


def text_of(col: pd.Series) -> pd.Series:
    """col.astype("string") (str of each value), once per distinct value for a coded column."""
    if not is_coded(col):
        return col.astype("string")
    texts = col.cat.categories.astype("string").astype(object)
    if not texts.is_unique:
        return col.astype("string")
    return pd.Series(pd.Categorical.from_codes(col.cat.codes, dtype=pd.CategoricalDtype(texts), validate=False),
                     index=col.index, name=col.name)


def constant(value: str | None, rows: int) -> pd.Categorical:
    """One text value (or None: missing) on every row, dictionary-encoded."""
    if value is None:
        return pd.Categorical.from_codes(np.full(rows, -1, np.int8), dtype=pd.CategoricalDtype([]), validate=False)
    return pd.Categorical.from_codes(np.zeros(rows, np.int8), dtype=pd.CategoricalDtype([value]), validate=False)


def integer_text(col: pd.Series) -> pd.Series:
    """Whole numbers as text ("3"; missing stays missing), once per distinct value.

    >>> integer_text(pd.Series([3, None, 1])).tolist()
    ['3', nan, '1']
    """
    numbers = col.astype("Int64")
    if _slow():
        return numbers.astype("string")
    codes, uniques = pd.factorize(numbers)
    texts = pd.Index([str(int(u)) for u in uniques], dtype=object)
    return pd.Series(pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(texts), validate=False),
                     index=col.index, name=col.name)


def sorted_codes(col: pd.Series) -> tuple[np.ndarray, pd.CategoricalDtype] | None:
    """(sort-rank codes, dtype of the sorted distinct values) of a column holding only text, else None."""
    if is_coded(col):
        categories = col.cat.categories
        codes = col.cat.codes.to_numpy()
        if len(categories) == 0:
            return codes, col.dtype
        if pd.api.types.infer_dtype(categories) != "string":
            return None
        if categories.is_monotonic_increasing:
            return codes, col.dtype
        order = np.argsort(categories.to_numpy(dtype=object), kind="stable")
        rank = np.empty(len(order) + 1, np.int64)
        rank[order], rank[-1] = np.arange(len(order)), -1
        return rank[codes], pd.CategoricalDtype(categories[order])
    if not (col.dtype == object or isinstance(col.dtype, pd.StringDtype)) or \
            pd.api.types.infer_dtype(col, skipna=True) != "string":
        return None
    values = col.to_numpy() if col.dtype == object else col.to_numpy(dtype=object, na_value=None)
    codes, uniques = pd.factorize(values, sort=True)  # None and NaN are missing (-1)
    return codes, pd.CategoricalDtype(pd.Index(uniques, dtype=object))


def same_kind(key: pd.Series, values: pd.Series) -> bool:
    """Whether looking ``values`` up in ``key`` finds what a merge on the two would match."""
    if is_coded(values):
        return key.dtype == values.cat.categories.dtype or (key.dtype == object or isinstance(key.dtype, pd.StringDtype)) \
            and values.cat.categories.dtype == object
    return key.dtype == values.dtype


def positions(key: pd.Series, values: pd.Series) -> np.ndarray:
    """Position in ``key`` (unique) of each value, -1 where absent; once per distinct value."""
    if is_coded(values):
        found = pd.Index(key).get_indexer(values.cat.categories)
        return np.append(found, -1)[values.cat.codes.to_numpy()]
    return pd.Index(key).get_indexer(values)
