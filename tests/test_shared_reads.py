"""Reading a package being built: each XPT is parsed once, and a file the writer has just written
is held as parsing it would find it (tests compare the two field by field)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from converters.datasets import xport5
from converters.xpt import XptVariable, write_xpt

CREATED = dt.datetime(2026, 11, 25)

VARS = [
    XptVariable("SHORT", "Up to 8 bytes", "Char"),
    XptVariable("MID", "9 to 32 bytes", "Char"),
    XptVariable("LONG", "Over 32 bytes", "Char"),
    XptVariable("SEQ", "Sequence", "Num"),
    XptVariable("VAL", "Value", "Num"),
]


def frame(rows: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    short = np.array(["A", "", None, "B ", "CDEFGHIJ"], dtype=object)
    mid = np.array(["GRADE 3 NEUTROPENIA", None, "X" * 32, "grade 3 neutropenia"], dtype=object)
    long = np.array(["CYTOKINE RELEASE SYNDROME WITH HYPOTENSION", "Y" * 120, None], dtype=object)
    return pd.DataFrame({
        "SHORT": pd.Categorical(short[rng.integers(0, len(short), rows)]),  # dictionary-encoded, as conform gives
        "MID": mid[rng.integers(0, len(mid), rows)],
        "LONG": long[rng.integers(0, len(long), rows)],
        "SEQ": np.arange(1.0, rows + 1),
        "VAL": np.where(rng.random(rows) < 0.2, np.nan, rng.normal(0, 1e6, rows)),
    })


def assert_same(held: xport5._Parsed, parsed: xport5._Parsed) -> None:
    assert held.nrows == parsed.nrows
    assert held.dsname.rstrip() == parsed.dsname.rstrip() and held.label.rstrip() == parsed.label.rstrip()
    assert [(n, l.rstrip(b" \x00"), w, k) for n, l, w, k in held.namestrs] == \
           [(n, l.rstrip(b" \x00"), w, k) for n, l, w, k in parsed.namestrs]
    for name, column in parsed.columns.items():
        if isinstance(column, tuple):
            assert held.columns[name][0].tolist() == column[0].tolist(), name
            assert held.columns[name][1].tolist() == column[1].tolist(), name
        else:
            np.testing.assert_array_equal(held.columns[name], column)


def test_written_file_is_held_as_its_parse(tmp_path):
    path, written = tmp_path / "xx.xpt", []
    data = frame()
    with xport5.shared_reads():
        write_xpt(path, data, dataset="XX", label="Shared reads", variables=VARS, created=CREATED, keep=written)
        xport5.remember(path, "XX", "Shared reads", written, len(data))
        held = xport5._parsed(path)
        assert_same(held, xport5._parse(path))
        got, meta = xport5.read(path, empty=None)
    assert got["SHORT"].tolist() == [None if v in (None, "") or v != v else v.rstrip() for v in data["SHORT"]]
    assert got["LONG"].tolist() == [v if isinstance(v, str) else None for v in data["LONG"]]
    np.testing.assert_allclose(got["VAL"].to_numpy(), data["VAL"].to_numpy(), rtol=1e-14)
    assert meta.table_name == "XX" and meta.file_label == "Shared reads"


def test_files_are_parsed_once_within_shared_reads(tmp_path, monkeypatch):
    path = tmp_path / "xx.xpt"
    write_xpt(path, frame(), dataset="XX", label="Shared reads", variables=VARS, created=CREATED)
    calls = []
    parse = xport5._parse
    monkeypatch.setattr(xport5, "_parse", lambda p: calls.append(p) or parse(p))
    with xport5.shared_reads():
        first, _ = xport5.read(path)
        first["VAL"] = 0.0  # a reader writing into its frame must not change what the next one gets
        again, _ = xport5.read(path, empty=None)
    assert len(calls) == 1
    assert again["VAL"].isna().any() and again["SHORT"].isna().any()
    xport5.read(path)
    assert len(calls) == 2  # outside the block nothing is held


def test_a_rewritten_file_is_parsed_again(tmp_path):
    path = tmp_path / "xx.xpt"
    with xport5.shared_reads():
        write_xpt(path, frame(10), dataset="XX", label="Shared reads", variables=VARS, created=CREATED)
        assert len(xport5.read(path)[0]) == 10
        write_xpt(path, frame(12), dataset="XX", label="Shared reads", variables=VARS, created=CREATED)
        assert len(xport5.read(path)[0]) == 12


def test_row_wise_text_is_not_held(tmp_path, monkeypatch):
    from converters.xpt import columns

    monkeypatch.setattr(columns, "_TABLE_BYTES", 0)  # every distinct value long and rare: row-wise encoding
    path, written = tmp_path / "xx.xpt", []
    data = pd.DataFrame({"TXT": [f"free text number {i} " * 3 for i in range(50)], "N": np.arange(50.0)})
    variables = [XptVariable("TXT", "Text", "Char"), XptVariable("N", "N", "Num")]
    with xport5.shared_reads():
        write_xpt(path, data, dataset="XX", label="L", variables=variables, created=CREATED, keep=written)
        assert isinstance(written[0][1], columns.CharColumn)
        xport5.remember(path, "XX", "L", written, len(data))
        assert xport5._key(path) not in xport5._shared()  # parsed when read
        got, _ = xport5.read(path)
    assert got["TXT"].tolist() == [t.rstrip() for t in data["TXT"]]


@pytest.mark.parametrize("rows", [1, 3, 200])
def test_held_equals_parse_for_any_size(tmp_path, rows):
    path, written = tmp_path / "xx.xpt", []
    data = frame(rows)
    with xport5.shared_reads():
        write_xpt(path, data, dataset="XX", label="L", variables=VARS, created=CREATED, keep=written)
        xport5.remember(path, "XX", "L", written, rows)
        assert_same(xport5._parsed(path), xport5._parse(path))


def test_a_value_first_seen_late_keeps_its_place(tmp_path):
    rows = 70_000  # past the head the writer looks at first
    data = pd.DataFrame({"SHORT": pd.Categorical(["A"] * (rows - 2) + ["Z", "B"]),
                         "MID": ["X" * 12] * rows, "LONG": ["Y" * 40] * rows,
                         "SEQ": np.arange(1.0, rows + 1), "VAL": np.zeros(rows)})
    path, written = tmp_path / "xx.xpt", []
    with xport5.shared_reads():
        write_xpt(path, data, dataset="XX", label="L", variables=VARS, created=CREATED, keep=written)
        xport5.remember(path, "XX", "L", written, rows)
        held = xport5._parsed(path)
        assert_same(held, xport5._parse(path))
    assert [u.rstrip() for u in held.columns["SHORT"][1]] == [b"A", b"Z", b"B"]


def test_numbers_held_are_the_numbers_read():
    """The writer holds the floats it encoded instead of decoding its own IBM doubles: that is exact for
    every value it writes (the values it cannot write exactly are refused)."""
    from converters.xpt import columns

    rng = np.random.default_rng(3)
    values = np.concatenate([[0.0, -0.0, np.nan, 5.5e-79, 7.2e75, 2.0 ** 53, 0.1, 1 / 3, -2.5],
                             rng.normal(0, 1, 20_000) * 10.0 ** rng.integers(-78, 76, 20_000)])
    column, problems = columns.encode_num("XX", XptVariable("X", "X", "Num"), pd.Series(values))
    refused = np.array([p.record - 1 for p in problems], dtype=int)
    assert all(p.rule == "XPT-NUM-RANGE" for p in problems)
    written = np.setdiff1d(np.arange(len(values)), refused)
    held, read = column.decoded()[written], xport5._ibm(column.bytes8, 8)[written]
    assert len(written) > 19_000
    assert np.array_equal(held, read, equal_nan=True)
    assert np.array_equal(np.signbit(held), np.signbit(read))
    assert values[1] == 0 and np.signbit(values[1]) and not np.signbit(held[1])  # -0.0 is written as IBM zero


def test_each_thread_has_its_own_shared_reads(tmp_path):
    import threading

    seen = {}

    def inside():
        seen["other thread"] = xport5._shared()

    with xport5.shared_reads():
        worker = threading.Thread(target=inside)
        worker.start()
        worker.join()
        assert xport5._shared() == {}
    assert seen == {"other thread": None} and xport5._shared() is None
