"""Property tests (hypothesis) on the contracts the package rests on.

* Any frame the dataset specs allow (specs.dataset variables: names, labels, types, lengths, display
  formats) survives the XPT writer and pyreadstat unchanged: missing values, the extreme IBM floats,
  200-byte strings. (tests/test_xpt_properties.py covers arbitrary column sets; this one the specs.)
* ISO 8601 partial dates: schemas/dates.py parse_partial and format_partial are inverses, and any
  text parse_partial accepts is written back exactly as it was read.
* Study day (converters/sdtm/derive.derive_study_day): never 0, and strictly increasing in the date
  (SDTMIG 3.4 4.4.4).
"""
from __future__ import annotations

import calendar
import datetime as dt
import math
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from converters.pipeline import xpt_variables
from xpt_namestr import display_formats
from converters.sdtm.derive import derive_study_day
from converters.xpt import XptError, read_xpt, write_xpt
from converters.xpt.ibm import IBM_MAX, IBM_MIN
from schemas.dates import date_bounds, format_partial, parse_partial
from specs import dataset

CREATED = dt.datetime(2023, 1, 31, 0, 0, 0)
# datasets with at least one numeric variable (an all-character dataset cannot end in a blank row,
# see converters/xpt/writer._trailing_blank_rows, so its frames are a different contract)
DATASETS = [("DM", "sdtmig-3.4"), ("AE", "sdtmig-3.4"), ("RS", "sdtmig-3.4"), ("EX", "sdtmig-3.4"),
            ("TS", "sdtmig-3.4"), ("ADSL", "adamig-1.3"), ("ADRS", "adamig-1.3"), ("ADTTE", "adamig-1.3")]

ascii_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=200)
char_value = st.one_of(st.none(), ascii_text, st.just("X" * 200), st.just(" " * 200), st.just(""))
num_value = st.one_of(
    st.just(math.nan), st.just(0.0),
    st.sampled_from([IBM_MAX, -IBM_MAX, IBM_MIN, -IBM_MIN, 2.0 ** 53, -(2.0 ** 53), 1e-78, 7e75]),
    st.floats(min_value=IBM_MIN, max_value=IBM_MAX), st.floats(min_value=-IBM_MAX, max_value=-IBM_MIN),
    st.integers(min_value=-(2 ** 53), max_value=2 ** 53).map(float),
)


@st.composite
def spec_frames(draw):
    name, standard = draw(st.sampled_from(DATASETS))
    spec = dataset(name, standard)
    rows = draw(st.integers(min_value=0, max_value=12))
    data = {}
    for v in spec.variables:
        values = draw(st.lists(char_value if v.type == "Char" else num_value, min_size=rows, max_size=rows))
        data[v.name] = pd.Series(values, dtype=object if v.type == "Char" else "float64")
    frame = pd.DataFrame(data, index=range(rows))
    return name, standard, spec, frame


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(spec_frames())
def test_spec_frames_round_trip_through_xpt(case):
    name, standard, spec, frame = case
    variables = xpt_variables(spec, frame)
    assert [v.name for v in variables] == [v.name for v in spec.variables]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name.lower()}.xpt"
        write_xpt(path, frame, dataset=name, label=spec.label, variables=variables, created=CREATED)
        back, meta = read_xpt(path, disable_datetime_conversion=True)
        formats = display_formats(path)
    assert formats == {v.name: v.display_format or "" for v in spec.variables}
    assert len(back) == len(frame)
    assert list(back.columns) == [v.name for v in spec.variables]
    assert meta.table_name == name and meta.file_label == spec.label
    assert meta.column_names_to_labels == {v.name: v.label for v in spec.variables}
    for v in spec.variables:
        got = back[v.name].tolist()
        if v.type == "Char":
            # SAS: a missing character value is blank, and trailing blanks are not data
            assert got == [("" if x is None else x).rstrip(" ") for x in frame[v.name]], v.name
        else:
            for g, w in zip(got, frame[v.name]):
                assert (math.isnan(g) and math.isnan(w)) or g == w, (v.name, g, w)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(DATASETS), st.sampled_from([math.inf, -math.inf, IBM_MAX * 2, 1e-80, -1e300]),
       st.integers(min_value=0, max_value=3))
