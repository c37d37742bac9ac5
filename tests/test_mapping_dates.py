"""Raw EDC dates and times -> ISO 8601 as SDTM keeps them (converters.mapping.raw_dates)."""
from __future__ import annotations

import datetime as dt
import doctest
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import converters.mapping.raw_dates as raw_dates
import converters.mapping.result as result
from converters.mapping import as_problems
from converters.mapping.raw_dates import (DATE_LAYOUTS, TIME_LAYOUTS, assign_datetime, date_formats,
                                          time_formats)
from converters.problems import ERROR, WARNING
from schemas.dates import date_bounds, parse_partial

PILOT = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "pharmaverse"
needs_pilot = pytest.mark.skipif(not (PILOT / "raw" / "ae_raw.csv").exists(),
                                 reason="../shared pharmaverse pilot data absent")


def one(value, fmt, time=None, time_fmt=None):
    """(ISO value, [(rule, severity)]) for a single raw value."""
    r = assign_datetime(pd.Series([value], name="DAT"), fmt,
                        None if time is None else pd.Series([time], name="TIM"), time_fmt)
    return r.values.iloc[0], [(f.rule, f.severity) for f in r.findings]


def test_module_examples_hold():
    assert doctest.testmod(raw_dates).failed == 0
    assert doctest.testmod(result).failed == 0


@pytest.mark.parametrize("value, fmt, iso", [
    ("2021-04-09", "yyyy-mm-dd", "2021-04-09"),
    ("04/09/2021", "mm/dd/yyyy", "2021-04-09"),
    ("4/9/2021", "mm/dd/yyyy", "2021-04-09"),
    ("09/04/2021", "dd/mm/yyyy", "2021-04-09"),
    ("04-09-2021", "mm-dd-yyyy", "2021-04-09"),
    ("04/2021", "mm/yyyy", "2021-04"),
    ("2021", "yyyy", "2021"),
    ("09-Apr-2021", "dd-MMM-yyyy", "2021-04-09"),
    ("14MAY2021", "ddMMMyyyy", "2021-05-14"),
    ("14may2021", "ddMMMyyyy", "2021-05-14"),
    ("9 apr 2021", "dd MMM yyyy", "2021-04-09"),
    ("  09-APR-2021 ", "dd-MMM-yyyy", "2021-04-09"),
    ("29/02/2024", "dd/mm/yyyy", "2024-02-29"),
])
def test_each_declared_format_reads_complete_dates(value, fmt, iso):
    assert one(value, fmt) == (iso, [])


@pytest.mark.parametrize("value, fmt, iso", [
    ("UN-MAR-2014", "dd-MMM-yyyy", "2014-03"),
    ("un-mar-2014", "dd-MMM-yyyy", "2014-03"),
    ("--MAR-2014", "dd-MMM-yyyy", "2014-03"),
    ("UNK-UNK-2014", "dd-MMM-yyyy", "2014"),
    ("UNMAR2014", "ddMMMyyyy", "2014-03"),
    ("UKUNK2014", "ddMMMyyyy", "2014"),
    ("UNK/UNK/2014", "dd/mm/yyyy", "2014"),
    ("uk/03/2014", "dd/mm/yyyy", "2014-03"),
    ("-/-/2014", "mm/dd/yyyy", "2014"),
    ("//2014", "mm/dd/yyyy", "2014"),
    ("03/UN/2014", "mm/dd/yyyy", "2014-03"),
    ("UN/2014", "mm/yyyy", "2014"),
    ("2014-UN-UN", "yyyy-mm-dd", "2014"),
    ("2014-03", "yyyy-mm-dd", "2014-03"),
    ("2014", "yyyy-mm-dd", "2014"),
    ("UN MAR 2014", "dd MMM yyyy", "2014-03"),
])
def test_unknown_parts_right_truncate(value, fmt, iso):
    assert one(value, fmt) == (iso, [])


@pytest.mark.parametrize("value, fmt", [
    ("15/UN/2014", "dd/mm/yyyy"), ("UNK/15/2014", "mm/dd/yyyy"), ("15-UNK-2014", "dd-MMM-yyyy"),
    ("2014-UN-15", "yyyy-mm-dd"), ("2014---15", "yyyy-mm-dd"), ("15UN2014", "ddMMMyyyy"),
])
def test_unknown_month_before_a_known_day_keeps_the_day(value, fmt):
    iso, found = one(value, fmt)
    assert (iso, found) == ("2014---15", [])
    assert parse_partial(iso)["day"] == 15 and date_bounds(iso) == (dt.date(2014, 1, 15), dt.date(2014, 12, 15))


@pytest.mark.parametrize("value, fmt", [("UNK/UNK/UNK", "dd/mm/yyyy"), ("--/--/----", "mm/dd/yyyy"),
                                        ("UNK", "yyyy"), ("", "dd-MMM-yyyy"), ("   ", "yyyy")])
