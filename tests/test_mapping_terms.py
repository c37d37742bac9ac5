"""Collected values -> CDISC CT submission values (converters.mapping.terms), and the CT they come from."""
from __future__ import annotations

import csv
import doctest
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import converters.mapping.terms as terms
import specs
from converters.mapping.terms import assign_ct, find_codelist, resolve_term, term_lookup
from converters.problems import ERROR
from specs.ct import build_subset

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
PILOT = SHARED / "pharmaverse"
NCI_FILE = SHARED / "ct" / "SDTM_Terminology_2025Q1.txt"
needs_pilot = pytest.mark.skipif(not (PILOT / "raw" / "dm_raw.csv").exists(),
                                 reason="../shared pharmaverse pilot data absent")
needs_nci = pytest.mark.skipif(not NCI_FILE.exists(), reason="../shared CT reference file absent")


def mapped(values, codelist, term_map=None, **kw):
    return list(assign_ct(pd.Series(values, name="COL"), codelist, term_map, **kw).values)


def test_module_examples_hold():
    assert doctest.testmod(terms).failed == 0


@pytest.mark.parametrize("value, codelist, submission", [
    ("F", "SEX", "F"),
    ("Female", "SEX", "F"),
    ("  female ", "SEX", "F"),
    ("UNK", "SEX", "U"),  # CDISC synonym of U
    ("Milligram", "UNIT", "mg"),  # preferred term
    ("mg", "UNIT", "mg"),
    ("Pound", "UNIT", "LB"),
    ("Daily", "FREQ", "QD"),  # synonym
    ("Twice per day", "FREQ", "BID"),
    ("Transdermal", "ROUTE", "TRANSDERMAL"),  # submission value, other case
    ("PO", "ROUTE", "ORAL"),
    ("Not  Hispanic or Latino", "ETHNIC", "NOT HISPANIC OR LATINO"),  # spacing ignored
    ("Yes", "NY", "Y"),
    ("Mild Adverse Event", "AESEV", "MILD"),
    ("Not Recovered/not Resolved", "OUT", "NOT RECOVERED/NOT RESOLVED"),
    ("Supine", "POSITION", "SUPINE"),
    ("Systolic Blood Pressure", "VSTEST", "Systolic Blood Pressure"),
    ("Screen Failure", "NCOMPLT", "SCREEN FAILURE"),
])
def test_collected_values_resolve_to_submission_values(value, codelist, submission):
    assert mapped([value], codelist) == [submission]


def test_one_value_resolves_or_says_why_not():
    lookup = term_lookup("NY")
    assert resolve_term(" yes ", lookup) == "Y"
    with pytest.raises(ValueError, match="not a submission value, synonym or preferred term of codelist NY"):
        resolve_term("Maybe", lookup)


def test_codelists_are_found_by_short_name_or_c_code():
    assert mapped(["Female"], "C66731") == ["F"]
    assert find_codelist("C71113").name == "FREQ"
    with pytest.raises(KeyError, match="NOSUCH is not in specs/ct"):
        assign_ct(pd.Series(["x"]), "NOSUCH")


def test_exact_submission_value_beats_case_folding_and_folding_never_guesses():
    assert mapped(["Pa", "PA"], "UNIT") == ["Pa", "PA"]
    r = assign_ct(pd.Series(["pa"], name="VSORRESU"), "UNIT")
    (f,) = r.findings
    assert (r.values[0], f.rule, f.value) == ("", "MAP-CT-AMBIGUOUS", "pa")
    assert "PA, Pa" in f.message and "codelist UNIT (C71620)" in f.message


def test_study_term_map_comes_before_synonyms_and_ignores_case_and_spacing():
    m = {"Once a day": "QD", "Daily": "BID"}  # a study may say its "Daily" meant something else
    assert mapped(["Once a day", "ONCE  A DAY ", "Daily", "daily", "QD"], "FREQ", m) == ["QD", "QD", "BID", "BID", "QD"]


def test_bad_term_maps_are_refused_when_declared():
    with pytest.raises(ValueError, match="'X' is not a submission value of SEX"):
        term_lookup("SEX", {"Woman": "X"})
    with pytest.raises(ValueError, match="already sends 'woman'"):
        term_lookup("SEX", {"Woman": "F", "WOMAN ": "M"})
    with pytest.raises(ValueError, match="collected value is empty"):
        term_lookup("SEX", {" ": "F"})
    with pytest.raises(ValueError, match="'F' is already a submission value of SEX"):
        term_lookup("SEX", {"F": "M"})
    with pytest.raises(ValueError, match="not with a ready lookup"):
        assign_ct(pd.Series(["F"]), term_lookup("SEX"), {"Woman": "F"})