def test_floats_outside_ibm_range_are_refused_naming_the_record(ds, bad, row):
    name, standard = ds
    spec = dataset(name, standard)
    num = next(v for v in spec.variables if v.type == "Num")
    frame = pd.DataFrame({v.name: pd.Series([None] * 4 if v.type == "Char" else [1.0] * 4,
                                            dtype=object if v.type == "Char" else "float64")
                          for v in spec.variables})
    frame.loc[row, num.name] = bad
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"{name.lower()}.xpt"
        with pytest.raises(XptError) as err:
            write_xpt(path, frame, dataset=name, label=spec.label, variables=xpt_variables(spec, frame), created=CREATED)
        assert not path.exists() and list(Path(folder).iterdir()) == []
    (p,) = err.value.problems
    assert (p.dataset, p.variable, p.record, p.rule) == (name, num.name, row + 1, "XPT-NUM-RANGE")


# --- ISO 8601 partial dates ----------------------------------------------------------------------

@st.composite
def date_parts(draw):
    """Components of a date SDTMIG 3.4 4.4.2 allows: right-truncated, or the day known without the month."""
    year = draw(st.integers(min_value=1, max_value=9999))
    form = draw(st.sampled_from(["Y", "YM", "YMD", "YMDhm", "YMDhms", "Y-D"]))
    parts = dict(year=year, month=None, day=None, hour=None, minute=None, second=None)
    if form == "Y-D":
        parts["day"] = draw(st.integers(min_value=1, max_value=31))
        return parts
    if form == "Y":
        return parts
    parts["month"] = draw(st.integers(min_value=1, max_value=12))
    if form == "YM":
        return parts
    parts["day"] = draw(st.integers(min_value=1, max_value=calendar.monthrange(year, parts["month"])[1]))
    if form.startswith("YMDh"):
        parts["hour"] = draw(st.integers(min_value=0, max_value=23))
        parts["minute"] = draw(st.integers(min_value=0, max_value=59))
        if form == "YMDhms":
            parts["second"] = draw(st.integers(min_value=0, max_value=59))
    return parts


@given(date_parts())
def test_format_then_parse_gives_the_parts_back(parts):
    text = format_partial(parts)
    assert text.isascii()
    assert parse_partial(text) == parts
    assert format_partial(parse_partial(text)) == text


@given(date_parts())
def test_date_bounds_enclose_every_day_the_date_can_denote(parts):
    lo, hi = date_bounds(format_partial(parts))
    assert lo <= hi
    if parts["month"] is not None and parts["day"] is not None:
        assert lo == hi == dt.date(parts["year"], parts["month"], parts["day"])
    else:
        assert lo.year == hi.year == parts["year"]


# text built from what dates are made of, plus look-alikes: other scripts' digits, whitespace
DATE_ALPHABET = list("0123456789-T:") + ["２", "٣", "\n", " ", "Z", "+"]


@given(st.text(alphabet=st.sampled_from(DATE_ALPHABET), max_size=22))
@example("2021-02-02")
@example("２０２１-０２-０２")  # full-width digits
@example("٢٠٢١-٠٢")  # Arabic-Indic digits
@example("2021-02-02\n")
@example("2021--")  # a trailing placeholder: refused (it would be written back as "2021")
@example("0000--")
def test_any_accepted_text_is_written_back_unchanged(text):
    """A value the source check accepts goes into --DTC as is, so it must be plain ISO 8601 text:
    parse_partial must refuse anything format_partial would not give back byte for byte."""
    try:
        parts = parse_partial(text)
    except ValueError:
        return
    assert format_partial(parts) == text


# --- study day -----------------------------------------------------------------------------------

days = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 12, 31))
times = st.one_of(st.just(""), st.times().map(lambda t: t.strftime("T%H:%M")))


@given(days, st.lists(st.tuples(days, times), min_size=1, max_size=30), times)
def test_study_day_is_never_zero_and_increases_with_the_date(ref, dates, ref_time):
    frame = pd.DataFrame({"RFSTDTC": [ref.isoformat() + ref_time] * len(dates),
                          "XXDTC": [d.isoformat() + t for d, t in dates]})
    dy = derive_study_day(frame, "XXDTC", "XXDY")["XXDY"].tolist()
    for (d, _), value in zip(dates, dy):
        assert value != 0
        assert value == (d - ref).days + (1 if d >= ref else 0)
    ordered = sorted(zip((d for d, _ in dates), dy))
    for (d1, y1), (d2, y2) in zip(ordered, ordered[1:]):
        assert (y1 < y2) if d1 < d2 else (y1 == y2)


@given(days, st.sampled_from(["2021", "2021-05", "2021---05", "", None]))
def test_study_day_of_a_partial_or_missing_date_is_missing(ref, value):
    frame = pd.DataFrame({"RFSTDTC": [ref.isoformat()], "XXDTC": [value]})
    (dy,) = derive_study_day(frame, "XXDTC", "XXDY")["XXDY"].tolist()
    assert math.isnan(dy)
