"""Study configuration (study.toml): what the study is, and where its source files are."""
from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.dates import IsoFullDate
from schemas.source import FORMS


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DURATION = r"^P([0-9]+[YMWD])+$"  # ISO 8601 duration in whole units: P18Y, P6M, P1Y6M
_FIRST_YEAR, _LAST_YEAR = 1900, 2200  # dates outside are typing errors (and beyond what pandas can hold)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value, info):
        """ESC, BEL or a line break in a label would reach XPT text, the terminal and the reports."""
        if _holds_model(cls.model_fields[info.field_name].annotation):
            return value  # checked field by field in the nested model
        for text in _texts(value):
            found = _CONTROL.search(text)
            if found:
                raise ValueError(f"contains the control character U+{ord(found.group()):04X}: remove it")
        return value


def _holds_model(annotation) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(a) for a in get_args(annotation))


def _texts(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _texts(v)]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in (*_texts(k), *_texts(v))]
    return []


class Study(_Strict):
    studyid: Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,40}$")] = Field(description="STUDYID of every dataset.")
    title: Annotated[str, Field(min_length=1)] = Field(description="Full protocol title (TS TITLE).")
    sponsor: Annotated[str, Field(min_length=1)] = Field(description="Sponsor name (TS SPONSOR).")
    registry_id: Annotated[str, Field(pattern=r"^NCT[0-9]{8}$")] = Field(description="ClinicalTrials.gov id (TS REGID).")
    protocol_id: str | None = Field(default=None, description="Sponsor protocol number.")
    phase: str = Field(description="Trial phase, CT TPHASE submission value (TS TPHASE).")
    indication: str = Field(description="Trial disease/condition indication (TS INDIC).")
    indication_code: str | None = Field(default=None, description="SNOMED CT code of the indication (TS INDIC TSVALCD).")
    pharmacologic_class: str | None = Field(
        default=None, description="Established pharmacologic class of the investigational product (TS PCLAS).")
    study_type: str = Field(default="INTERVENTIONAL", description="CT STYPE value.")
    intervention_model: str = Field(default="SINGLE GROUP", description="CT INTMODEL value.")
    intervention_type: str = Field(default="BIOLOGIC", description="CT INTTYPE value.")
    trial_type: tuple[str, ...] = Field(default=("SAFETY", "EFFICACY"), description="CT TTYPE values.")
    control_type: str = Field(default="NONE", description="CT TCNTRL value.")
    blinding: str = Field(default="OPEN LABEL", description="CT TBLIND value.")
    randomized: Literal["Y", "N"] = "N"
    age_min: str = Field(description="Planned minimum age, ISO 8601 duration (P18Y).", pattern=_DURATION)
    age_max: str = Field(description="Planned maximum age, ISO 8601 duration (P65Y).", pattern=_DURATION)
    sex_population: Literal["M", "F", "BOTH"] = "BOTH"
    planned_subjects: int = Field(ge=1, le=10_000_000, description="Planned number of subjects (TS PLANSUB).")
    healthy_volunteers: Literal["Y", "N"] = "N"
    study_start_date: IsoFullDate = Field(description="First subject's informed consent (TS SSTDTC).")
    study_end_date: IsoFullDate | None = Field(default=None, description="Last subject's last visit (TS SENDTC).")
    data_cutoff: IsoFullDate = Field(description="Data cutoff date; nothing after it counts (TS DCUTDTC).")
    ct_version: Literal["2025-03-28"] = Field(description="CDISC SDTM CT release the package uses.")
    package_datetime: str = Field(
        description="Creation timestamp written into XPT headers (ISO 8601); SOURCE_DATE_EPOCH overrides it.",
        pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$")

    @field_validator("study_start_date", "study_end_date", "data_cutoff", "package_datetime")
    @classmethod
    def _real_and_plausible(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            when = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"'{value}' is not a real date and time") from None
        if not _FIRST_YEAR <= when.year <= _LAST_YEAR:
            raise ValueError(f"'{value}' is outside the years {_FIRST_YEAR}-{_LAST_YEAR}")
        return value

    @model_validator(mode="after")
    def _dates_in_order(self) -> "Study":
        start = self.study_start_date[:10]
        if self.data_cutoff[:10] < start:
            raise ValueError(f"data_cutoff {self.data_cutoff} is before study_start_date {self.study_start_date}")
        if self.study_end_date is not None and self.study_end_date[:10] < start:
            raise ValueError(f"study_end_date {self.study_end_date} is before study_start_date {self.study_start_date}")
        return self


class Arm(_Strict):
    armcd: Annotated[str, Field(pattern=r"^[A-Z0-9_]{1,20}$")]
    arm: Annotated[str, Field(min_length=1, max_length=200)]
    treatment: str = Field(description="The investigational treatment given in this arm (a treatments name).")
    dose: float = Field(gt=0, description="Dose of the investigational treatment in this arm.")
    dose_unit: str = Field(description="CT UNIT value of dose.")


class Treatment(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=40)]
    category: Literal["INVESTIGATIONAL", "LYMPHODEPLETION"] = Field(description="Role in the protocol (EX EXCAT).")


