"""Raw source records, one model per EDC form: the contract every study folder must meet.

Each field documents what it holds and which values it allows; a field tagged with a
``codelist`` takes its allowed values from the controlled terminology in ``specs/`` (never
restated here). ``sdtm`` names the SDTM variable the field feeds, for the reader and the README.
CSV cells arrive as text; an empty cell means "not collected" (None).
"""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from schemas.dates import IsoFullDate, IsoPartialDate
from specs import codelist_values


def _in_codelist(name: str):
    def check(value: str) -> str:
        allowed = codelist_values(name)
        if value not in allowed:
            shown = ", ".join(sorted(allowed)[:12]) + (" ..." if len(allowed) > 12 else "")
            raise PydanticCustomError("codelist", "'{value}' is not in codelist {name} ({shown})",
                                      {"value": value, "name": name, "shown": shown})
        return value

    return AfterValidator(check)


def CT(name: str):
    """A text field whose values come from the codelist ``name`` in specs/ct."""
    return Annotated[str, _in_codelist(name), Field(json_schema_extra={"codelist": name})]


def _f(description: str, sdtm: str | None = None, **kw):
    extra = {"sdtm": sdtm} if sdtm else None
    return Field(description=description, json_schema_extra=extra, **kw)


SubjectId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$", min_length=1, max_length=20)]
Text200 = Annotated[str, Field(min_length=1, max_length=200)]


INT_FIELDS = ("age", "grade", "llt_code", "pt_code", "hlt_code", "hlgt_code", "soc_code")
FLOAT_FIELDS = ("dose", "visit_number", "marrow_blasts_pct")


class SourceRecord(BaseModel):
    # inf/nan are not measurements; a JSON true/false is not a number or a text
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans(cls, value):
        if isinstance(value, bool):
            raise PydanticCustomError("bool_type", "a true/false value is not allowed here")
        return value

    # Python (and Pydantic) read "3_0" as 30; no export means that. Every numeric field of the forms
    # is listed (tests/test_reliability.py checks the list against the models).
    @field_validator(*INT_FIELDS, mode="before", check_fields=False)
    @classmethod
    def _whole_number_text(cls, value):
        if isinstance(value, str) and "_" in value:
            raise PydanticCustomError("int_parsing", "not a number")
        return value

    @field_validator(*FLOAT_FIELDS, mode="before", check_fields=False)
    @classmethod
    def _number_text(cls, value):
        if isinstance(value, str) and "_" in value:
            raise PydanticCustomError("float_parsing", "not a number")
        return value


class Subject(SourceRecord):
    """Subjects form: one row per screened subject (screen failures included)."""

    subject_id: SubjectId = _f("Subject number as on the CRF, unique within the study.", "DM.SUBJID")
    site_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9]{1,10}$")] = _f("Site number, kept as text ('01').", "DM.SITEID")
    informed_consent_date: IsoFullDate = _f("Date informed consent was signed.", "DM.RFICDTC")
    age: int = _f("Age at informed consent, in age_unit.", "DM.AGE", ge=0, le=120)
    age_unit: CT("AGEU") = _f("Unit of age.", "DM.AGEU", default="YEARS")
    sex: CT("SEX") = _f("Sex as collected, CDISC submission value.", "DM.SEX")
    race: CT("RACE") = _f("Race as collected, CDISC submission value.", "DM.RACE")
    ethnicity: CT("ETHNIC") = _f("Ethnicity, CDISC submission value.", "DM.ETHNIC")
    country: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = _f("Country of the site, ISO 3166-1 alpha-3.", "DM.COUNTRY")
    screening_outcome: Literal["PASSED", "FAILED"] = _f("Outcome of screening.", "DM.ARMNRS")
    screen_failure_reason: Text200 | None = _f("Why screening failed (only when FAILED).", None, default=None)
    arm_code: Annotated[str, Field(max_length=20)] | None = _f(
        "Dose level assigned at enrolment: an armcd of the study configuration (empty for screen failures).", "DM.ARMCD", default=None)
    cohort: Literal["ESCALATION", "EXPANSION"] | None = _f("Trial part the subject was enrolled in.", "SUPPDM.COHORT", default=None)
    apheresis_date: IsoFullDate | None = _f("Date of leukapheresis.", "SUPPDM.APHDTC", default=None)
    infusion_date: IsoFullDate | None = _f("Date (and time) of the CAR-T infusion; empty if never infused.", "DM.RFSTDTC", default=None)
    not_infused_reason: Text200 | None = _f("Why an enrolled subject was not infused.", "SUPPDM.NTRTREAS", default=None)
    cns_status: Literal["CNS1", "CNS2", "CNS3"] | None = _f("CNS involvement at baseline (CNS3 = CNS leukaemia).", "SUPPDM.CNSSTAT", default=None)
    death_date: IsoPartialDate | None = _f("Date of death, partial allowed.", "DM.DTHDTC", default=None)
    death_cause: Text200 | None = _f("Primary cause of death, as reported.", "SUPPDM.DTHCAUS", default=None)
    last_known_alive_date: IsoFullDate | None = _f("Last date the subject was known to be alive.", "DM.RFPENDTC", default=None)


