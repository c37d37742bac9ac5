"""ADSL from hand-built SDTM frames: one record per DM subject, population flags, treatment variables,
age groups, death and follow-up (specs/adamig-1.3/methods.csv)."""
from __future__ import annotations

import tomllib

import pandas as pd
import pytest

from converters.adam.adsl import derive_adsl
from converters.adam.build import analysis_definitions, derive_adam
from converters.adam.sdtm_in import SdtmInputError
from schemas.config import StudyConfig
from studybuilder import CONFIG, sdtm_frames, sdtm_subject

D = pd.Timestamp

TWO_ARMS = CONFIG.replace("""[[treatments]]
name = "DRUG\"""", """[[arms]]
armcd = "DL2"
arm = "Drug 3x10^6 cells/kg"
treatment = "DRUG"
dose = 3.0
dose_unit = "10^6/kg"

[[arms]]
armcd = "DL0"
arm = "Drug 0.5x10^6 cells/kg"
treatment = "DRUG"
dose = 0.5
dose_unit = "10^6/kg"

[[treatments]]
name = "DRUG\"""", 1)


def config(adam: str = "") -> StudyConfig:
    return StudyConfig.model_validate(tomllib.loads(TWO_ARMS + adam))


def adsl_of(frames, cfg: StudyConfig | None = None) -> pd.DataFrame:
    return derive_adam(frames, cfg)["ADSL"].set_index("USUBJID")


@pytest.fixture
def mixed():
    """Treated with a month-3 assessment, treated without one, assigned but not treated, screen failure."""
    subjects = [sdtm_subject("001"), sdtm_subject("002", death="2021-04-10"),
                sdtm_subject("003", infused=None, last="2021-03-01"),
                sdtm_subject("004", screen_failure=True, last="2021-01-20", age=45)]
    rs = [("001", "MONTH 1", 2, "2021-03-01", "CR", "NEGATIVE"), ("001", "MONTH 3", 4, "2021-05-01", "CR"),
          ("002", "MONTH 1", 2, "2021-03-01", "NR")]
    return sdtm_frames(subjects, rs, death_causes={"002": "DISEASE PROGRESSION"})


def test_one_record_per_dm_subject_including_screen_failures(mixed):
    # a second SUPPDM DTHCAUS record and several EX records per subject must not multiply rows
    mixed["SUPPDM"] = pd.concat([mixed["SUPPDM"], mixed["SUPPDM"]], ignore_index=True)
    adsl = derive_adam(mixed)["ADSL"]
    assert adsl["USUBJID"].tolist() == ["S1-001", "S1-002", "S1-003", "S1-004"]
    assert adsl["USUBJID"].is_unique
    assert len(adsl) == len(mixed["DM"])


def test_population_flags(mixed):
    adsl = adsl_of(mixed)
    assert adsl["ENRLFL"].to_dict() == {"S1-001": "Y", "S1-002": "Y", "S1-003": "Y", "S1-004": "N"}
    assert adsl["SAFFL"].to_dict() == {"S1-001": "Y", "S1-002": "Y", "S1-003": "N", "S1-004": "N"}
    # EFFFL: infused and assessed at the landmark visit (MONTH 3)
    assert adsl["EFFFL"].to_dict() == {"S1-001": "Y", "S1-002": "N", "S1-003": "N", "S1-004": "N"}


def test_efffl_ignores_a_landmark_assessment_after_the_cutoff():
    frames = sdtm_frames([sdtm_subject("001")], [("001", "MONTH 3", 4, "2021-05-01", "CR")], cutoff="2021-04-30")
    assert adsl_of(frames).loc["S1-001", "EFFFL"] == "N"
    frames = sdtm_frames([sdtm_subject("001")], [("001", "MONTH 3", 4, "2021-05-01", "CR")], cutoff="2021-05-01")
    assert adsl_of(frames).loc["S1-001", "EFFFL"] == "Y"


