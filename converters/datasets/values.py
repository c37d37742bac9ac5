"""Values as Dataset-JSON writes them: numbers, SAS dates/times as ISO 8601 text, exact decimals.

Each function works on one distinct value; callers encode each distinct value of a column once.
"""
from __future__ import annotations

import datetime as dt
import math

from .model import DatasetError

SAS_EPOCH = dt.date(1960, 1, 1)
_SAS_EPOCH_DT = dt.datetime(1960, 1, 1)
_EXACT_INT = 2 ** 53


def number_text(value: float, integer: bool) -> str:
    """Shortest text that reads back as the same float64; whole values of integer columns without
    '.0'. Negative zero keeps its sign ('-0' would read back as integer 0)."""
    if math.isinf(value):
        raise DatasetError(f"infinite value {value!r} has no JSON form")
    if integer and value.is_integer() and abs(value) < _EXACT_INT and not (value == 0 and math.copysign(1, value) < 0):
        return str(int(value))
    return repr(value)


def decimal_text(value: float) -> str:
    """A decimal exchanged as a string: the shortest digits that read back as the same float64,
    in positional notation ('.' as separator, no exponent)."""
    if math.isinf(value):
        raise DatasetError(f"infinite value {value!r} has no decimal form")
    text = repr(value)
    if "e" in text or "E" in text:
        text = format(value, "f") if abs(value) >= 1 else _positional_small(value)
    return text[:-2] if text.endswith(".0") else text


def _positional_small(value: float) -> str:
    mantissa, exponent = repr(value).lower().split("e")
    sign = "-" if mantissa.startswith("-") else ""
    digits = mantissa.lstrip("-").replace(".", "")
    return f"{sign}0.{'0' * (-int(exponent) - 1)}{digits}"


def sas_date_text(days: float) -> str:
    if not days.is_integer():
        raise DatasetError(f"SAS date {days!r} is not a whole number of days")
    return (SAS_EPOCH + dt.timedelta(days=int(days))).isoformat()


def sas_datetime_text(seconds: float) -> str:
    whole = math.floor(seconds)
    moment = _SAS_EPOCH_DT + dt.timedelta(seconds=whole)
    text = moment.isoformat(timespec="seconds")
    if seconds != whole:
        fraction = repr(seconds - whole)  # 0.xxx
        text += fraction[1:] if fraction.startswith("0.") and "e" not in fraction else ""
        if sas_datetime_value(text) != seconds:
            raise DatasetError(f"SAS datetime {seconds!r} has no exact ISO 8601 form")
    return text


def sas_time_text(seconds: float) -> str:
    if not 0 <= seconds < 86400 or not seconds.is_integer():
        raise DatasetError(f"SAS time {seconds!r} is not a whole second of one day")
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def sas_date_value(text: str) -> float:
    try:
        return float((dt.date.fromisoformat(text[:10]) - SAS_EPOCH).days) if len(text) == 10 else _bad(text, "date")
    except ValueError:
        return _bad(text, "date")


def sas_datetime_value(text: str) -> float:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return _bad(text, "datetime")
    delta = moment.replace(tzinfo=None) - _SAS_EPOCH_DT
    whole = delta.days * 86400 + delta.seconds
    if "." not in text:
        return float(whole)
    return whole + float("0" + text[text.index("."):].rstrip("Z").split("+")[0].split("-")[0])


def sas_time_value(text: str) -> float:
    try:
        t = dt.time.fromisoformat(text)
    except ValueError:
        return _bad(text, "time")
    return float(t.hour * 3600 + t.minute * 60 + t.second)


def _bad(text: str, kind: str) -> float:
    raise DatasetError(f"{text!r} is not an ISO 8601 {kind}")


def iso_moment(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds" if not moment.microsecond else "milliseconds")


def parse_moment(text: str) -> dt.datetime:
    """A Dataset-JSON date/time attribute as a naive datetime (as written, offset dropped)."""
    try:
        return dt.datetime.fromisoformat(text).replace(tzinfo=None)
    except (TypeError, ValueError):
        raise DatasetError(f"{text!r} is not an ISO 8601 datetime") from None
