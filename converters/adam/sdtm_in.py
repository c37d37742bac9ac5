"""Read an SDTM folder (any tool's) into frames: upper-case names, blanks as missing."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat

REQUIRED = ("DM", "EX", "RS", "TS")


class SdtmInputError(Exception):
    """The SDTM folder lacks a dataset or variable the ADaM derivations need."""


def read_sdtm(folder: Path) -> dict[str, pd.DataFrame]:
    frames = {}
    for path in sorted(Path(folder).glob("*.xpt")):
        try:
            df, _ = pyreadstat.read_xport(str(path), encoding="latin1")
        except Exception as exc:  # pyreadstat raises its own error types
            raise SdtmInputError(f"{path.name}: not a readable SAS transport file ({exc})") from None
        df.columns = [c.upper() for c in df.columns]
        for col in df.columns:
            if df[col].dtype == object or pd.api.types.is_string_dtype(df[col]):
                df[col] = df[col].astype(object).where(df[col].astype(object).ne(""), None)
        frames[path.stem.upper()] = df
    missing = [d for d in REQUIRED if d not in frames]
    if missing:
        raise SdtmInputError(f"{folder}: missing SDTM dataset(s) {', '.join(missing)} (need {', '.join(REQUIRED)})")
    return frames