class SourceFile(_Strict):
    path: str = Field(description="Path of the file, relative to the study folder; .csv or .jsonl.")

    @field_validator("path")
    @classmethod
    def _inside_and_known(cls, value: str) -> str:
        p = Path(value)
        if p.is_absolute() or ".." in p.parts:
            raise ValueError(f"'{value}' must be a relative path that stays inside the study folder")
        if p.suffix.lower() not in (".csv", ".jsonl"):
            raise ValueError(f"'{value}' must end in .csv or .jsonl")
        return value
    rename: dict[str, str] = Field(default_factory=dict, description="EDC column name -> contract field name.")
    encoding: Literal["utf-8", "utf-8-sig"] = "utf-8-sig"


class AdamOptions(_Strict):
    dose_groups: dict[str, str] = Field(
        default_factory=dict, description="ARMCD -> analysis dose group (ADSL TRT01AG1), in display order.")
    landmark_visit: str | None = Field(default=None, description="Visit of the landmark response (default MONTH 3).")


class StudyConfig(_Strict):
    study: Study
    arms: tuple[Arm, ...] = Field(min_length=1)
    treatments: tuple[Treatment, ...] = Field(min_length=1)
    sources: dict[str, SourceFile]
    adam: AdamOptions = Field(default_factory=AdamOptions)

    @model_validator(mode="after")
    def _consistent(self) -> "StudyConfig":
        missing = set(FORMS) - set(self.sources)
        unknown = set(self.sources) - set(FORMS)
        if missing:
            raise ValueError(f"sources: missing form(s) {', '.join(sorted(missing))}")
        if unknown:
            raise ValueError(f"sources: unknown form(s) {', '.join(sorted(unknown))}; known: {', '.join(FORMS)}")
        for armcd in self.adam.dose_groups:
            if self.arm(armcd) is None:
                raise ValueError(f"adam.dose_groups: '{armcd}' is not an armcd of arms")
        names = {t.name for t in self.treatments}
        for arm in self.arms:
            if arm.treatment not in names:
                raise ValueError(f"arms: arm {arm.armcd} names treatment '{arm.treatment}' not in treatments")
        if len({a.armcd for a in self.arms}) != len(self.arms):
            raise ValueError("arms: armcd values must be unique")
        return self

    def arm(self, armcd: str) -> Arm | None:
        return next((a for a in self.arms if a.armcd == armcd), None)

    def investigational(self) -> set[str]:
        return {t.name for t in self.treatments if t.category == "INVESTIGATIONAL"}


CONFIG_NAMES = ("study.toml",)


def load_config(study_dir: Path) -> StudyConfig:
    """Read and validate ``study.toml`` in a study folder; raises FileNotFoundError / tomllib / pydantic errors."""
    path = Path(study_dir) / CONFIG_NAMES[0]
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    return StudyConfig.model_validate(data)
