"""ADRS from hand-built SDTM frames: best response, landmark response, MRD-negative remission, ASEQ,
the data cutoff and traceability to RS (specs/adamig-1.3/methods.csv MT.ADRS.AVALC, MT.SRC)."""
from __future__ import annotations

import pandas as pd
import pytest

from converters.adam.adrs import derive_adrs
from converters.adam.adsl import derive_adsl
from converters.adam.build import analysis_definitions, derive_adam
from studybuilder import sdtm_frames, sdtm_subject

D = pd.Timestamp


def adrs_of(subjects, rs, **kw) -> pd.DataFrame:
    return derive_adam(sdtm_frames(subjects, rs, **kw))["ADRS"]


def param(adrs: pd.DataFrame, usubjid: str, paramcd: str) -> pd.DataFrame:
    return adrs[(adrs["USUBJID"] == usubjid) & (adrs["PARAMCD"] == paramcd)]


def one(adrs: pd.DataFrame, usubjid: str, paramcd: str) -> dict:
    rows = param(adrs, usubjid, paramcd)
    assert len(rows) == 1, rows
    return rows.iloc[0].to_dict()


# a varied cohort: remission then relapse then a second remission; response after NR; MRD positive CR;
# death before any assessment; an assessment after the cutoff; a subject never infused
COHORT_SUBJECTS = [sdtm_subject("001"), sdtm_subject("002"), sdtm_subject("003"),
                   sdtm_subject("004", death="2021-02-20"), sdtm_subject("005"),
                   sdtm_subject("006", infused=None)]
COHORT_RS = [
    ("001", "MONTH 1", 2, "2021-03-01", "NR", "POSITIVE"),
    ("001", "MONTH 2", 3, "2021-04-01", "RELAPSED DISEASE"),
    ("001", "MONTH 3", 4, "2021-05-01", "CR", "NEGATIVE"),
    ("002", "MONTH 1", 2, "2021-03-01", "CRi", "NEGATIVE"),
    ("002", "MONTH 3", 4, "2021-05-01", "CR", "NEGATIVE"),
    ("002", "MONTH 6", 5, "2021-08-01", "CR", "NEGATIVE"),
    ("003", "MONTH 1", 2, "2021-03-01", "CR", "POSITIVE"),
    ("003", "MONTH 3", 4, "2021-05-01", "NR", "POSITIVE"),
    ("005", "MONTH 1", 2, "2021-03-01", "CR", "NEGATIVE"),
    ("005", "MONTH 3", 4, "2023-02-01", "RELAPSED DISEASE", "POSITIVE"),   # after the cutoff
]


@pytest.fixture(scope="module")
def cohort():
    frames = sdtm_frames(COHORT_SUBJECTS, COHORT_RS, cutoff="2022-12-31")
    return frames, derive_adam(frames)["ADRS"]


def test_best_response_stops_at_the_first_relapse(cohort):
    _, adrs = cohort
    # NR, then relapse, then CR: the CR after the relapse is not the best response
    bor = one(adrs, "S1-001", "BOR")
    assert (bor["AVALC"], bor["AVAL"], bor["ADT"], bor["SRCSEQ"]) == ("NR", 3.0, D("2021-03-01"), 1.0)


def test_best_response_is_the_best_by_response_order_first_date(cohort):
    _, adrs = cohort
    # CRi then CR twice: CR ranks above CRi, and the first CR is the one kept
    bor = one(adrs, "S1-002", "BOR")
    assert (bor["AVALC"], bor["AVAL"], bor["ADT"], bor["AVISIT"], bor["SRCDOM"], bor["SRCVAR"], bor["SRCSEQ"]) == \
        ("CR", 1.0, D("2021-05-01"), "MONTH 3", "RS", "RSSTRESC", 3.0)


def test_no_best_response_without_assessments(cohort):
    _, adrs = cohort
    assert param(adrs, "S1-004", "BOR").empty


def test_landmark_response_and_flag(cohort):
    _, adrs = cohort
    m3 = one(adrs, "S1-002", "RSPM3")
    assert (m3["AVALC"], m3["AVAL"], m3["ADT"], m3["SRCSEQ"]) == ("CR", 1.0, D("2021-05-01"), 3.0)
    fl = one(adrs, "S1-002", "RSPM3FL")
    assert (fl["AVALC"], fl["AVAL"], fl["ADT"]) == ("Y", 1.0, D("2021-05-01"))
    # CR at month 1 but NR at month 3: not a month-3 responder
    assert one(adrs, "S1-003", "RSPM3")["AVALC"] == "NR"
    fl = one(adrs, "S1-003", "RSPM3FL")
    assert (fl["AVALC"], fl["AVAL"]) == ("N", 0.0)
    # CR at month 3 after a relapse still counts at the landmark
    assert one(adrs, "S1-001", "RSPM3FL")["AVALC"] == "Y"
    # no landmark assessment (death; or the month-3 visit after the cutoff): no landmark record
    for subject in ("S1-004", "S1-005"):
        assert param(adrs, subject, "RSPM3").empty and param(adrs, subject, "RSPM3FL").empty


