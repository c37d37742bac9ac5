"""The generic raw-to-SDTM engine: any domain of the specs in force, mapped as the mapping spec says.

Order of work: the spec is checked against the SDTM specs, the CT and the verbs (``check_spec``);
every raw form is read and checked (``converters.mapping.forms``); then each domain is built from
its form (the raw-phase algorithms, and one record per test for a wide findings form), DM's subject
verbs run on the mapped domains, every domain's record verbs run against DM, and SUPP-- datasets
are built from the declared qualifiers. Any error stops the run before anything is written.
"""
from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from pydantic import ValidationError

import specs
from converters.mapping.forms import RawForm, per_distinct, read_form, stripped
from converters.mapping.raw_dates import assign_datetime
from converters.mapping.result import as_problems
from converters.mapping.spec import (AssignCt, AssignDatetime, AssignNoCt, Derive, Domain, HardcodeCt, HardcodeNoCt,
                                     IfElse, MappingSpec, MappingSpecError, FindingsTest)
from converters.mapping.terms import assign_ct, normalized, term_lookup
from converters.mapping.verbs import VERBS, holds, present, sequence_number
from converters.problems import Problem, has_errors
from converters.sdtm.supp import idvar_values
from converters.sdtm.derive import sort_rows
from converters.sdtm.ts import derived_value, ts_records

AUTOMATIC = ("STUDYID", "DOMAIN", "USUBJID")  # filled for every domain unless the spec says otherwise
SUPP_ORDER = ("STUDYID", "RDOMAIN", "USUBJID", "IDVAR", "IDVARVAL", "QNAM", "QLABEL", "QVAL", "QORIG", "QEVAL")
_LEADING_ZEROS = re.compile(r"^(-?)0+(?=\d)")


@dataclass
class MappedStudy:
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # SDTM datasets, SUPP-- included
    problems: list[Problem] = field(default_factory=list)
    forms: dict[str, RawForm] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # dataset -> form it was made from


# --- checking the spec against the SDTM specs, CT and verbs ---------------------------------------------

def template_columns(template: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(template) if name]


def _algorithms(domain: Domain):
    """(key, algorithm) of every variable and qualifier of a domain."""
    for var, alg in domain.variables.items():
        yield f"variables.{var}", var, alg
    for qnam, q in domain.supp.items():
        yield f"supp.{qnam}.value", qnam, q.value


def check_spec(spec: MappingSpec) -> list[tuple[str, str]]:
    """(key, message) for every reference of the spec that does not resolve; empty when it is sound."""
    out: list[tuple[str, str]] = [(f"study.{k}", "still a TODO of `cdisc spec init`: fill it in")
                                  for k in ("studyid", "usubjid") if "TODO" in getattr(spec.study, k)]
    if "DM" not in spec.domains:
        out.append(("domains", "DM is required: every SDTM package has it, and the reference dates come from it"))
    known = specs.datasets()
    used: dict[str, set[str]] = {f: set(template_columns(spec.study.usubjid)) for f in spec.forms}
    for f, form in spec.forms.items():
        out += [(f"forms.{f}.keys", f"{k} is not declared in forms.{f}.columns") for k in form.keys if k not in form.columns]
        missing = [c for c in template_columns(spec.study.usubjid) if c not in form.columns]
        if missing:
            out.append((f"forms.{f}.columns", f"{', '.join(missing)} (named by study.usubjid) not declared"))
    for name, d in spec.domains.items():
        where = f"domains.{name}"
        if name not in known or name.startswith("SUPP"):
            out.append((where, f"not a domain of the SDTM specs in force (allowed: "
                               f"{', '.join(n for n in known if not n.startswith('SUPP'))})"))
            continue
        names = known[name].names
        form = spec.forms[d.form]
        if d.supp and f"SUPP{name}" not in known:
            out.append((f"{where}.supp", f"SUPP{name} is not a dataset of the SDTM specs in force"))
        for test in d.tests:
            for col in test.columns():
                used[d.form].add(col)
                if col not in form.columns:
                    out.append((f"{where}.tests.{test.testcd}", f"column {col} is not declared in forms.{d.form}"))
        for key, var, alg in _algorithms(d):
            if key.startswith("variables.") and var not in names:
                out.append((f"{where}.{key}", f"unknown variable {var} of {name} (variables: {', '.join(names)})"))
            cols = alg.columns()
            verb_problems = _check_verb(alg, spec, name) if isinstance(alg, Derive) else []
            if isinstance(alg, Derive) and alg.verb == "collected_date":
                cols = []
                if not verb_problems:  # its own form's column, checked by _check_verb
                    args = VERBS["collected_date"].args.model_validate(alg.args)
                    used[args.form].add(args.column)
            for col in cols:
                used[d.form].add(col)
                if col not in form.columns:
                    out.append((f"{where}.{key}", f"column {col} is not declared in forms.{d.form}.columns"))
            out += [(f"{where}.{key}.{k}", m) for k, m in verb_problems or _check_algorithm(alg, form)]
    parameters = {p["tsparmcd"] for p in specs.table("ts_parameters")}
    out += [(f"trial_summary.{k}", f"not a parameter of ts_parameters.csv (allowed: {', '.join(sorted(parameters))})")
            for k in {**spec.trial_summary, **spec.trial_summary_codes} if k not in parameters]
    for f, form in spec.forms.items():
        for col in form.columns:
            if col not in used[f] and col not in form.not_submitted:
                out.append((f"forms.{f}.columns.{col}", "neither mapped nor listed in not_submitted (with a reason)"))
    return out


