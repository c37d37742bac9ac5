"""ISO 8601 date/time text as SDTM stores it (SDTMIG 3.4 section 4.4), checked on unique values."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

# Complete or right-truncated, with "-" for an unknown middle component (SDTMIG 3.4 4.4.2, e.g. 2003---15).
_DTC = re.compile(r"(\d{4}|-)(-(\d{2}|-)(-(\d{2}|-))?)?(T(\d{2}|-)(:(\d{2}|-)(:(\d{2})(\.\d+)?)?)?)?")
_DUR = re.compile(r"-?P(?=\d|T\d)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                  r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?")


def iso_problem(text: str) -> str:
    """'' when `text` is a valid ISO 8601 SDTM date/time (or interval/duration), else why not."""
    if "/" in text:  # an interval: both ends checked (a duration may stand for one end)
        parts = text.split("/")
        if len(parts) != 2:
            return "more than one '/'"
        return next((p for p in (_one(x, allow_duration=True) for x in parts) if p), "")
    return _one(text, allow_duration=False)


def _one(text: str, allow_duration: bool) -> str:
    if allow_duration and _DUR.fullmatch(text):
        return ""
    m = _DTC.fullmatch(text)
    if not m or text.strip("-T:") == "":
        return "not ISO 8601"
    year, month, day = m.group(1), m.group(3), m.group(5)
    hour, minute, second = m.group(7), m.group(9), m.group(11)
    if [c for c in (year, month, day, hour, minute, second) if c][-1] == "-":
        return "'-' placeholder with no known component after it (right-truncate instead)"
    if month and month != "-" and not 1 <= int(month) <= 12:
        return "impossible month"
    if day and day != "-":
        if month in (None, "-") or year == "-":
            lim = 31
        else:
            lim = pd.Period(f"{year}-{month}").days_in_month
        if not 1 <= int(day) <= lim:
            return "impossible day"
    if hour and hour != "-" and int(hour) > 23:
        return "impossible hour"
    if minute and minute != "-" and int(minute) > 59:
        return "impossible minute"
    if second and int(second) > 59:
        return "impossible second"
    return ""


def _per_value(s: pd.Series, fn) -> pd.Series:
    """fn applied to each distinct value only (dates repeat a lot in large datasets)."""
    codes, uniq = pd.factorize(s.to_numpy(dtype=object), use_na_sentinel=False)
    return pd.Series(fn(pd.Series(uniq, dtype=object)).to_numpy()[codes], index=s.index)


def full_dates(s: pd.Series) -> pd.Series:
    """The date part as datetime64 when it is complete (YYYY-MM-DD), else NaT."""
    def parse(u: pd.Series) -> pd.Series:
        head = u.map(lambda v: v[:10] if isinstance(v, str) and len(v) >= 10 else "")
        return pd.to_datetime(head, format="%Y-%m-%d", errors="coerce")
    return _per_value(s, parse).astype("datetime64[ns]")


def hhmm(s: pd.Series) -> pd.Series:
    """'HH:MM' of a date/time value, else ''."""
    return _per_value(s, lambda u: u.map(lambda v: v[11:16] if isinstance(v, str) and len(v) >= 16 else ""))


def study_day(dates: pd.Series, ref: pd.Series) -> pd.Series:
    """SDTMIG 3.4 4.4.4: date - RFSTDTC + 1 on or after RFSTDTC, else date - RFSTDTC (no day 0)."""
    delta = (dates - ref).dt.days.astype("float64")
    return pd.Series(np.where(delta >= 0, delta + 1, delta), index=dates.index)
