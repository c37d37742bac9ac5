"""ADTTE from hand-built SDTM frames: OS, PFS, DOR and EFS events and censoring, the data cutoff, ties
between event sources, and traceability (specs/adamig-1.3/tte.toml, methods.csv MT.ADTTE.*, MT.CNSR)."""
from __future__ import annotations

import copy

import pandas as pd
import pytest

from converters.adam.build import derive_adam
from converters.adam.tte import derive_adtte, derive_param_tte
from specs import toml_spec
from studybuilder import sdtm_frames, sdtm_subject

D = pd.Timestamp
START = "2021-02-01"
CUTOFF = "2022-12-31"
NO_ASSESSMENT = "NO POST-BASELINE ASSESSMENT: TREATMENT START"
FAILURE = "NO CR OR CRI AT MONTH 3 (TREATMENT FAILURE)"
RELAPSE = "RELAPSE OR DISEASE PROGRESSION"


def days(end: str, start: str = START) -> float:
    """AVAL: end - start + 1 (the start day is day 1)."""
    return float((D(end) - D(start)).days + 1)


def adam(subjects, rs=(), **kw) -> dict[str, pd.DataFrame]:
    return derive_adam(sdtm_frames(subjects, list(rs), cutoff=kw.pop("cutoff", CUTOFF), **kw))