def test_nothing_known_is_not_collected(value, fmt):
    assert one(value, fmt) == ("", [])


def test_missing_values_are_not_collected():
    r = assign_datetime(pd.Series([None, np.nan, "2021"], name="DAT"), "yyyy")
    assert list(r.values) == ["", "", "2021"] and r.findings == () and r.ok


@pytest.mark.parametrize("value, fmt, rule", [
    ("31/02/2021", "dd/mm/yyyy", "MAP-DATE-CALENDAR"),
    ("29/02/2023", "dd/mm/yyyy", "MAP-DATE-CALENDAR"),
    ("13/2021", "mm/yyyy", "MAP-DATE-CALENDAR"),
    ("32/UN/2021", "dd/mm/yyyy", "MAP-DATE-CALENDAR"),
    ("2021-02-30", "yyyy-mm-dd", "MAP-DATE-CALENDAR"),
    ("0000", "yyyy", "MAP-DATE-CALENDAR"),
    ("2021/04/09", "dd/mm/yyyy", "MAP-DATE-FORMAT"),
    ("09-04-2021", "dd-MMM-yyyy", "MAP-DATE-FORMAT"),
    ("09-Avr-2021", "dd-MMM-yyyy", "MAP-DATE-FORMAT"),
    ("2021-4-9", "yyyy-mm-dd", "MAP-DATE-FORMAT"),
    ("2021-04-09T10:00", "yyyy-mm-dd", "MAP-DATE-FORMAT"),
    ("21", "yyyy", "MAP-DATE-FORMAT"),
    ("２０２１", "yyyy", "MAP-DATE-FORMAT"),  # fullwidth digits are not ASCII digits
    ("15/03/UNK", "dd/mm/yyyy", "MAP-DATE-YEAR-UNKNOWN"),
])
def test_values_that_do_not_map_are_reported_not_emptied_silently(value, fmt, rule):
    r = assign_datetime(pd.Series(["2021", value], name="AESTDAT"), [fmt, "yyyy"] if fmt != "yyyy" else fmt)
    assert list(r.values) == ["2021", ""]
    (f,) = r.findings
    assert (f.position, f.field, f.value, f.rule, f.severity) == (1, "AESTDAT", value, rule, ERROR)
    assert not r.ok


def test_calendar_message_names_the_layout_and_the_impossible_day():
    r = assign_datetime(pd.Series(["31/02/2021"]), "dd/mm/yyyy")
    assert r.findings[0].message == "read as dd/mm/yyyy, 2021-02-31 is not a calendar date"


def test_a_value_must_read_the_same_under_every_format_it_fits():
    r = assign_datetime(pd.Series(["03/04/2014", "13/04/2014", "04/13/2014", "2014"], name="D"),
                        ["mm/dd/yyyy", "dd/mm/yyyy", "yyyy"])
    assert list(r.values) == ["", "2014-04-13", "2014-04-13", "2014"]
    (f,) = r.findings
    assert (f.position, f.rule) == (0, "MAP-DATE-AMBIGUOUS")
    assert "2014-03-04 as mm/dd/yyyy" in f.message and "2014-04-03 as dd/mm/yyyy" in f.message


def test_formats_that_agree_are_not_ambiguous():
    assert one("2014", ["yyyy-mm-dd", "yyyy"]) == ("2014", [])
    assert one("05/05/2014", ["mm/dd/yyyy", "dd/mm/yyyy"]) == ("2014-05-05", [])


def test_unknown_format_names_are_refused_with_the_choices():
    with pytest.raises(ValueError, match=r"unknown date format 'dd.mm.yyyy' \(allowed: yyyy-mm-dd, mm/dd/yyyy"):
        date_formats(["dd.mm.yyyy"])
    with pytest.raises(ValueError, match="allowed: HH:nn, HH:nn:ss"):
        time_formats("hh:mm")
    with pytest.raises(ValueError, match="declared twice"):
        date_formats(["yyyy", "yyyy"])
    with pytest.raises(ValueError, match="no date format declared"):
        date_formats([])
    with pytest.raises(ValueError, match="unknown date format"):
        assign_datetime(pd.Series(["2021"]), "YYYY")
    assert set(DATE_LAYOUTS) == {"yyyy-mm-dd", "mm/dd/yyyy", "dd/mm/yyyy", "mm-dd-yyyy", "mm/yyyy", "yyyy",
                                 "dd-MMM-yyyy", "ddMMMyyyy", "dd MMM yyyy"}
    assert set(TIME_LAYOUTS) == {"HH:nn", "HH:nn:ss"}


