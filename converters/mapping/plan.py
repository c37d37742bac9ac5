"""``cdisc convert --plan``: what a mapping spec will do, as text, without reading data or writing anything."""
from __future__ import annotations

from converters.mapping.engine import AUTOMATIC, expected_unmapped
from converters.mapping.spec import (AssignCt, AssignDatetime, AssignNoCt, HardcodeCt, HardcodeNoCt, IfElse,
                                     MappingSpec)
from converters.mapping.verbs import VERBS

SHOWN_RECODINGS = 3


def _recodings(term_map: dict[str, str]) -> str:
    shown = ", ".join(f"{k} -> {v}" for k, v in list(term_map.items())[:SHOWN_RECODINGS])
    more = len(term_map) - SHOWN_RECODINGS
    return f" ({shown}{f', and {more} more' if more > 0 else ''})" if term_map else ""


def _condition(when) -> str:
    return when if isinstance(when, str) else f"{when.column} {when.op} {when.value or ''}".rstrip()


def _source(case) -> str:
    if case.column is None:
        return repr(case.value)
    return f"{case.column} (upper case)" if case.upper else case.column


def describe(alg, spec: MappingSpec, form) -> str:
    """One line: the raw column(s) and the algorithm, with the recodings that will apply."""
    if isinstance(alg, AssignCt):
        return f"{alg.column}  assign_ct {alg.codelist}{_recodings(alg.term_map)}"
    if isinstance(alg, AssignNoCt):
        extra = [w for w, on in (("upper case", alg.upper), (f"extract {alg.extract}", alg.extract),
                                 ("leading zeros dropped", alg.numeric)) if on]
        return f"{alg.column}  assign_no_ct{_recodings(alg.term_map)}{'; ' + ', '.join(extra) if extra else ''}"
    if isinstance(alg, HardcodeCt):
        return f"\"{alg.value}\"  hardcode_ct {alg.codelist}"
    if isinstance(alg, HardcodeNoCt):
        return f"\"{alg.value}\"  hardcode_no_ct"
    if isinstance(alg, AssignDatetime):
        cols = form.columns
        time = f" + {alg.time} ({', '.join(cols[alg.time].formats)})" if alg.time else ""
        return f"{alg.column} ({', '.join(cols[alg.column].formats)}){time}  assign_datetime -> ISO 8601"
    if isinstance(alg, IfElse):
        cases = "; ".join(f"if {_condition(c.when)} then {_source(c)}" for c in alg.cases)
        other = _source(alg.otherwise) if (alg.otherwise.column or alg.otherwise.value) else "null"
        return f"if_else: {cases}; else {other}"
    args = ", ".join(f"{k}={v}" for k, v in alg.args.items())
    return f"derive {alg.verb}({args}): {VERBS[alg.verb].what if alg.verb in VERBS else 'unknown verb'}"


def plan_text(spec: MappingSpec) -> str:
    lines = [f"study {spec.study.studyid}: USUBJID = {spec.study.usubjid}"]
    missing = expected_unmapped(spec)
    for name, d in spec.domains.items():
        form = spec.forms[d.form]
        lines.append(f"\n{d.form} -> {name}  ({form.file})")
        lines.append(f"  {', '.join(AUTOMATIC)}: study.studyid, the domain name, study.usubjid")
        for t in d.tests:
            unit = (f" {t.unit}" if t.unit else "") + (f" -> {t.std_unit} (x + {t.offset:g}) * {t.factor:g}"
                                                      if t.std_unit else "")
            unit += f"; category {t.category}" if t.category else ""
            unit += "; recoded " + ", ".join(f"{k} -> {v}" for k, v in t.term_map.items()) if t.term_map else ""
            unit += f"; method <- {t.method}" if t.method else ""
            planned = f"; NOT DONE when blank and {_condition(t.when)}" if t.when is not None else ""
            lines.append(f"  test {t.testcd} ({t.test}) <- {t.column}{unit}{planned}")
        for var, alg in d.variables.items():
            lines.append(f"  {var} <- {describe(alg, spec, form)}")
        for qnam, q in d.supp.items():
            lines.append(f"  SUPP{name}.{qnam} ({q.label}) <- {describe(q.value, spec, form)}")
        for var in missing.get(name, []):
            lines.append(f"  {var}: Expected, no source: null")
        for col, why in form.not_submitted.items():
            lines.append(f"  not submitted: {col} ({why})")
    return "\n".join(lines)