def test_unresolved_values_are_reported_with_the_closest_choices():
    r = assign_ct(pd.Series(["Moderate", "Moderat", "", None, "Moderat"], name="AESEV_RAW"), "AESEV")
    assert list(r.values) == ["MODERATE", "", "", "", ""]
    assert [(f.position, f.field, f.value, f.rule, f.severity) for f in r.findings] == [
        (1, "AESEV_RAW", "Moderat", "MAP-CT-UNRESOLVED", ERROR),
        (4, "AESEV_RAW", "Moderat", "MAP-CT-UNRESOLVED", ERROR)]
    assert r.findings[0].message.endswith("codelist AESEV (C66769), nor in the study's term map; closest: MODERATE")
    assert not r.ok


def test_a_small_codelist_is_listed_in_full_when_nothing_is_close():
    (f,) = assign_ct(pd.Series(["zzz"]), "SEX").findings
    assert f.message.endswith("allowed: F, INTERSEX, M, U")


def test_sponsor_terms_only_in_extensible_codelists_and_only_when_allowed():
    with pytest.raises(ValueError, match=r"codelist SEX \(C66731\) is not extensible"):
        term_lookup("SEX", sponsor_terms=True)
    r = assign_ct(pd.Series(["Scoop", " Scoop ", "Milligram", "pa"], name="U"), "UNIT", sponsor_terms=True)
    assert list(r.values) == ["Scoop", "Scoop", "mg", ""]
    assert r.sponsor_terms == ("Scoop",)
    assert [f.rule for f in r.findings] == ["MAP-CT-AMBIGUOUS"]  # ambiguity is never a new term
    assert [f.rule for f in assign_ct(pd.Series(["Scoop"]), "UNIT").findings] == ["MAP-CT-UNRESOLVED"]
    r = assign_ct(pd.Series(["level scoop", "mg"]), "UNIT", {"level scoop": "SCOOP"}, sponsor_terms=True)
    assert (list(r.values), r.sponsor_terms, r.findings) == (["SCOOP", "mg"], ("SCOOP",), ())


def test_sponsor_extensions_of_the_specs_in_force_are_terms():
    assert mapped(["iso 8601"], "DICTNAM") == ["ISO 8601"]  # specs/ct/sponsor.csv extends DICTNAM
    assert mapped(["possibly related"], "REL") == ["POSSIBLY RELATED"]  # a sponsor codelist


def test_each_distinct_value_is_resolved_once(monkeypatch):
    calls = Counter()
    real = terms.resolve_term

    def counting(value, lookup):
        calls[value] += 1
        return real(value, lookup)

    monkeypatch.setattr(terms, "resolve_term", counting)
    pool = np.array(["Female", "Male", "F", "Unknown", "Other"], dtype=object)
    values = pd.Series(np.random.default_rng(2).choice(pool, 200_000), index=np.arange(200_000) * 3, name="SEX")
    r = assign_ct(values, "SEX")
    assert set(calls.values()) == {1} and set(calls) == set(pool)
    assert list(r.values.index) == list(values.index)
    assert r.values.tolist() == values.map({"Female": "F", "Male": "M", "F": "F", "Unknown": "U", "Other": ""}).tolist()
    assert [f.position for f in r.findings] == np.flatnonzero(values.to_numpy() == "Other").tolist()


# --- the shipped CT ------------------------------------------------------------------------------------

TRIAL_CODELISTS = {"SEX", "RACE", "ETHNIC", "AGEU", "UNIT", "FRM", "ROUTE", "FREQ", "NY", "AESEV", "OUT", "ACN",
                   "VSTESTCD", "VSTEST", "VSRESU", "POSITION", "LOC", "LAT", "EPOCH", "NCOMPLT", "DSCAT", "PROTMLST"}