def rec(adtte: pd.DataFrame, usubjid: str, paramcd: str) -> dict:
    rows = adtte[(adtte["USUBJID"] == usubjid) & (adtte["PARAMCD"] == paramcd)]
    assert len(rows) == 1, rows
    r = rows.iloc[0].to_dict()
    return {k: (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in r.items()}


def outcome(r: dict) -> tuple:
    return (r["STARTDT"], r["ADT"], r["AVAL"], r["CNSR"], r["EVNTDESC"], r["CNSDTDSC"],
            r["SRCDOM"], r["SRCVAR"], r["SRCSEQ"])


def aseq(adrs: pd.DataFrame, usubjid: str, paramcd: str, adt: str) -> float:
    rows = adrs[(adrs["USUBJID"] == usubjid) & (adrs["PARAMCD"] == paramcd) & (adrs["ADT"] == D(adt))]
    assert len(rows) == 1, rows
    return rows["ASEQ"].iloc[0]


# --- OS ------------------------------------------------------------------------------------------

def test_os_death_is_an_event():
    out = adam([sdtm_subject("001", death="2021-08-15")])
    assert outcome(rec(out["ADTTE"], "S1-001", "OS")) == \
        (D(START), D("2021-08-15"), 196.0, 0.0, "DEATH", None, "ADSL", "DTHDT", None)
    assert days("2021-08-15") == 196.0


def test_os_alive_is_censored_at_the_last_known_alive_date():
    out = adam([sdtm_subject("001", last="2022-06-30")])
    assert outcome(rec(out["ADTTE"], "S1-001", "OS")) == \
        (D(START), D("2022-06-30"), days("2022-06-30"), 1.0, None, "LAST KNOWN ALIVE DATE", "ADSL", "LSTALVDT", None)


def test_os_last_contact_after_the_cutoff_is_censored_at_the_cutoff_date():
    out = adam([sdtm_subject("001", last="2023-03-01")])
    r = rec(out["ADTTE"], "S1-001", "OS")
    assert (r["ADT"], r["AVAL"], r["CNSR"], r["EVNTDESC"]) == (D(CUTOFF), days(CUTOFF), 1.0, None)


def test_os_last_contact_after_the_cutoff_is_described_as_data_cutoff():
    """tte.toml: 'with no event, the latest censoring date (after DCUTDT -> DCUTDT)', described DATA CUTOFF."""
    out = adam([sdtm_subject("001", last="2023-03-01")])
    assert rec(out["ADTTE"], "S1-001", "OS")["CNSDTDSC"] == "DATA CUTOFF"


def test_os_death_after_the_cutoff_is_censored_at_the_cutoff():
    out = adam([sdtm_subject("001", death="2023-02-01")])
    r = rec(out["ADTTE"], "S1-001", "OS")
    assert (r["ADT"], r["AVAL"], r["CNSR"], r["EVNTDESC"]) == (D(CUTOFF), days(CUTOFF), 1.0, None)


def test_os_death_after_the_cutoff_is_described_as_data_cutoff():
    out = adam([sdtm_subject("001", death="2023-02-01")])
    assert rec(out["ADTTE"], "S1-001", "OS")["CNSDTDSC"] == "DATA CUTOFF"


def test_os_death_on_the_cutoff_day_is_an_event():
    out = adam([sdtm_subject("001", death=CUTOFF)])
    assert outcome(rec(out["ADTTE"], "S1-001", "OS")) == \
        (D(START), D(CUTOFF), days(CUTOFF), 0.0, "DEATH", None, "ADSL", "DTHDT", None)


def test_os_censored_on_the_cutoff_day_keeps_its_own_description():
    out = adam([sdtm_subject("001", last=CUTOFF)])
    r = rec(out["ADTTE"], "S1-001", "OS")
    assert (r["ADT"], r["CNSR"], r["CNSDTDSC"]) == (D(CUTOFF), 1.0, "LAST KNOWN ALIVE DATE")


def test_os_partial_death_date_is_imputed_to_the_first_of_the_month():
    out = adam([sdtm_subject("001", death="2022-03")])
    assert out["ADSL"].loc[0, "DTHDT"] == D("2022-03-01")
    r = rec(out["ADTTE"], "S1-001", "OS")
    assert (r["ADT"], r["AVAL"], r["CNSR"], r["EVNTDESC"]) == (D("2022-03-01"), days("2022-03-01"), 0.0, "DEATH")


def test_os_partial_death_date_in_the_infusion_month_is_not_before_the_start():
    out = adam([sdtm_subject("001", infused="2022-03-15", death="2022-03")])
    r = rec(out["ADTTE"], "S1-001", "OS")
    assert (r["STARTDT"], r["ADT"], r["AVAL"], r["CNSR"]) == (D("2022-03-15"), D("2022-03-15"), 1.0, 0.0)


# --- PFS -----------------------------------------------------------------------------------------

def test_pfs_censored_at_the_last_response_assessment():
    rs = [("001", "MONTH 1", 2, "2021-03-01", "CR"), ("001", "MONTH 3", 4, "2021-05-01", "CR")]
    out = adam([sdtm_subject("001")], rs)
    seq = aseq(out["ADRS"], "S1-001", "OVRLRESP", "2021-05-01")
    assert seq == 2.0
    assert outcome(rec(out["ADTTE"], "S1-001", "PFS")) == \
        (D(START), D("2021-05-01"), days("2021-05-01"), 1.0, None, "LAST RESPONSE ASSESSMENT", "ADRS", "ADT", seq)


def test_pfs_relapse_is_an_event_at_the_relapse_assessment():
    rs = [("001", "MONTH 1", 2, "2021-03-01", "CR", "NEGATIVE"), ("001", "MONTH 6", 5, "2021-08-01", "RELAPSED DISEASE"),
          ("001", "MONTH 9", 6, "2021-11-01", "PD")]
    out = adam([sdtm_subject("001", death="2022-01-10")], rs)
    seq = aseq(out["ADRS"], "S1-001", "OVRLRESP", "2021-08-01")
    assert seq == 2.0
    assert outcome(rec(out["ADTTE"], "S1-001", "PFS")) == \
        (D(START), D("2021-08-01"), days("2021-08-01"), 0.0, RELAPSE, None, "ADRS", "ADT", seq)


def test_pfs_progression_counts_like_relapse():
    rs = [("001", "MONTH 1", 2, "2021-03-01", "NR"), ("001", "MONTH 2", 3, "2021-04-01", "PD")]
    out = adam([sdtm_subject("001")], rs)
    r = rec(out["ADTTE"], "S1-001", "PFS")
    assert (r["ADT"], r["CNSR"], r["EVNTDESC"], r["SRCSEQ"]) == (D("2021-04-01"), 0.0, RELAPSE, 2.0)


def test_pfs_death_before_any_assessment_is_a_death_event():
    out = adam([sdtm_subject("001", death="2021-02-20")])
    assert outcome(rec(out["ADTTE"], "S1-001", "PFS")) == \
        (D(START), D("2021-02-20"), 20.0, 0.0, "DEATH", None, "ADSL", "DTHDT", None)


def test_pfs_no_assessment_and_alive_is_censored_at_the_treatment_start():
    out = adam([sdtm_subject("001")])
    assert outcome(rec(out["ADTTE"], "S1-001", "PFS")) == \
        (D(START), D(START), 1.0, 1.0, None, NO_ASSESSMENT, "ADSL", "TRTSDT", None)


def test_pfs_relapse_after_the_cutoff_is_not_an_event():
    rs = [("001", "MONTH 1", 2, "2021-03-01", "CR"), ("001", "MONTH 24", 9, "2023-01-15", "RELAPSED DISEASE")]
    out = adam([sdtm_subject("001", last="2023-01-15")], rs)
    r = rec(out["ADTTE"], "S1-001", "PFS")
    assert (r["ADT"], r["CNSR"], r["CNSDTDSC"], r["SRCSEQ"]) == (D("2021-03-01"), 1.0, "LAST RESPONSE ASSESSMENT", 1.0)


def test_pfs_relapse_on_the_cutoff_day_is_an_event():
    rs = [("001", "MONTH 1", 2, "2021-03-01", "CR"), ("001", "MONTH 22", 9, CUTOFF, "RELAPSED DISEASE")]
    r = rec(adam([sdtm_subject("001")], rs)["ADTTE"], "S1-001", "PFS")
    assert (r["ADT"], r["CNSR"], r["EVNTDESC"]) == (D(CUTOFF), 0.0, RELAPSE)


TIE_RS = [("001", "MONTH 1", 2, "2021-03-01", "CR"), ("001", "MONTH 6", 5, "2021-08-01", "RELAPSED DISEASE")]


def test_pfs_tie_relapse_and_death_same_day_first_listed_source_wins():
    out = adam([sdtm_subject("001", death="2021-08-01")], TIE_RS)
    assert toml_spec("tte")["parameter"][1]["events"][0] == "relapse_or_progression"
    assert outcome(rec(out["ADTTE"], "S1-001", "PFS")) == \
        (D(START), D("2021-08-01"), days("2021-08-01"), 0.0, RELAPSE, None, "ADRS", "ADT", 2.0)


def test_pfs_tie_with_death_listed_first_death_wins():
    spec = copy.deepcopy(toml_spec("tte"))
    pfs = next(p for p in spec["parameter"] if p["paramcd"] == "PFS")
    pfs["events"] = ["death", "relapse_or_progression"]
    frames = sdtm_frames([sdtm_subject("001", death="2021-08-01")], TIE_RS, cutoff=CUTOFF)
    adtte = derive_adam(frames, tte_spec=spec)["ADTTE"]
    assert outcome(rec(adtte, "S1-001", "PFS")) == \
        (D(START), D("2021-08-01"), days("2021-08-01"), 0.0, "DEATH", None, "ADSL", "DTHDT", None)
    # the cached spec itself is untouched
    assert toml_spec("tte")["parameter"][1]["events"] == ["relapse_or_progression", "death"]


# --- DOR -----------------------------------------------------------------------------------------

DOR_SUBJECTS = [sdtm_subject("001"), sdtm_subject("002"), sdtm_subject("003", death="2021-09-10"),
                sdtm_subject("004"), sdtm_subject("005"), sdtm_subject("006", infused=None)]
DOR_RS = [
    # responder (CRi after NR), never relapses
    ("001", "MONTH 1", 2, "2021-03-01", "NR"), ("001", "MONTH 2", 3, "2021-04-01", "CRi"),
    ("001", "MONTH 6", 5, "2021-08-01", "CR"),
    # responder who relapses
    ("002", "MONTH 1", 2, "2021-03-01", "CR"), ("002", "MONTH 6", 5, "2021-08-01", "RELAPSED DISEASE"),
    # responder who dies in remission
    ("003", "MONTH 1", 2, "2021-03-01", "CR"),
    # relapse before the response, then remission
    ("004", "MONTH 1", 2, "2021-03-01", "RELAPSED DISEASE"), ("004", "MONTH 3", 4, "2021-05-01", "CR"),
    ("004", "MONTH 6", 5, "2021-08-01", "CR"),
    # never responds
    ("005", "MONTH 1", 2, "2021-03-01", "NR"), ("005", "MONTH 3", 4, "2021-05-01", "PD"),
]


@pytest.fixture(scope="module")
def dor():
    return adam(DOR_SUBJECTS, DOR_RS)


def test_dor_only_for_responders(dor):
    got = dor["ADTTE"][dor["ADTTE"]["PARAMCD"] == "DOR"]["USUBJID"].tolist()
    assert got == ["S1-001", "S1-002", "S1-003", "S1-004"]


def test_dor_responder_without_relapse_censored_at_last_assessment(dor):
    seq = aseq(dor["ADRS"], "S1-001", "OVRLRESP", "2021-08-01")
    assert outcome(rec(dor["ADTTE"], "S1-001", "DOR")) == \
        (D("2021-04-01"), D("2021-08-01"), days("2021-08-01", "2021-04-01"), 1.0, None, "LAST RESPONSE ASSESSMENT",
         "ADRS", "ADT", seq)


def test_dor_relapse_after_response_is_an_event(dor):
    seq = aseq(dor["ADRS"], "S1-002", "OVRLRESP", "2021-08-01")
    assert outcome(rec(dor["ADTTE"], "S1-002", "DOR")) == \
        (D("2021-03-01"), D("2021-08-01"), days("2021-08-01", "2021-03-01"), 0.0, RELAPSE, None, "ADRS", "ADT", seq)


def test_dor_death_in_remission_is_an_event(dor):
    assert outcome(rec(dor["ADTTE"], "S1-003", "DOR")) == \
        (D("2021-03-01"), D("2021-09-10"), days("2021-09-10", "2021-03-01"), 0.0, "DEATH", None, "ADSL", "DTHDT", None)


def test_dor_relapse_before_the_response_is_not_an_event(dor):
    r = rec(dor["ADTTE"], "S1-004", "DOR")
    assert (r["STARTDT"], r["ADT"], r["AVAL"], r["CNSR"], r["CNSDTDSC"]) == \
        (D("2021-05-01"), D("2021-08-01"), days("2021-08-01", "2021-05-01"), 1.0, "LAST RESPONSE ASSESSMENT")


# --- EFS -----------------------------------------------------------------------------------------

def test_efs_no_remission_at_month_3_is_an_event_at_the_treatment_start():
    rs = [("001", "MONTH 1", 2, "2021-03-01", "CR"), ("001", "MONTH 3", 4, "2021-05-01", "NR"),
          ("001", "MONTH 6", 5, "2021-08-01", "RELAPSED DISEASE")]
    out = adam([sdtm_subject("001")], rs)
    seq = aseq(out["ADRS"], "S1-001", "RSPM3FL", "2021-05-01")
    assert outcome(rec(out["ADTTE"], "S1-001", "EFS")) == \
        (D(START), D(START), 1.0, 0.0, FAILURE, None, "ADRS", "AVALC", seq)


def test_efs_remission_at_month_3_then_relapse():
    rs = [("001", "MONTH 3", 4, "2021-05-01", "CRi"), ("001", "MONTH 6", 5, "2021-08-01", "RELAPSED DISEASE")]
    out = adam([sdtm_subject("001")], rs)
    r = rec(out["ADTTE"], "S1-001", "EFS")
    assert (r["ADT"], r["AVAL"], r["CNSR"], r["EVNTDESC"], r["SRCDOM"], r["SRCSEQ"]) == \
        (D("2021-08-01"), days("2021-08-01"), 0.0, RELAPSE, "ADRS", 2.0)


def test_efs_remission_at_month_3_and_alive_is_censored():
    rs = [("001", "MONTH 3", 4, "2021-05-01", "CR"), ("001", "MONTH 6", 5, "2021-08-01", "CR")]
    out = adam([sdtm_subject("001")], rs)
    r = rec(out["ADTTE"], "S1-001", "EFS")
    assert (r["ADT"], r["CNSR"], r["CNSDTDSC"], r["EVNTDESC"]) == \
        (D("2021-08-01"), 1.0, "LAST RESPONSE ASSESSMENT", None)


# --- the whole dataset ---------------------------------------------------------------------------

def test_one_record_per_infused_subject_and_parameter(dor):
    adtte = dor["ADTTE"]
    assert not adtte.duplicated(["USUBJID", "PARAMCD"]).any()
    infused = ["S1-001", "S1-002", "S1-003", "S1-004", "S1-005"]
    for paramcd in ("OS", "PFS", "EFS"):
        assert adtte.loc[adtte["PARAMCD"] == paramcd, "USUBJID"].tolist() == infused
    assert adtte["PARAMCD"].drop_duplicates().tolist() == ["OS", "PFS", "EFS", "DOR"]
    assert set(adtte["PARAM"]) == {"Overall Survival (days)", "Progression-Free Survival (days)",
                                   "Event-Free Survival (days)", "Duration of Response (days)"}


def test_aval_censoring_and_descriptions_agree(dor):
    adtte = dor["ADTTE"]
    assert (adtte["AVAL"] == (adtte["ADT"] - adtte["STARTDT"]).dt.days + 1).all()
    assert (adtte["AVAL"] >= 1).all() and (adtte["AVALU"] == "DAYS").all()
    assert set(adtte["CNSR"]) == {0.0, 1.0}
    assert (adtte["EVNTDESC"].notna() == (adtte["CNSR"] == 0)).all()
    assert (adtte["CNSDTDSC"].notna() == (adtte["CNSR"] == 1)).all()
    assert (adtte["ADT"] <= D(CUTOFF)).all()


def test_adrs_srcseq_in_adtte_points_at_the_adrs_record(dor):
    adtte, adrs = dor["ADTTE"], dor["ADRS"].set_index(["USUBJID", "ASEQ"])
    traced = adtte[adtte["SRCDOM"] == "ADRS"]
    assert len(traced) > 5
    for _, r in traced.iterrows():
        src = adrs.loc[(r["USUBJID"], r["SRCSEQ"])]
        assert src["ADT"] == r["ADT"] or r["EVNTDESC"] == FAILURE
    assert adtte.loc[adtte["SRCDOM"] == "ADSL", "SRCSEQ"].isna().all()


def test_a_new_parameter_is_a_toml_block():
    """Adding a parameter is declaring it: time to relapse, deaths censored at the last assessment."""
    spec = copy.deepcopy(toml_spec("tte"))
    spec["sources"]["death_censor"] = dict(kind="censor", dataset="ADSL", filter="DTHFL == 'Y'", date="DTHDT",
                                           cnsdtdsc="DEATH WITHOUT RELAPSE", srcdom="ADSL", srcvar="DTHDT", censor=2)
    spec["parameter"] = [dict(paramcd="TTR", param="Time to Relapse (days)", population="SAFFL == 'Y'",
                              start=dict(dataset="ADSL", date="TRTSDT"), events=["relapse_or_progression"],
                              censors=["death_censor", "last_assessment"])]
    out = adam([sdtm_subject("001", death="2021-09-01"), sdtm_subject("002")],
               [("001", "MONTH 1", 2, "2021-03-01", "CR"), ("002", "MONTH 1", 2, "2021-03-01", "CR"),
                ("002", "MONTH 2", 3, "2021-04-01", "PD")])
    adtte = derive_adtte(out["ADSL"], out["ADRS"], spec)
    r1, r2 = rec(adtte, "S1-001", "TTR"), rec(adtte, "S1-002", "TTR")
    assert (r1["ADT"], r1["CNSR"], r1["CNSDTDSC"]) == (D("2021-09-01"), 2.0, "DEATH WITHOUT RELAPSE")
    assert (r2["ADT"], r2["CNSR"], r2["EVNTDESC"]) == (D("2021-04-01"), 0.0, RELAPSE)


def test_a_source_of_the_wrong_kind_is_refused(dor):
    spec = toml_spec("tte")
    bad = dict(spec["parameter"][0], events=["last_alive"])
    with pytest.raises(ValueError, match="OS lists event source 'last_alive' of kind censor"):
        derive_param_tte(dor["ADSL"], dor["ADRS"], bad, spec["sources"])


def test_every_population_subject_has_an_os_record_without_a_last_contact_date():
    # another tool's SDTM may lack RFPENDTC: the last assessment is the last day known alive
    out = adam([sdtm_subject("001", last=None)], [("001", "MONTH 1", 2, "2021-03-01", "CR")])
    os_ = out["ADTTE"][out["ADTTE"]["PARAMCD"] == "OS"]
    assert os_["USUBJID"].tolist() == ["S1-001"]
    assert os_["ADT"].tolist() == [pd.Timestamp("2021-03-01")] and os_["CNSR"].tolist() == [1.0]