def _check_algorithm(alg, form) -> list[tuple[str, str]]:
    try:
        if isinstance(alg, AssignCt):
            term_lookup(alg.codelist, alg.term_map, sponsor_terms=alg.sponsor_terms)
        elif isinstance(alg, HardcodeCt):
            if alg.value not in term_lookup(alg.codelist).values:
                return [("value", f"{alg.value!r} is not a submission value of codelist {alg.codelist}")]
        elif isinstance(alg, AssignDatetime):
            if alg.column in form.columns and form.columns[alg.column].type != "date":
                return [("column", f"{alg.column} is not declared as a date column")]
            if alg.time and alg.time in form.columns and form.columns[alg.time].type != "time":
                return [("time", f"{alg.time} is not declared as a time column")]
    except KeyError as exc:
        return [("codelist", str(exc).strip("'\""))]
    except ValueError as exc:
        return [("term_map", str(exc))]
    return []


def _check_verb(alg: Derive, spec: MappingSpec, domain: str) -> list[tuple[str, str]]:
    verb = VERBS.get(alg.verb)
    if verb is None:
        return [("verb", f"unknown verb {alg.verb!r} (allowed: {', '.join(VERBS)})")]
    if verb.phase == "subject" and domain != "DM":
        return [("verb", f"{alg.verb} derives a subject-level variable: DM only")]
    try:
        args = verb.args.model_validate(alg.args)
    except ValidationError as exc:
        return [(".".join(map(str, e["loc"])), "unknown key" if e["type"] == "extra_forbidden" else e["msg"])
                for e in exc.errors()]
    if alg.verb == "collected_date":
        form = spec.forms.get(args.form)
        if form is None:
            return [("form", f"{args.form!r} is not a form (forms: {', '.join(spec.forms)})")]
        if form.columns.get(args.column) is None or form.columns[args.column].type != "date":
            return [("column", f"{args.column} is not a date column of forms.{args.form}")]
    if alg.verb in ("first_date", "last_date"):
        bad = [ref for ref in args.of if ref.split(".")[0] not in spec.domains or "." not in ref]
        if bad:
            return [("of", f"{', '.join(bad)}: not DOMAIN.VARIABLE of a mapped domain")]
    if alg.verb in ("has_records", "first_record_lookup") and args.domain not in spec.domains:
        return [("domain", f"{args.domain} is not a mapped domain")]
    if alg.verb == "epoch":
        dm = spec.domains.get("DM")
        bad = [b.variable for b in args.boundaries if dm is None or b.variable not in dm.variables]
        if bad:
            return [("boundaries", f"{', '.join(bad)}: not a variable the spec maps in DM")]
    if alg.verb == "latest_date":
        form = spec.forms[spec.domains[domain].form]
        bad = [c for c in args.columns if c in form.columns and form.columns[c].type != "date"]
        if bad:
            return [("columns", f"{', '.join(bad)}: not declared as date columns")]
    return []