def test_landmark_visit_from_analysis_definitions(cohort):
    frames, _ = cohort
    analysis = dict(analysis_definitions(None)[0], landmark_visit="MONTH 1")
    adsl = derive_adsl(frames, analysis, {})
    adrs = derive_adrs(frames["RS"], adsl, analysis)
    assert one(adrs, "S1-002", "RSPM3")["AVALC"] == "CRi"
    assert one(adrs, "S1-002", "RSPM3FL")["AVALC"] == "Y"
    assert one(adrs, "S1-001", "RSPM3FL")["AVALC"] == "N"


def test_mrd_negative_complete_remission(cohort):
    _, adrs = cohort
    # CRi with MRD negative the same day (month 1): Y, dated and traced to the MRD record
    y = one(adrs, "S1-002", "MRDNCR")
    assert (y["AVALC"], y["AVAL"], y["ADT"], y["SRCSEQ"]) == ("Y", 1.0, D("2021-03-01"), 2.0)
    # CR only with MRD positive; NR with MRD positive then CR MRD negative after relapse (Y)
    assert one(adrs, "S1-003", "MRDNCR")["AVALC"] == "N"
    assert one(adrs, "S1-001", "MRDNCR")["AVALC"] == "Y"
    assert one(adrs, "S1-001", "MRDNCR")["ADT"] == D("2021-05-01")
    # infused subjects without any assessment: N; not infused: no record
    n = one(adrs, "S1-004", "MRDNCR")
    assert (n["AVALC"], n["AVAL"]) == ("N", 0.0) and pd.isna(n["ADT"])
    assert adrs[adrs["USUBJID"] == "S1-006"].empty


def test_mrd_negative_needs_the_same_day():
    rs = [("001", "MONTH 1", 2, "2021-03-01", "CR", "POSITIVE"), ("001", "MONTH 1", 2, "2021-03-05", "NR", "NEGATIVE")]
    assert one(adrs_of([sdtm_subject("001")], rs), "S1-001", "MRDNCR")["AVALC"] == "N"


def test_first_response_and_first_relapse(cohort):
    _, adrs = cohort
    fresp = one(adrs, "S1-001", "FRESP")
    assert (fresp["AVALC"], fresp["ADT"], fresp["SRCSEQ"]) == ("CR", D("2021-05-01"), 4.0)
    rel = one(adrs, "S1-001", "RELPROG")
    assert (rel["AVALC"], rel["AVAL"], rel["ADT"], rel["SRCSEQ"]) == ("RELAPSED DISEASE", 5.0, D("2021-04-01"), 3.0)
    assert one(adrs, "S1-002", "FRESP")["AVALC"] == "CRi"
    assert param(adrs, "S1-002", "RELPROG").empty


def test_death_record(cohort):
    _, adrs = cohort
    d = one(adrs, "S1-004", "DEATH")
    assert (d["AVALC"], d["AVAL"], d["ADT"], d["SRCDOM"], d["SRCVAR"], d["ADY"]) == \
        ("Y", 1.0, D("2021-02-20"), "ADSL", "DTHDT", 20.0)
    assert pd.isna(d["SRCSEQ"])


def test_response_values_and_study_day(cohort):
    _, adrs = cohort
    ovr = param(adrs, "S1-001", "OVRLRESP")
    assert ovr["AVALC"].tolist() == ["NR", "RELAPSED DISEASE", "CR"]
    assert ovr["AVAL"].tolist() == [3.0, 5.0, 1.0]
    assert ovr["ADY"].tolist() == [29.0, 60.0, 90.0]
    assert ovr["AVISITN"].tolist() == [2.0, 3.0, 4.0]
    assert one(adrs, "S1-002", "BOR")["TRT01A"] == "Drug 1x10^6 cells/kg"
    mrd = param(adrs, "S1-001", "MRDRESP")
    assert mrd["AVALC"].tolist() == ["POSITIVE", "NEGATIVE"] and mrd["AVAL"].isna().all()


def test_aseq_numbers_each_subject_in_parameter_order(cohort):
    _, adrs = cohort
    order = ["OVRLRESP", "MRDRESP", "BOR", "RSPM3", "RSPM3FL", "MRDNCR", "FRESP", "RELPROG", "DEATH"]
    for usubjid, rows in adrs.groupby("USUBJID"):
        assert rows["ASEQ"].tolist() == [float(i) for i in range(1, len(rows) + 1)], usubjid
        assert rows["PARAMCD"].map(order.index).is_monotonic_increasing, usubjid
    assert not adrs.duplicated(["USUBJID", "ASEQ"]).any()