# --- times ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("date, time, time_fmt, iso, found", [
    ("09APR2021", "14:30", "HH:nn", "2021-04-09T14:30", []),
    ("09APR2021", "9:05", "HH:nn", "2021-04-09T09:05", []),
    ("09APR2021", "14:30:15", "HH:nn:ss", "2021-04-09T14:30:15", []),
    ("09APR2021", "14:30:UN", "HH:nn:ss", "2021-04-09T14:30", []),
    ("09APR2021", "", "HH:nn", "2021-04-09", []),
    ("09APR2021", "UN:UN", "HH:nn", "2021-04-09", []),
    ("09APR2021", "14:UN", "HH:nn", "2021-04-09", [("MAP-TIME-NOT-KEPT", WARNING)]),
    ("UNAPR2021", "14:30", "HH:nn", "2021-04", [("MAP-TIME-NOT-KEPT", WARNING)]),
    ("UNUNK2021", "14:30", "HH:nn", "2021", [("MAP-TIME-NOT-KEPT", WARNING)]),
    ("", "14:30", "HH:nn", "", [("MAP-TIME-NO-DATE", ERROR)]),
    ("UNUNKUNK", "14:30", "HH:nn", "", [("MAP-TIME-NO-DATE", ERROR)]),
    ("09APR2021", "25:00", "HH:nn", "", [("MAP-TIME-INVALID", ERROR)]),
    ("09APR2021", "10:60", "HH:nn", "", [("MAP-TIME-INVALID", ERROR)]),
    ("09APR2021", "2:30 PM", "HH:nn", "", [("MAP-TIME-FORMAT", ERROR)]),
    ("09APR2021", "14:30:15", "HH:nn", "", [("MAP-TIME-FORMAT", ERROR)]),
    ("31FEB2021", "14:30", "HH:nn", "", [("MAP-DATE-CALENDAR", ERROR)]),
    ("31FEB2021", "99:99", "HH:nn", "", [("MAP-DATE-CALENDAR", ERROR), ("MAP-TIME-INVALID", ERROR)]),
])
def test_time_joins_a_complete_date_only(date, time, time_fmt, iso, found):
    assert one(date, "ddMMMyyyy", time, time_fmt) == (iso, found)


def test_time_findings_name_the_time_column():
    r = assign_datetime(pd.Series(["", "UNAPR2021"], name="DSDAT"), "ddMMMyyyy",
                        pd.Series(["10:00", "11:00"], name="DSTIM"), "HH:nn")
    assert [(f.position, f.field, f.value, f.rule) for f in r.findings] == [
        (0, "DSTIM", "10:00", "MAP-TIME-NO-DATE"), (1, "DSTIM", "11:00", "MAP-TIME-NOT-KEPT")]
    assert "partial" in r.findings[1].message and not r.ok


def test_time_declarations_must_come_with_their_column():
    with pytest.raises(ValueError, match="no time column"):
        assign_datetime(pd.Series(["2021"]), "yyyy", time_format="HH:nn")
    with pytest.raises(ValueError, match="needs its declared time format"):
        assign_datetime(pd.Series(["2021"]), "yyyy", pd.Series(["10:00"]))
    with pytest.raises(ValueError, match="differ in length"):
        assign_datetime(pd.Series(["2021"]), "yyyy", pd.Series(["10:00", "11:00"]), "HH:nn")


# --- vectorised ----------------------------------------------------------------------------------------

def test_index_is_kept_and_each_bad_row_is_reported_in_order():
    dates = pd.Series(["01/02/2021", "31/02/2021", "x", "31/02/2021", "01/02/2021"], index=[10, 11, 12, 13, 14],
                      name="D")
    r = assign_datetime(dates, "dd/mm/yyyy")
    assert list(r.values.index) == [10, 11, 12, 13, 14]
    assert list(r.values) == ["2021-02-01", "", "", "", "2021-02-01"]
    assert [(f.position, f.value, f.rule) for f in r.findings] == [
        (1, "31/02/2021", "MAP-DATE-CALENDAR"), (2, "x", "MAP-DATE-FORMAT"), (3, "31/02/2021", "MAP-DATE-CALENDAR")]
    problems = as_problems(r.findings, "ae.csv", [n + 2 for n in range(len(dates))])
    assert [(p.file, p.row, p.field, p.value, p.rule) for p in problems] == [
        ("ae.csv", 3, "D", "31/02/2021", "MAP-DATE-CALENDAR"), ("ae.csv", 4, "D", "x", "MAP-DATE-FORMAT"),
        ("ae.csv", 5, "D", "31/02/2021", "MAP-DATE-CALENDAR")]