# --- the algorithms ---------------------------------------------------------------------------------------

def _text(raw: pd.DataFrame, column: str, upper: bool = False) -> pd.Series:
    """A raw column as stripped text (upper case when asked), None when blank."""
    return per_distinct(raw[column], lambda v: (str(v).strip().upper() if upper else str(v).strip()) or None)


def assigned(value, alg: AssignNoCt) -> str | None:
    """One collected value as assign_no_ct gives it: the regex group, leading zeros dropped, the term
    map (exactly, then ignoring case and spacing), upper case; None when blank."""
    text = str(value).strip()
    if alg.extract and text:
        found = re.search(alg.extract, text)
        text = found.group(1) if found else ""
    if alg.numeric:
        text = _LEADING_ZEROS.sub(r"\1", text)
    if alg.term_map and text:
        exact = {k.strip(): v for k, v in alg.term_map.items()}
        text = exact.get(text, {normalized(k): v for k, v in alg.term_map.items()}.get(normalized(text), text))
    return (text.upper() if alg.upper else text) or None


def apply_algorithm(alg, raw: RawForm, spec: MappingSpec, form) -> tuple[pd.Series, list[Problem]]:
    """One variable's values for every raw record, and the problems of the values that did not map."""
    frame, n = raw.frame, len(raw.frame)
    if isinstance(alg, AssignNoCt):
        return per_distinct(frame[alg.column], lambda v: assigned(v, alg)), []
    if isinstance(alg, AssignCt):
        got = assign_ct(frame[alg.column].rename(alg.column), alg.codelist, alg.term_map or None,
                        sponsor_terms=alg.sponsor_terms)
        return got.values.where(got.values != "", None), as_problems(got.findings, raw.file, raw.rows)
    if isinstance(alg, (HardcodeNoCt, HardcodeCt)):
        return pd.Series([alg.value] * n, dtype=object), []
    if isinstance(alg, AssignDatetime):
        cols = form.columns
        got = assign_datetime(frame[alg.column].rename(alg.column), cols[alg.column].formats,
                              frame[alg.time].rename(alg.time) if alg.time else None,
                              cols[alg.time].formats if alg.time else None)
        return got.values.where(got.values != "", None), as_problems(got.findings, raw.file, raw.rows)
    if isinstance(alg, IfElse):
        return if_else(frame, alg), []
    verb = VERBS[alg.verb]
    args = verb.args.model_validate(alg.args)
    if alg.verb == "latest_date":  # over the collected dates, each read by its declared layouts
        dates = {c: assign_datetime(frame[c].rename(c), form.columns[c].formats).values for c in args.columns}
        return verb.fn(pd.DataFrame(dates), args), []
    # the other raw-phase verbs are the visit-map lookups
    names = stripped(frame[args.column])
    unknown = np.flatnonzero(((names != "") & ~names.isin(list(spec.visits))).to_numpy())
    problems = [Problem(raw.file, raw.rows[i], args.column, names.iat[i], "MAP-VISIT-UNKNOWN",
                        f"visit {names.iat[i]!r} is not in the spec's [visits] map") for i in unknown]
    return verb.fn(frame, args.column, spec.visits, alg.verb), problems


def if_else(frame: pd.DataFrame, alg: IfElse) -> pd.Series:
    """The first case whose condition holds gives the value (a constant or another column); else ``else``."""
    def source(case) -> pd.Series:
        if case.column is None:
            return pd.Series([case.value] * len(frame), dtype=object)
        return _text(frame, case.column, case.upper)
    out = source(alg.otherwise) if (alg.otherwise.value or alg.otherwise.column) else pd.Series([None] * len(frame),
                                                                                                 dtype=object)
    decided = np.zeros(len(frame), dtype=bool)
    for case in alg.cases:
        hit = holds(frame, case.when) & ~decided
        out = out.where(~hit, source(case))
        decided |= hit
    return out.astype(object)


# --- building the domains ---------------------------------------------------------------------------------

def usubjids(raw: RawForm, template: str) -> pd.Series:
    """USUBJID of each raw record from the study's template (``01-{PATNUM}``)."""
    out = pd.Series([""] * len(raw.frame), dtype=object)
    for literal, name, _, _ in string.Formatter().parse(template):
        out = out + literal
        if name:
            out = out + stripped(raw.frame[name])
    return out