def test_efffl_follows_the_configured_landmark_visit():
    frames = sdtm_frames([sdtm_subject("001")], [("001", "MONTH 1", 2, "2021-03-01", "CR")])
    assert adsl_of(frames).loc["S1-001", "EFFFL"] == "N"
    assert adsl_of(frames, config('\n[adam]\nlandmark_visit = "MONTH 1"\n')).loc["S1-001", "EFFFL"] == "Y"


def test_treatment_dates_come_from_the_investigational_product_only(mixed):
    adsl = adsl_of(mixed)
    # lymphodepletion on 2021-01-27 is not the treatment start
    assert adsl.loc["S1-001", "TRTSDT"] == D("2021-02-01")
    assert adsl.loc["S1-001", "TRTEDT"] == D("2021-02-01")
    assert adsl.loc[["S1-003", "S1-004"], "TRTSDT"].isna().all()


def test_treatment_variables_and_dose_rank():
    subjects = [sdtm_subject("001", armcd="DL2", arm="Drug 3x10^6 cells/kg"),
                sdtm_subject("002", armcd="DL0", arm="Drug 0.5x10^6 cells/kg"),
                sdtm_subject("003", armcd="DL1"), sdtm_subject("004", screen_failure=True)]
    frames = sdtm_frames(subjects, doses={"DL0": 0.5, "DL1": 1.0, "DL2": 3.0})
    adsl = adsl_of(frames)
    assert adsl["TRT01P"].tolist() == ["Drug 3x10^6 cells/kg", "Drug 0.5x10^6 cells/kg", "Drug 1x10^6 cells/kg", None]
    assert adsl["TRT01A"].tolist()[:3] == adsl["TRT01P"].tolist()[:3]
    # numbered by increasing dose, not by code
    assert adsl["TRT01PN"].tolist()[:3] == [3.0, 1.0, 2.0]
    assert adsl["TRT01AN"].tolist()[:3] == [3.0, 1.0, 2.0]
    assert pd.isna(adsl.loc["S1-004", "TRT01PN"])


def test_trt01ag1_without_configuration_is_trt01a(mixed):
    adsl = adsl_of(mixed)
    assert adsl["TRT01AG1"].tolist() == adsl["TRT01A"].tolist()
    assert adsl["TR01AG1N"].fillna(-1).tolist() == adsl["TRT01AN"].fillna(-1).tolist()


def test_trt01ag1_from_configured_dose_groups():
    cfg = config('\n[adam]\ndose_groups = { DL2 = "HIGH", DL0 = "LOW", DL1 = "LOW" }\n')
    subjects = [sdtm_subject("001", armcd="DL2", arm="Drug 3x10^6 cells/kg"),
                sdtm_subject("002", armcd="DL0", arm="Drug 0.5x10^6 cells/kg"),
                sdtm_subject("003", armcd="DL1"), sdtm_subject("004", infused=None)]
    adsl = adsl_of(sdtm_frames(subjects, doses={"DL0": 0.5, "DL1": 1.0, "DL2": 3.0}), cfg)
    assert adsl["TRT01AG1"].tolist()[:3] == ["HIGH", "LOW", "LOW"]
    # numbered in the order the groups first appear in the configuration
    assert adsl["TR01AG1N"].tolist()[:3] == [1.0, 2.0, 2.0]
    # not treated: no actual treatment, so no actual group
    assert pd.isna(adsl.loc["S1-004", "TRT01AG1"]) and pd.isna(adsl.loc["S1-004", "TR01AG1N"])
    assert analysis_definitions(cfg)[1] == {"DL2": "HIGH", "DL0": "LOW", "DL1": "LOW"}


def test_age_group_bounds():
    ages = [18, 39, 40, 65, None]
    subjects = [sdtm_subject(f"00{i}", age=a) for i, a in enumerate(ages, start=1)]
    adsl = adsl_of(sdtm_frames(subjects))
    assert adsl["AGEGR1"].tolist() == ["18-39", "18-39", "40-65", "40-65", None]
    assert adsl["AGEGR1N"].fillna(0).tolist() == [1.0, 1.0, 2.0, 2.0, 0.0]


