"""Value types of the validator: rule metadata, findings and the report."""
from __future__ import annotations

from dataclasses import dataclass, field

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    scope: str  # transport | datasetjson | sdtm | ct | adam | define
    message: str  # template: {dataset} {variable} {value} {detail}
    clause: str  # the standard clause the rule comes from
    core_id: str  # matching CDISC CORE rule id(s), space-separated; "" when none
    description: str = ""  # what the rule requires, in one sentence


@dataclass(frozen=True, order=True)
class Finding:
    dataset: str
    rule: str
    record: int  # 1-based observation number in the dataset; 0 = about the dataset or file
    variable: str
    value: str
    usubjid: str
    severity: str
    message: str


@dataclass
class Report:
    package: str
    ct_version: str
    datasets: dict[str, dict] = field(default_factory=dict)  # name -> {file, standard, records, version}
    findings: list[Finding] = field(default_factory=list)  # sorted; at most `limit` per rule and dataset
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (rule, dataset) -> all findings
    rules: dict[str, Rule] = field(default_factory=dict)  # every rule that was run
    limit: int = 1000
    studyid: str = ""  # from the data (DM, TS or any STUDYID column); "" when none has one
    created: str = ""  # latest dataset creation date/time in the XPT headers, ISO 8601
    defines: list[str] = field(default_factory=list)  # define.xml files checked, relative to the package

    def total(self, severity: str) -> int:
        return sum(n for (rid, _), n in self.counts.items() if self.rules[rid].severity == severity)

    @property
    def errors(self) -> int:
        return self.total(ERROR)

    @property
    def warnings(self) -> int:
        return self.total(WARNING)

    def exit_status(self, fail_on: str = ERROR) -> int:
        """0 = pass; 1 = errors (or warnings with fail_on='warning')."""
        if self.errors or (fail_on == WARNING and self.warnings):
            return 1
        return 0