def _phase(alg) -> str:
    return VERBS[alg.verb].phase if isinstance(alg, Derive) else "raw"


def raw_phase(name: str, d: Domain, raw: RawForm, spec: MappingSpec) -> tuple[pd.DataFrame, list[Problem]]:
    """The domain's variables that come from the raw record alone, one row per raw record."""
    form = spec.forms[d.form]
    cols, problems = {"__ROW": pd.Series(raw.rows, dtype="int64")}, []
    for key, var, alg in _algorithms(d):
        if _phase(alg) != "raw":
            continue
        values, found = apply_algorithm(alg, raw, spec, form)
        cols[var if key.startswith("variables.") else f"__SUPP_{var}"] = values.reset_index(drop=True)
        problems += found
    problems = list({(p.file, p.row, p.field, p.value, p.rule): p for p in problems}.values())  # once per cell
    n = len(raw.frame)
    ids = {"STUDYID": [spec.study.studyid] * n, "DOMAIN": [name] * n,
           "USUBJID": usubjids(raw, spec.study.usubjid).to_numpy()}
    # text columns dictionary-encoded: sorting, taking and expanding a million records move integer codes
    frame = pd.DataFrame({k: pd.Categorical(v) if k != "__ROW" and pd.Series(v).dtype == object else v
                          for k, v in {**ids, **cols}.items()})
    return frame, problems


def _number_text(x: float, decimals: int | None) -> str | None:
    if np.isnan(x):
        return None
    text = f"{x:.{decimals}f}" if decimals is not None else f"{x:.10f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def expand_tests(name: str, base: pd.DataFrame, raw: RawForm, tests: tuple[FindingsTest, ...]) -> pd.DataFrame:
    """A wide findings form -> one record per test per raw row: --TESTCD, --TEST, --ORRES(U), --STRESC/N/U,
    --STAT. A test's record exists where its result was given, or where the test was planned (its
    ``when`` holds) but the result is blank: then --STAT is NOT DONE."""
    parts = []
    for t in tests:
        value = per_distinct(raw.frame[t.column], lambda v: _LEADING_ZEROS.sub(r"\1", str(v).strip()), "")
        given = (value != "").to_numpy()
        planned = holds(raw.frame, t.when) if t.when else np.zeros(len(value), dtype=bool)
        rows = np.flatnonzero(given | planned)
        part = base.take(rows).reset_index(drop=True)
        orres = value.to_numpy()[rows]
        has = orres != ""
        number = pd.to_numeric(pd.Series(np.where(has, orres, None), dtype=object), errors="coerce")
        std = (number + t.offset) * t.factor
        if t.decimals is not None:
            std = std.round(t.decimals)
        part[f"{name}TESTCD"], part[f"{name}TEST"] = t.testcd, t.test
        if t.category is not None:
            part[f"{name}CAT"] = t.category
        part[f"{name}ORRES"] = np.where(has, orres, None)
        part[f"{name}ORRESU"] = np.where(has, t.unit, None) if t.unit else None
        numeric = per_distinct(std, lambda x: _number_text(x, t.decimals)).to_numpy()
        # a text result (CR, NEGATIVE) is standardised by the test's term map, else kept as collected
        text = per_distinct(pd.Series(orres, dtype=object), lambda v: t.term_map.get(v, v) or None).to_numpy()
        part[f"{name}STRESC"] = np.where(number.notna().to_numpy(), numeric, text)
        if t.method is not None:
            part[f"{name}METHOD"] = _text(raw.frame, t.method).to_numpy()[rows]
        part[f"{name}STRESN"] = std.to_numpy()
        unit = t.std_unit or t.unit
        part[f"{name}STRESU"] = np.where(has, unit, None) if unit else None
        part[f"{name}STAT"] = np.where(has, None, "NOT DONE")
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def subject_phase(dm: pd.DataFrame, d: Domain, domains: dict[str, pd.DataFrame], spec: MappingSpec,
                  forms: dict[str, RawForm]) -> pd.DataFrame:
    """DM's verbs that read the other domains (reference dates, death date, treated), in spec order."""
    out = dm.copy()
    for key, var, alg in _algorithms(d):
        if _phase(alg) != "subject":
            continue
        verb = VERBS[alg.verb]
        args = verb.args.model_validate(alg.args)
        column = var if key.startswith("variables.") else f"__SUPP_{var}"
        if alg.verb == "collected_date":
            raw, form = forms[args.form], spec.forms[args.form]
            dates = assign_datetime(raw.frame[args.column], form.columns[args.column].formats).values
            got = verb.fn(out, pd.DataFrame({"USUBJID": usubjids(raw, spec.study.usubjid), "DTC": dates}))
        else:
            got = verb.fn(out, {**domains, "DM": out}, args)
        out[column] = got.to_numpy()
    return out


