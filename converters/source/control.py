"""Control characters in the checked source, named by source file, row and field.

A control character (ESC, BEL, NUL, a line break inside a cell...) has no place in SDTM text: it
would be written into XPT text as is, and printed it drives the terminal (an ESC sequence retitles
it). Such a value is refused here, before mapping, as the problem points at the cell to correct.
"""
from __future__ import annotations

import re

import pandas as pd

from converters.problems import Problem
from converters.source.load import StudySource

RULE_CONTROL = "SRC-CONTROL"

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

_NAMES = {0: "NUL", 7: "BEL", 8: "BS", 9: "TAB", 10: "line feed", 13: "carriage return", 27: "ESC", 127: "DEL"}


def control_name(char: str) -> str:
    code = ord(char)
    return f"U+{code:04X}" + (f" ({_NAMES[code]})" if code in _NAMES else "")


def shown(text: str) -> str:
    """``text`` with each control character written as \\xNN, safe to print and to store."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def check_control(src: StudySource) -> list[Problem]:
    """An error for every text value of the checked records holding a control character."""
    problems: list[Problem] = []
    for form, frame in src.frames.items():
        file = src.config.sources[form].path
        rows = frame["_row"].to_numpy()
        for field in frame.columns:
            if field == "_row" or frame[field].dtype != object:
                continue
            codes, uniques = pd.factorize(frame[field].to_numpy(dtype=object))
            texts = [u for u in uniques if type(u) is str]
            if not CONTROL.search("".join(texts)):
                continue
            for code, text in enumerate(uniques):
                found = CONTROL.search(text) if type(text) is str else None
                if found:
                    message = (f"contains the control character {control_name(found.group())}, which SDTM text "
                               "and SAS transport files cannot hold: remove it from the source")
                    problems += [Problem(file, int(r), field, shown(text), RULE_CONTROL, message)
                                 for r in rows[codes == code]]
    return problems