def test_each_distinct_value_is_read_once(monkeypatch):
    calls = Counter()
    real = raw_dates._date

    def counting(text, layouts):
        calls[text] += 1
        return real(text, layouts)

    monkeypatch.setattr(raw_dates, "_date", counting)
    rng = np.random.default_rng(1)
    days = np.array([f"{d:02d}-MAR-2021" for d in range(1, 32)] + ["UN-MAR-2021", "30-FEB-2021"], dtype=object)
    dates = pd.Series(rng.choice(days, 200_000), name="D")
    times = pd.Series(rng.choice(np.array(["08:00", "12:30", ""], dtype=object), 200_000), name="T")
    r = assign_datetime(dates, "dd-MMM-yyyy", times, "HH:nn")
    assert set(calls.values()) == {1} and len(calls) == len(days)
    expected = [("" if d == "30-FEB-2021" else "2021-03" if d.startswith("UN") else
                 f"2021-03-{d[:2]}" + (f"T{t}" if t else "")) for d, t in zip(dates, times)]
    assert r.values.tolist() == expected
    bad = (dates == "30-FEB-2021").to_numpy()
    assert [f.position for f in r.findings if f.rule == "MAP-DATE-CALENDAR"] == np.flatnonzero(bad).tolist()
    partial = ((dates == "UN-MAR-2021") & (times != "")).to_numpy()
    assert [f.position for f in r.findings if f.rule == "MAP-TIME-NOT-KEPT"] == np.flatnonzero(partial).tolist()


_WRITE = {  # how each layout writes a complete date, for the round trip below
    "yyyy-mm-dd": lambda d: d.isoformat(), "mm/dd/yyyy": lambda d: d.strftime("%m/%d/%Y"),
    "dd/mm/yyyy": lambda d: d.strftime("%d/%m/%Y"), "mm-dd-yyyy": lambda d: d.strftime("%m-%d-%Y"),
    "dd-MMM-yyyy": lambda d: d.strftime("%d-%b-%Y"), "ddMMMyyyy": lambda d: d.strftime("%d%b%Y").upper(),
    "dd MMM yyyy": lambda d: d.strftime("%d %b %Y").lower(),
}


@settings(max_examples=300, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)), st.sampled_from(sorted(_WRITE)),
       st.sampled_from(["", "UN", "unk", "Uk", "--", "-"]))
def test_round_trip_of_any_date_and_of_it_with_the_leading_part_unknown(day, layout, unknown):
    text = _WRITE[layout](day)
    assert one(text, layout) == (day.isoformat(), [])
    if layout.startswith("dd"):  # unknown day: right-truncated to the month
        assert one(unknown + text[2:], layout) == (day.isoformat()[:7], [])
    elif layout.startswith("mm"):  # unknown month before a known day: the hyphen form
        assert one(unknown + text[2:], layout) == (f"{day.year:04d}---{day.day:02d}", [])


# --- the CDISC pilot's raw dates against its SDTM -----------------------------------------------------

def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(PILOT / name, dtype=str, keep_default_na=False)


@needs_pilot
def test_pilot_adverse_event_start_dates():
    raw, sdtm = _csv("raw/ae_raw.csv"), _csv("sdtm/ae.csv")
    r = assign_datetime(raw["IT.AESTDAT"], ["mm/dd/yyyy", "mm/yyyy", "yyyy"])
    assert r.findings == ()
    # 15 SDTM start dates are YYYY-MM where the raw form holds nothing: no raw source to map from
    assert Counter(r.values[r.values != ""]) == Counter(sdtm["AESTDTC"][sdtm["AESTDTC"].str.len() != 7])
    assert Counter(assign_datetime(raw["AEDTCOL"], "mm/dd/yyyy").values) == Counter(sdtm["AEDTC"])


@needs_pilot
def test_pilot_disposition_date_and_time_join():
    raw, sdtm = _csv("raw/ds_raw.csv"), _csv("sdtm/ds.csv")
    r = assign_datetime(raw["DSDTCOL"], "mm-dd-yyyy", raw["DSTMCOL"], "HH:nn")
    assert r.findings == ()
    assert (r.values.str.len() == 16).sum() == 251  # 2014-01-02T11:45
    assert Counter(r.values) == Counter(sdtm["DSDTC"])
    assert Counter(assign_datetime(raw["IT.DSSTDAT"], "mm-dd-yyyy").values) == Counter(sdtm["DSSTDTC"])


@needs_pilot
def test_pilot_exposure_and_vital_signs_dates():
    ec, ex = _csv("raw/ec_raw.csv"), _csv("sdtm/ex.csv")
    assert Counter(assign_datetime(ec["IT.ECSTDAT"], "dd-MMM-yyyy").values) == Counter(ex["EXSTDTC"])
    assert Counter(assign_datetime(ec["IT.ECENDAT"], "dd-MMM-yyyy").values) == Counter(ex["EXENDTC"])
    vs = _csv("raw/vs_raw.csv")
    r = assign_datetime(vs["VTLD"], "dd-MMM-yyyy")
    assert r.findings == () and set(r.values) <= set(_csv("sdtm/vs.csv")["VSDTC"])