def test_nothing_after_the_cutoff(cohort):
    _, adrs = cohort
    assert (adrs["ADT"].dropna() <= D("2022-12-31")).all()
    s5 = adrs[adrs["USUBJID"] == "S1-005"]
    assert s5.loc[s5["PARAMCD"] == "OVRLRESP", "ADT"].tolist() == [D("2021-03-01")]
    assert param(adrs, "S1-005", "RELPROG").empty
    assert one(adrs, "S1-005", "BOR")["AVALC"] == "CR"


def test_death_after_the_cutoff_is_not_in_adrs():
    adrs = adrs_of([sdtm_subject("001", death="2023-01-15")], [("001", "MONTH 1", 2, "2021-03-01", "CR")],
                   cutoff="2022-12-31")
    assert param(adrs, "S1-001", "DEATH").empty
    on = adrs_of([sdtm_subject("001", death="2022-12-31")], [], cutoff="2022-12-31")
    assert one(on, "S1-001", "DEATH")["ADT"] == D("2022-12-31")


def test_assessment_before_treatment_start_is_not_a_response():
    """BOR and FRESP describe the response to treatment: an assessment dated before TRTSDT is not one."""
    rs = [("001", "SCREENING", 1, "2021-01-20", "CR"), ("001", "MONTH 1", 2, "2021-03-01", "NR")]
    adrs = adrs_of([sdtm_subject("001")], rs)
    assert one(adrs, "S1-001", "BOR")["AVALC"] == "NR"
    assert param(adrs, "S1-001", "FRESP").empty


COPIED = {"OVRLRESP", "MRDRESP", "BOR", "RSPM3", "FRESP", "RELPROG"}


def test_every_srcseq_points_at_its_rs_record(cohort):
    """MT.SRC: each SRCSEQ is the RSSEQ of an RS record of the same subject, dated ADT; where AVALC is
    copied from it, AVALC = RSSTRESC; the derived flags agree with the record they cite."""
    frames, adrs = cohort
    rs = frames["RS"].set_index(["USUBJID", "RSSEQ"])
    traced = adrs[adrs["SRCSEQ"].notna()]
    assert len(traced) > 20
    assert (traced["SRCDOM"] == "RS").all() and (traced["SRCVAR"] == "RSSTRESC").all()
    for _, row in traced.iterrows():
        src = rs.loc[(row["USUBJID"], row["SRCSEQ"])]
        assert D(src["RSDTC"]) == row["ADT"], row.to_dict()
        if row["PARAMCD"] in COPIED:
            assert row["AVALC"] == src["RSSTRESC"], row.to_dict()
        elif row["PARAMCD"] == "RSPM3FL":
            assert (row["AVALC"] == "Y") == (src["RSSTRESC"] in ("CR", "CRi")), row.to_dict()
        elif row["PARAMCD"] == "MRDNCR":
            assert (row["AVALC"], src["RSTESTCD"], src["RSSTRESC"]) == ("Y", "MRDRESP", "NEGATIVE")
        else:
            pytest.fail(f"unexpected traced parameter {row['PARAMCD']}")
    untraced = adrs[adrs["SRCSEQ"].isna()]
    assert set(untraced["PARAMCD"]) == {"MRDNCR", "DEATH"}
    assert (untraced.loc[untraced["PARAMCD"] == "DEATH", "SRCDOM"] == "ADSL").all()


def test_only_infused_subjects_have_adrs_records(cohort):
    frames, adrs = cohort
    frames = dict(frames)
    frames["RS"] = pd.concat([frames["RS"], pd.DataFrame([dict(
        STUDYID="S1", USUBJID="S1-006", RSSEQ=1.0, RSTESTCD="OVRLRESP", RSORRES="NR", RSSTRESC="NR",
        VISITNUM=2.0, VISIT="MONTH 1", RSDTC="2021-03-01")])], ignore_index=True)
    assert set(derive_adam(frames)["ADRS"]["USUBJID"]) == {"S1-001", "S1-002", "S1-003", "S1-004", "S1-005"}


def test_no_infused_subject_gives_empty_adrs_and_adtte():
    """A data cut before the first infusion: ADSL lists the subjects; ADRS and ADTTE have no records."""
    frames = sdtm_frames([sdtm_subject("001", infused=None), sdtm_subject("002", screen_failure=True)], [])
    out = derive_adam(frames)
    assert out["ADSL"]["SAFFL"].tolist() == ["N", "N"]
    assert out["ADRS"].empty and out["ADTTE"].empty


def test_adam_does_not_depend_on_the_order_of_sdtm_records(cohort):
    # the derivations sort on integer keys built from positions: shuffled DM, EX and RS give the same frames
    frames, _ = cohort
    shuffled = {name: frame.sample(frac=1, random_state=7).reset_index(drop=True) if name in ("DM", "EX", "RS") else frame
                for name, frame in frames.items()}
    expected, got = derive_adam(frames), derive_adam(shuffled)
    for name in ("ADSL", "ADRS", "ADTTE"):
        pd.testing.assert_frame_equal(got[name], expected[name])
