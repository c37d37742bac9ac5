"""A folder of XPT files as a read-only mapping {DATASET: frame}, each file read on first use."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pandas as pd


class LazyDatasets(Mapping):
    """Reading only what is used matters at scale: ADaM needs DM, EX, RS, TS and SUPPDM, the survival
    report ADSL and ADTTE; decoding AE or ADRS as well would double the reading time."""

    def __init__(self, paths: dict[str, Path], reader: Callable[[Path], pd.DataFrame]):
        self._paths, self._reader, self._frames = paths, reader, {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in self._frames:
            self._frames[name] = self._reader(self._paths[name])
        return self._frames[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)