def record_phase(name: str, frame: pd.DataFrame, d: Domain, dm: pd.DataFrame) -> pd.DataFrame:
    """The record verbs (study day, flags) against DM's reference dates, then --SEQ."""
    boundaries = [b.variable for _, _, alg in _algorithms(d) if isinstance(alg, Derive) and alg.verb == "epoch"
                  for b in VERBS["epoch"].args.model_validate(alg.args).boundaries]
    wanted = dict.fromkeys(["RFSTDTC", "RFXSTDTC", *boundaries])  # DM's reference dates the verbs read
    ref = [c for c in wanted if c in dm.columns and (name == "DM" or c not in frame.columns)]
    out = frame.copy(deep=False)
    if name != "DM":  # the subject's reference dates, looked up (a merge would copy every column)
        by_subject = dm.drop_duplicates("USUBJID").set_index("USUBJID")
        for c in ref:
            out[c] = per_distinct(out["USUBJID"], by_subject[c].to_dict().get).to_numpy()
    seq = None
    for key, var, alg in _algorithms(d):
        if _phase(alg) != "record":
            continue
        if alg.verb == "seq":
            seq = (var, VERBS["seq"].args.model_validate(alg.args))
            continue
        verb = VERBS[alg.verb]
        column = var if key.startswith("variables.") else f"__SUPP_{var}"
        out[column] = verb.fn(out, verb.args.model_validate(alg.args)).to_numpy()
    if seq is not None:
        out = sequence_number(out, list(seq[1].order), seq[0])
    if name != "DM":
        out = out.drop(columns=ref)
    return out if isinstance(out.index, pd.RangeIndex) else out.reset_index(drop=True)


def build_supp(name: str, frame: pd.DataFrame, d: Domain) -> pd.DataFrame:
    """SUPP-- records: one per filled qualifier value, identified by --SEQ (none for DM)."""
    parts = []
    idvar = None if name == "DM" else f"{name}SEQ"
    for qnam, q in d.supp.items():
        values = frame[f"__SUPP_{qnam}"]
        rows = np.flatnonzero(present(values))
        n = len(rows)
        parts.append(pd.DataFrame({
            "STUDYID": frame["STUDYID"].to_numpy()[rows], "RDOMAIN": [name] * n,
            "USUBJID": frame["USUBJID"].to_numpy()[rows], "IDVAR": [idvar] * n,
            "IDVARVAL": idvar_values(frame[idvar].take(rows)).to_numpy() if idvar else [None] * n,
            "QNAM": [qnam] * n, "QLABEL": [q.label] * n, "QVAL": values.astype(str).to_numpy()[rows],
            "QORIG": [q.origin] * n, "QEVAL": [q.evaluator or None] * n}))
    if not parts:
        return pd.DataFrame(columns=list(SUPP_ORDER))
    # in the key order of SUPP-- (USUBJID, IDVAR, IDVARVAL, QNAM), IDVARVAL compared as the text it is
    return sort_rows(pd.concat(parts, ignore_index=True), ["USUBJID", "IDVARVAL", "QNAM"])


