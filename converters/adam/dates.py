"""Dates for ADaM: ISO 8601 text -> datetime64 (with documented imputation), day arithmetic."""
from __future__ import annotations

import pandas as pd

from converters.sdtm.derive import date_bounds_series, to_date


def impute_first(dtc: pd.Series) -> pd.Series:
    """Complete dates as they are; partial dates to the first day they can denote (admiral
    `highest_imputation = "M"`, `date_imputation = "first"`)."""
    lo, _ = date_bounds_series(dtc.where(dtc.notna(), None))
    return to_date(dtc).fillna(lo)


def days_between(end: pd.Series, start: pd.Series) -> pd.Series:
    """end - start + 1 in days (the start day is day 1), float with NaN where either is missing."""
    return (pd.to_datetime(end) - pd.to_datetime(start)).dt.days.astype("float64") + 1
