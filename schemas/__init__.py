"""The source contract: Pydantic v2 models of raw EDC records and of the study configuration."""
from schemas.config import StudyConfig, load_config
from schemas.source import FORMS, AdverseEvent, Exposure, ResponseAssessment, Subject

__all__ = ["StudyConfig", "load_config", "FORMS", "Subject", "AdverseEvent", "ResponseAssessment", "Exposure"]
