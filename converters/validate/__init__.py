"""`cdisc validate`: pre-submission conformance checks of an SDTM/ADaM package.

    report = validate_package(Path("pkg"))            # sdtm/ and adam/ subfolders, or a flat folder
    write_reports(report, [Path("conformance.json"), Path("conformance.html")])

Rules are data (specs/rules/rules.csv) plus one registered function each (checks_*.py).
"""
from __future__ import annotations

from pathlib import Path

import specs

from . import checks_adam, checks_ct, checks_datasetjson, checks_define, checks_sdtm, checks_transport  # noqa: F401 (registers)
from .model import ERROR, INFO, WARNING, Finding, Report, Rule
from .package import Package, PackageError, load_package
from .registry import CHECKS, Emitter, rule_specs
from .report import write_reports
from .study import define_files, package_created, study_id

__all__ = ["ERROR", "INFO", "WARNING", "Finding", "PackageError", "Report", "Rule", "run_rules",
           "validate_package", "write_reports"]

DEFAULT_LIMIT = 1000  # findings kept per rule and dataset; every finding is counted


def run_rules(pkg: Package, limit: int = DEFAULT_LIMIT, only: set[str] | None = None) -> Report:
    specs_ = rule_specs()
    missing = sorted(set(CHECKS) ^ set(specs_))
    if missing:
        raise RuntimeError(f"rules without both a spec row and a function: {missing}")
    report = Report(package=pkg.root.name, ct_version=specs.CT_VERSION, limit=limit, studyid=study_id(pkg),
                    created=package_created(pkg), defines=define_files(pkg))
    for name, ds in sorted(pkg.datasets.items()):
        report.datasets[name] = {"file": ds.rel, "standard": ds.standard, "records": len(ds.frame),
                                 "variables": len(ds.frame.columns), "xport_version": ds.version}
    for rid in sorted(CHECKS):
        if only is not None and rid not in only:
            continue
        out = Emitter(specs_[rid], limit)
        CHECKS[rid](pkg, out)
        report.rules[rid] = specs_[rid]
        for ds, n in out.counts.items():
            report.counts[(rid, ds)] = n
        report.findings += out.findings
    report.findings.sort(key=lambda f: (f.dataset, f.rule, f.record, f.variable, f.value, f.message))
    return report


def validate_package(package_dir: Path, define: Path | None = None, limit: int = DEFAULT_LIMIT) -> Report:
    """Every rule over the package folder; raises PackageError when the package cannot be read."""
    return run_rules(load_package(Path(package_dir), define), limit)
