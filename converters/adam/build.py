"""SDTM folder -> ADaM frames (ADSL, ADRS, ADTTE), conformed to the ADaMIG 1.3 spec."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from converters.adam.adrs import derive_adrs
from converters.adam.adsl import derive_adsl
from converters.adam.sdtm_in import read_sdtm
from converters.adam.tte import derive_adtte
from schemas.config import StudyConfig
from specs import toml_spec

STANDARD = "adamig-1.3"


def analysis_definitions(config: StudyConfig | None) -> tuple[dict, dict[str, str]]:
    analysis = dict(toml_spec("analysis", STANDARD))
    groups: dict[str, str] = {}
    if config is not None:
        if config.adam.landmark_visit:
            analysis["landmark_visit"] = config.adam.landmark_visit
        groups = dict(config.adam.dose_groups)
    return analysis, groups


def derive_adam(sdtm: dict[str, pd.DataFrame], config: StudyConfig | None = None,
                tte_spec: dict | None = None) -> dict[str, pd.DataFrame]:
    """All ADaM datasets, as analysis frames (dates as datetime64) before spec conformance."""
    analysis, groups = analysis_definitions(config)
    adsl = derive_adsl(sdtm, analysis, groups)
    adrs = derive_adrs(sdtm["RS"], adsl, analysis)
    adtte = derive_adtte(adsl, adrs, tte_spec or toml_spec("tte", STANDARD))
    return {"ADSL": adsl, "ADRS": adrs, "ADTTE": adtte}


def derive_adam_from_folder(sdtm_dir: Path, config: StudyConfig | None = None) -> dict[str, pd.DataFrame]:
    return derive_adam(read_sdtm(sdtm_dir), config)
