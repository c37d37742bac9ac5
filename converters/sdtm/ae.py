"""AE: one record per adverse event (SDTMIG 3.4 6.2 AE)."""
from __future__ import annotations

import pandas as pd

from converters.sdtm.common import add_timing, sequence, with_subject
from converters.sdtm.coded import encode_text, integer_text
from schemas.config import StudyConfig

FIELDS = {
    "ae_id": "AESPID", "verbatim_term": "AETERM", "preferred_term": "AEDECOD", "system_organ_class": "AEBODSYS",
    "serious": "AESER", "action_taken": "AEACN", "relationship": "AEREL", "outcome": "AEOUT",
    "serious_congenital": "AESCONG", "serious_disability": "AESDISAB", "serious_death": "AESDTH",
    "serious_hospitalization": "AESHOSP", "serious_life_threatening": "AESLIFE", "serious_other": "AESMIE",
    "start_date": "AESTDTC", "end_date": "AEENDTC", "lowest_level_term": "AELLT", "llt_code": "AELLTCD",
    "pt_code": "AEPTCD", "hlt": "AEHLT", "hlt_code": "AEHLTCD", "hlgt": "AEHLGT", "hlgt_code": "AEHLGTCD",
}


def map_ae(events: pd.DataFrame, ref: pd.DataFrame, config: StudyConfig) -> pd.DataFrame:
    ae = with_subject(encode_text(events), config.study.studyid, "AE")
    # relabel in place of rename(): with_subject's frame is already a fresh (shallow) copy, and
    # rename copies every column's data
    ae.columns = [FIELDS.get(c, c) for c in ae.columns]
    ae["AETOXGR"] = integer_text(ae["grade"])
    ae["AESOC"] = ae["AEBODSYS"]  # the primary SOC is the body system of analysis
    ae["AEBDSYCD"] = ae["AESOCCD"] = ae["soc_code"]
    ae = add_timing(ae, ref, {"AESTDTC": "AESTDY", "AEENDTC": "AEENDY"}, epoch_from="AESTDTC")
    return sequence(ae, "AE", ["AESTDTC", "AEDECOD", "AESPID"])