def run(study_dir: Path, spec: MappingSpec, spec_file: str = "mapping.toml") -> MappedStudy:
    """Map a study folder by its spec; ``problems`` hold every error (then ``frames`` is empty)."""
    result = MappedStudy()
    bad = check_spec(spec)
    if bad:
        raise MappingSpecError(spec_file, bad)
    for f, form in spec.forms.items():
        raw, found = read_form(study_dir, f, form)
        result.problems += found
        if raw is not None:
            result.forms[f] = raw
    if has_errors(result.problems):
        return result
    built: dict[str, pd.DataFrame] = {}
    for name, d in spec.domains.items():
        raw = result.forms[d.form]
        frame, found = raw_phase(name, d, raw, spec)
        result.problems += found
        built[name] = expand_tests(name, frame, raw, d.tests) if d.tests else frame
        result.sources[name] = d.form
    if has_errors(result.problems):
        return result
    if "DM" in spec.domains:
        built["DM"] = subject_phase(built["DM"], spec.domains["DM"], built, spec, result.forms)
        built["DM"] = record_phase("DM", built["DM"], spec.domains["DM"], built["DM"])
    for name, d in spec.domains.items():
        if name != "DM":
            built[name] = record_phase(name, built[name], d, built["DM"])
    if spec.trial_summary:
        result.frames["TS"] = trial_summary(spec, built["DM"])
        result.sources["TS"] = spec.domains["DM"].form
    for name, d in spec.domains.items():
        frame = built[name]
        if d.supp:
            result.frames[f"SUPP{name}"] = build_supp(name, frame, d)
            result.sources[f"SUPP{name}"] = d.form
        result.frames[name] = _with_expected(frame.drop(columns=[c for c in frame.columns if c.startswith("__SUPP_")]),
                                             name)
    return result


DERIVED_TS = ("fcntry", "sdtigver", "sdtmver", "ctver")  # the TS values that follow from the package itself


# ARMNULRS terms of a subject never assigned to an arm; "ASSIGNED, NOT TREATED" and "UNPLANNED TREATMENT"
# subjects were entered in the trial and count
NOT_ASSIGNED = ("SCREEN FAILURE", "NOT ASSIGNED")


def actual_subjects(dm: pd.DataFrame) -> int | None:
    """ACTSUB: subjects entered, i.e. assigned to an arm (ARMCD given, and ARMNRS not saying the subject
    was never assigned: a screen failure kept under a placeholder ARMCD such as "Scrnfail"); None when
    DM has no ARMCD to tell."""
    if "ARMCD" not in dm.columns:
        return None
    assigned = present(dm["ARMCD"])
    if "ARMNRS" in dm.columns:
        assigned &= ~stripped(dm["ARMNRS"]).isin(NOT_ASSIGNED).to_numpy()
    return int(assigned.sum())


def trial_summary(spec: MappingSpec, dm: pd.DataFrame) -> pd.DataFrame:
    """TS from the spec's ``trial_summary``; a parameter it does not give is derived when the package
    determines it (countries, versions), a constant of ts_parameters.csv, else null with TSVALNF."""
    def values_of(param: dict[str, str]) -> list[str]:
        given = spec.trial_summary.get(param["tsparmcd"])
        if given is not None:
            return [given] if isinstance(given, str) else list(given)
        kind, _, name = param["config_field"].partition(":")
        if kind == "const":
            return [name]
        if kind == "derived" and name == "actsub":
            entered = actual_subjects(dm)
            return [] if entered is None else [str(entered)]
        return derived_value(name, None, dm) if kind == "derived" and name in DERIVED_TS else []
    return ts_records(spec.study.studyid, values_of, lambda param: spec.trial_summary_codes.get(param["tsparmcd"], ""))


def _with_expected(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """Required and Expected variables the spec does not map are present and null (SDTMIG 3.4 4.1.2)."""
    out = frame.copy()
    for var in specs.dataset(name).variables:
        if var.name not in out.columns and var.core in ("Req", "Exp"):
            out[var.name] = None
    return out


def expected_unmapped(spec: MappingSpec) -> dict[str, list[str]]:
    """Per domain, the Expected variables the spec leaves null (for the plan and the manifest)."""
    out = {}
    for name, d in spec.domains.items():
        made = set(d.variables) | set(AUTOMATIC)
        if d.tests:
            made |= {f"{name}{s}" for s in ("TESTCD", "TEST", "ORRES", "ORRESU", "STRESC", "STRESN", "STRESU", "STAT")}
            made |= {f"{name}CAT" for t in d.tests if t.category} | {f"{name}METHOD" for t in d.tests if t.method}
        missing = [v.name for v in specs.dataset(name).variables if v.core in ("Req", "Exp") and v.name not in made]
        if missing:
            out[name] = missing
    return out
