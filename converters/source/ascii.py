"""Non-ASCII text in the checked source, named by source file, row and field.

SAS transport v5 files hold ASCII only (FDA TCG 4.1.5). Finding such text here, before mapping,
lets the problem point at the cell to correct rather than at a record of a derived dataset, and
makes every change `--transliterate` makes a visible warning.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from converters.problems import WARNING, Problem
from converters.source.fields import field_rules
from converters.source.load import StudySource
from converters.xpt.columns import _transliterate as ascii_text
from schemas.source import FORMS
from specs import codelist_values

RULE_ASCII = "SRC-ASCII"
RULE_TRANSLITERATED = "SRC-TRANSLITERATED"


def _message(text: str, mapped: str | None, transliterate: bool) -> str:
    if transliterate:
        return (f"'{text}' has characters with no ASCII equivalent; SAS transport files hold ASCII only "
                "(FDA TCG 4.1.5): correct the source")
    fix = f"rerun with --transliterate to write '{mapped}'" if mapped is not None else \
        "no ASCII equivalent exists, so --transliterate cannot help"
    return f"'{text}' is not ASCII, which SAS transport files require (FDA TCG 4.1.5): {fix}, or correct the source"


def _ascii_by_contract(rule) -> bool:
    """True when the contract admits only ASCII values: dates, and fixed value lists that are ASCII."""
    if rule.kind != "str":
        return False
    allowed = set(rule.literals or ()) | {v for name in rule.codelists for v in codelist_values(name)}
    return rule.date is not None or (bool(allowed) and all(v.isascii() for v in allowed))


def _column_problems(file: str, field: str, rows: np.ndarray, values: np.ndarray, transliterate: bool
                     ) -> tuple[list[Problem], np.ndarray, dict[int, str]]:
    """Problems of one column, its value codes and, with ``transliterate``, {value code: ASCII text}."""
    codes, uniques = pd.factorize(values)
    texts = [u for u in uniques if type(u) is str]
    if "".join(texts).isascii():
        return [], codes, {}
    problems, mapping = [], {}
    for code, text in enumerate(uniques):
        if type(text) is not str or text.isascii():
            continue
        mapped = ascii_text(text)
        where = rows[codes == code]
        if transliterate and mapped is not None:
            mapping[code] = mapped
            problems += [Problem(file, int(r), field, text, RULE_TRANSLITERATED,
                                 f"'{text}' -> '{mapped}' (--transliterate)", WARNING) for r in where]
        else:
            message = _message(text, mapped, transliterate)
            problems += [Problem(file, int(r), field, text, RULE_ASCII, message) for r in where]
    return problems, codes, mapping


def check_ascii(src: StudySource, transliterate: bool) -> tuple[list[Problem], int]:
    """Every non-ASCII text value of the checked records: an error, or with ``transliterate`` a warning
    'before -> after' and the frame holding the ASCII text. Returns the problems and the number of
    values changed."""
    problems: list[Problem] = []
    changed = 0
    for form, frame in src.frames.items():
        file = src.config.sources[form].path
        rows = frame["_row"].to_numpy()
        checked = {r.name for r in field_rules(FORMS[form][0]) if not _ascii_by_contract(r)}
        for field in frame.columns:
            if field not in checked or frame[field].dtype != object:
                continue
            values = frame[field].to_numpy(dtype=object)
            found, codes, mapping = _column_problems(file, field, rows, values, transliterate)
            problems += found
            if mapping:
                values = values.copy()
                for code, text in mapping.items():
                    hit = codes == code
                    values[hit] = text
                    changed += int(hit.sum())
                frame[field] = values
    return problems, changed