def test_death_variables_and_cause_from_suppdm(mixed):
    adsl = adsl_of(mixed)
    assert adsl.loc["S1-002", "DTHFL"] == "Y"
    assert adsl.loc["S1-002", "DTHDT"] == D("2021-04-10")
    assert adsl.loc["S1-002", "DTHCAUS"] == "DISEASE PROGRESSION"
    assert adsl.loc["S1-002", "LSTALVDT"] == D("2021-04-10")
    assert pd.isna(adsl.loc["S1-001", "DTHDT"]) and pd.isna(adsl.loc["S1-001", "DTHCAUS"])


def test_adsl_without_suppdm():
    frames = sdtm_frames([sdtm_subject("001")])
    del frames["SUPPDM"]
    adsl = adsl_of(frames)
    assert len(adsl) == 1 and adsl["DTHCAUS"].isna().all()


def test_follow_up_duration(mixed):
    adsl = adsl_of(mixed)
    assert adsl.loc["S1-001", "LSTALVDT"] == D("2022-06-30")
    # 2021-02-01 .. 2022-06-30, the infusion day being day 1
    assert adsl.loc["S1-001", "FUPDUR"] == 515.0
    assert adsl.loc["S1-002", "FUPDUR"] == (D("2021-04-10") - D("2021-02-01")).days + 1 == 69
    assert adsl.loc[["S1-003", "S1-004"], "FUPDUR"].isna().all()


def test_follow_up_stops_at_the_cutoff_last_alive_keeps_the_contact():
    frames = sdtm_frames([sdtm_subject("001", last="2023-03-01")], cutoff="2022-12-31")
    adsl = adsl_of(frames)
    assert adsl.loc["S1-001", "DCUTDT"] == D("2022-12-31")
    # LSTALVDT is the data as collected; ADTTE censors it at the cutoff as "DATA CUTOFF"
    assert adsl.loc["S1-001", "LSTALVDT"] == D("2023-03-01")
    assert adsl.loc["S1-001", "FUPDUR"] == (D("2022-12-31") - D("2021-02-01")).days + 1


@pytest.mark.parametrize("dthdtc, infused, expected", [
    ("2022-03", "2021-02-01", "2022-03-01"),      # first day of the month
    ("2022", "2021-02-01", "2022-01-01"),         # 1 January
    ("2022-03", "2022-03-15", "2022-03-15"),      # never before the treatment start
    ("2022-03-20", "2022-03-15", "2022-03-20"),   # complete dates are kept
    ("2022-03-20T10:15", "2021-02-01", "2022-03-20"),
])
def test_partial_death_date_imputation(dthdtc, infused, expected):
    frames = sdtm_frames([sdtm_subject("001", infused=infused, death=dthdtc)])
    adsl = adsl_of(frames)
    assert adsl.loc["S1-001", "DTHDT"] == D(expected)
    assert adsl.loc["S1-001", "LSTALVDT"] == D(expected)


def test_missing_data_cutoff_is_an_input_error():
    frames = sdtm_frames([sdtm_subject("001")])
    frames["TS"] = frames["TS"][frames["TS"]["TSPARMCD"] != "DCUTDTC"]
    with pytest.raises(SdtmInputError, match="DCUTDTC"):
        derive_adsl(frames, analysis_definitions(None)[0], {})


def test_default_pandas_dtypes_give_the_same_adsl(mixed):
    """Frames as pandas builds them by default (string dtype, NaN) give the same ADSL as object columns."""
    plain = {k: pd.DataFrame(v.to_dict("list")).convert_dtypes(convert_integer=False, convert_boolean=False,
                                                              convert_floating=False)
             for k, v in mixed.items()}
    pd.testing.assert_frame_equal(derive_adam(plain)["ADSL"].astype(object).where(lambda f: f.notna(), None),
                                  derive_adam(mixed)["ADSL"].astype(object).where(lambda f: f.notna(), None))
