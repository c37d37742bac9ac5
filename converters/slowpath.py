"""CDISC_SLOW_PATH=1 runs the record-by-record and element-wise reference implementations that the
fast paths (column-wise checks, dictionary-encoded mapping) are tested against."""
from __future__ import annotations

import os

ENV = "CDISC_SLOW_PATH"


def slow_path() -> bool:
    return os.environ.get(ENV, "") in ("1", "true", "yes")