def test_shipped_ct_holds_a_typical_trials_codelists_with_synonyms():
    assert TRIAL_CODELISTS <= set(build_subset.CODELISTS) <= set(specs.codelists())
    assert specs.codelist("FREQ").term("QD").synonyms == ("/day", "Daily", "Per Day")
    assert specs.codelist("AESEV").term("MILD").synonyms == ("1", "Grade 1")
    assert specs.codelist("ROUTE").term("TRANSDERMAL").synonyms == ()
    with open(Path(specs.__file__).parent / "ct" / f"sdtm-ct-{specs.CT_VERSION}.csv", newline="",
              encoding="utf-8") as fh:
        assert next(csv.reader(fh))[-1] == "synonyms"


@needs_nci
def test_shipped_synonyms_are_the_nci_files():
    headers, rows = build_subset.read_nci(NCI_FILE)
    for cl in specs.codelists().values():
        if cl.sponsor:
            continue
        nci = {t["CDISC Submission Value"]: t["CDISC Synonym(s)"] for t in rows[cl.code]}
        for t in cl.terms:
            if t.code:
                assert "; ".join(t.synonyms) == nci[t.value], (cl.name, t.value)


# --- the CDISC pilot's collected values against its SDTM ------------------------------------------------

def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(PILOT / name, dtype=str, keep_default_na=False)


def _resolved(column: pd.Series, codelist: str) -> pd.Series:
    r = assign_ct(column, codelist)
    assert r.findings == (), [f.message for f in r.findings[:3]]
    return r.values


@needs_pilot
def test_pilot_demographics_per_subject():
    raw, dm = _csv("raw/dm_raw.csv"), _csv("sdtm/dm.csv").set_index("USUBJID")
    subjects = "01-" + raw["PATNUM"]
    for column, codelist, variable in [("IT.SEX", "SEX", "SEX"), ("IT.RACE", "RACE", "RACE"),
                                       ("IT.ETHNIC", "ETHNIC", "ETHNIC")]:
        got = _resolved(raw[column], codelist)
        assert got.tolist() == dm.loc[subjects, variable].tolist(), variable


@needs_pilot
@pytest.mark.parametrize("form, column, codelist, dataset, variable", [
    ("ae", "AEOUTCOME", "OUT", "ae", "AEOUT"),
    ("ae", "IT.AESEV", "AESEV", "ae", "AESEV"),
    ("ae", "IT.AESER", "NY", "ae", "AESER"),
    ("ae", "AESCAN", "NY", "ae", "AESCAN"),
    ("ae", "IT.AESDTH", "NY", "ae", "AESDTH"),
    ("ec", "IT.ECDOSU", "UNIT", "ex", "EXDOSU"),
    ("ec", "DOSFM", "FRM", "ex", "EXDOSFRM"),
    ("ec", "DOSFRQ", "FREQ", "ex", "EXDOSFRQ"),
    ("ec", "IT.ECROUTE", "ROUTE", "ex", "EXROUTE"),
])
def test_pilot_collected_values_match_its_sdtm(form, column, codelist, dataset, variable):
    raw, sdtm = _csv(f"raw/{form}_raw.csv"), _csv(f"sdtm/{dataset}.csv")
    assert len(raw) == len(sdtm)
    assert Counter(_resolved(raw[column], codelist)) == Counter(sdtm[variable])


@needs_pilot
def test_pilot_vital_signs_location_and_position():
    raw, vs = _csv("raw/vs_raw.csv"), _csv("sdtm/vs.csv")
    loc = _resolved(raw["IT.TEMP_LOC"], "LOC")
    assert Counter(loc[loc != ""]) == Counter(vs["VSLOC"][vs["VSLOC"] != ""])  # one temperature per raw row
    assert set(_resolved(raw["SUBPOS"], "POSITION")) == set(vs["VSPOS"])


@needs_pilot
def test_pilot_disposition_terms():
    raw, ds = _csv("raw/ds_raw.csv"), _csv("sdtm/ds.csv")
    decod = raw["IT.DSDECOD"]
    events = decod[(decod != "") & (decod != "Randomized")]
    assert Counter(_resolved(events, "NCOMPLT")) == Counter(ds["DSDECOD"][ds["DSCAT"] == "DISPOSITION EVENT"])
    milestones = _resolved(decod[decod == "Randomized"], "PROTMLST")
    assert Counter(milestones) == Counter(ds["DSDECOD"][ds["DSCAT"] == "PROTOCOL MILESTONE"])
    assert set(ds["DSCAT"]) <= specs.codelist_values("DSCAT")