class AdverseEvent(SourceRecord):
    """Adverse events form: one row per event."""

    subject_id: SubjectId = _f("Subject number.", "AE.USUBJID")
    ae_id: Annotated[str, Field(min_length=1, max_length=20)] = _f("CRF line identifier, unique within subject.", "AE.AESPID")
    verbatim_term: Text200 = _f("Event as reported by the investigator.", "AE.AETERM")
    preferred_term: Text200 = _f("MedDRA preferred term.", "AE.AEDECOD")
    system_organ_class: Text200 = _f("MedDRA primary system organ class.", "AE.AEBODSYS")
    lowest_level_term: Text200 | None = _f("MedDRA lowest level term.", "AE.AELLT", default=None)
    llt_code: int | None = _f("MedDRA LLT code.", "AE.AELLTCD", default=None, ge=10000000, le=99999999)
    pt_code: int | None = _f("MedDRA PT code.", "AE.AEPTCD", default=None, ge=10000000, le=99999999)
    hlt: Text200 | None = _f("MedDRA high level term.", "AE.AEHLT", default=None)
    hlt_code: int | None = _f("MedDRA HLT code.", "AE.AEHLTCD", default=None, ge=10000000, le=99999999)
    hlgt: Text200 | None = _f("MedDRA high level group term.", "AE.AEHLGT", default=None)
    hlgt_code: int | None = _f("MedDRA HLGT code.", "AE.AEHLGTCD", default=None, ge=10000000, le=99999999)
    soc_code: int | None = _f("MedDRA primary SOC code.", "AE.AEBDSYCD", default=None, ge=10000000, le=99999999)
    start_date: IsoPartialDate = _f("Start date, partial allowed.", "AE.AESTDTC")
    end_date: IsoPartialDate | None = _f("End date, partial allowed; empty if ongoing.", "AE.AEENDTC", default=None)
    grade: int = _f("Toxicity grade 1-5 on grading_scale.", "AE.AETOXGR", ge=1, le=5)
    grading_scale: CT("TOXSCALE") = _f("Grading scale: ASTCT for CRS and ICANS, CTCAE v5.0 otherwise.", "SUPPAE.AETOXSCL")
    serious: CT("NY") = _f("Serious event (Y/N).", "AE.AESER")
    serious_death: CT("NY") | None = _f("Serious because it resulted in death.", "AE.AESDTH", default=None)
    serious_life_threatening: CT("NY") | None = _f("Serious because life threatening.", "AE.AESLIFE", default=None)
    serious_hospitalization: CT("NY") | None = _f("Serious because it required or prolonged hospitalization.", "AE.AESHOSP", default=None)
    serious_disability: CT("NY") | None = _f("Serious because of persistent or significant disability.", "AE.AESDISAB", default=None)
    serious_congenital: CT("NY") | None = _f("Serious because of a congenital anomaly.", "AE.AESCONG", default=None)
    serious_other: CT("NY") | None = _f("Serious as another medically important event.", "AE.AESMIE", default=None)
    relationship: CT("REL") = _f("Causality to the study treatment.", "AE.AEREL")
    action_taken: CT("ACN") = _f("Action taken with the study treatment.", "AE.AEACN")
    outcome: CT("OUT") = _f("Outcome of the event.", "AE.AEOUT")


class ResponseAssessment(SourceRecord):
    """Response assessments form: one row per disease assessment."""

    subject_id: SubjectId = _f("Subject number.", "RS.USUBJID")
    visit: Annotated[str, Field(min_length=1, max_length=40)] = _f("Visit name, e.g. 'MONTH 3'.", "RS.VISIT")
    visit_number: float = _f("Visit number, increasing with planned time.", "RS.VISITNUM", ge=0)
    assessment_date: IsoFullDate = _f("Date of the assessment (bone marrow).", "RS.RSDTC")
    overall_response: CT("RESPSRC") = _f("Overall response: CR, CRi, NR, PD or RELAPSE.", "RS.RSORRES (OVRLRESP)")
    mrd_status: CT("MRDSRC") | None = _f("Measurable residual disease: NEGATIVE or POSITIVE; empty if not done.", "RS.RSORRES (MRDRESP)", default=None)
    mrd_method: CT("METHOD") | None = _f("MRD method, e.g. FLOW CYTOMETRY.", "RS.RSMETHOD", default=None)
    marrow_blasts_pct: float | None = _f("Bone marrow blasts, percent of nucleated cells.", None, default=None, ge=0, le=100)
    evaluator: CT("EVAL") = _f("Who assessed the response.", "RS.RSEVAL", default="INVESTIGATOR")


class Exposure(SourceRecord):
    """Exposure form: one row per administration (lymphodepletion days and the CAR-T infusion)."""

    subject_id: SubjectId = _f("Subject number.", "EX.USUBJID")
    treatment: Annotated[str, Field(min_length=1, max_length=40)] = _f(
        "Treatment name: one of the study configuration's treatments.", "EX.EXTRT")
    start_date: IsoFullDate = _f("Start of the administration.", "EX.EXSTDTC")
    end_date: IsoFullDate | None = _f("End of the administration (same day if empty).", "EX.EXENDTC", default=None)
    dose: float = _f("Dose per administration.", "EX.EXDOSE", gt=0)
    dose_unit: CT("UNIT") = _f("Unit of dose, e.g. mg/m2 or 10^6/kg (CAR-T cells per kg).", "EX.EXDOSU")
    route: CT("ROUTE") = _f("Route of administration.", "EX.EXROUTE")
    dose_form: CT("FRM") | None = _f("Dosage form.", "EX.EXDOSFRM", default=None)


# form name -> (model, key fields that identify one record, for duplicate checks)
FORMS: dict[str, tuple[type[SourceRecord], tuple[str, ...]]] = {
    "subjects": (Subject, ("subject_id",)),
    "adverse_events": (AdverseEvent, ("subject_id", "ae_id")),
    "response": (ResponseAssessment, ("subject_id", "assessment_date")),
    "exposure": (Exposure, ("subject_id", "treatment", "start_date")),
}
