"""Dictionary-encoded text columns give the values the plain object columns give."""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.sdtm.coded import (constant, encode_text, integer_text, map_values, positions, sorted_codes,
                                   stack)
from converters.sdtm.derive import derive_seq, sort_rows


def plain(col) -> list:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else v for v in pd.Series(col).astype(object)]


def test_encode_text_keeps_values_and_sorts_categories():
    frame = pd.DataFrame({"T": ["b", None, "a", "b"], "N": [1, 2, 3, 4], "MIX": ["a", 1, None, "b"]})
    coded = encode_text(frame)
    assert plain(coded["T"]) == ["b", None, "a", "b"]
    assert coded["T"].cat.categories.tolist() == ["a", "b"]
    assert coded["N"].tolist() == [1, 2, 3, 4] and coded["MIX"].dtype == object  # only all-text columns


def test_sorting_coded_text_is_alphabetical():
    frame = pd.DataFrame({"USUBJID": pd.Categorical(["S-2", "S-10", "S-1"], categories=["S-2", "S-10", "S-1"]),
                          "X": ["c", "a", "b"]})
    assert sort_rows(frame, ["USUBJID"])["X"].tolist() == ["b", "a", "c"]  # "S-1" < "S-10" < "S-2"
    seq = derive_seq(frame, "XXSEQ", ["USUBJID", "X"])
    assert plain(seq["USUBJID"]) == ["S-1", "S-10", "S-2"] and seq["XXSEQ"].tolist() == [1.0, 1.0, 1.0]
    codes, dtype = sorted_codes(frame["USUBJID"])
    assert dtype.categories.tolist() == ["S-1", "S-10", "S-2"] and codes.tolist() == [2, 1, 0]


def test_stack_unions_categories_and_falls_back_for_numbers():
    parts = [pd.Series(constant("CR", 2)), pd.Series(["PR", None], dtype=object), pd.Series(constant(None, 1))]
    stacked = stack(parts)
    assert plain(stacked) == ["CR", "CR", "PR", None, None]
    assert stacked.cat.categories.tolist() == ["CR", "PR"]
    assert stack([pd.Series([1.0]), pd.Series(["a"])]).tolist() == [1.0, "a"]


def test_map_values_and_integer_text_match_pandas():
    col = pd.Series(pd.Categorical(["Y", "N", None, "U"]))
    assert plain(map_values(col, {"Y": "YES", "N": "NO"})) == plain(col.astype(object).map({"Y": "YES", "N": "NO"}))
    grades = pd.Series([3, None, 1, 3])
    assert plain(integer_text(grades)) == ["3", None, "1", "3"]


def test_positions_look_up_coded_values():
    key = pd.Series(["S-1", "S-2"], dtype="string")
    values = pd.Series(pd.Categorical(["S-2", "S-3", "S-1", None]))
    assert positions(key, values).tolist() == [1, -1, 0, -1]
