"""A study folder with a mapping spec -> the SDTM package (XPT, define.xml, conformance report, manifest).

ADaM is not derived here: the ADaM derivations of this tool read a CAR-T study's endpoints, and a
mapping-spec study says nothing about its analyses; the manifest records that ADaM was skipped.
"""
from __future__ import annotations

from pathlib import Path

from converters.datasets.package import write_formats
from converters.define import write_define
from converters.mapping.engine import expected_unmapped, run
from converters.mapping.spec import SPEC_NAME, MappingSpecError, load_spec
from converters.package.manifest import build_manifest, write_json
from converters.pipeline import (SDTM, ConvertResult, conform_all, package_timestamp, write_conformance,
                                 write_conformed, write_package)
from converters.problems import Problem, has_errors, problems_json
from converters.validate import xport5

ADAM_SKIPPED = "ADaM not derived: a mapping-spec study declares no analyses; run `cdisc adam` on the SDTM output"


def spec_problems(exc: MappingSpecError) -> list[Problem]:
    return [Problem(SPEC_NAME, None, key, "", "MAP-SPEC", message) for key, message in exc.problems]


def convert_mapped(study_dir: Path, out_dir: Path, in_force, transliterate: bool, progress,
                   formats: tuple[str, ...] = ("xpt",)):
    """Convert a mapping-spec study; nothing is written unless every check passes."""
    result = ConvertResult(study=study_dir.resolve().name, ok=False)
    progress(f"{study_dir.name}: reading and checking source")
    try:
        spec = load_spec(study_dir / SPEC_NAME)
        result.sources = [form.file for form in spec.forms.values()]
        mapped = run(study_dir, spec, SPEC_NAME)
    except MappingSpecError as exc:
        result.problems = spec_problems(exc)
        return result
    result.problems = list(mapped.problems)
    if has_errors(result.problems):
        return result
    progress(f"{study_dir.name}: mapping SDTM")
    frames = {name: f.drop(columns=["__ROW"], errors="ignore") for name, f in mapped.frames.items()}
    conformed, problems = conform_all(frames, SDTM)
    result.problems += problems
    if has_errors(result.problems):
        return result
    created = package_timestamp(spec)  # the spec's [study] package_datetime, as study.toml's
    written: dict[str, dict[str, int]] = {}
    for name, frame in conformed.items():
        written.setdefault(spec.forms[mapped.sources[name]].file, {})[name] = len(frame)
    unmapped = {f"{form.file}:{col}": why for form in spec.forms.values() for col, why in form.not_submitted.items()}
    unmapped.update({f"{name}.{var}": "Expected variable with no source in the raw data: null"
                     for name, names in expected_unmapped(spec).items() for var in names})
    unmapped["ADaM"] = ADAM_SKIPPED
    progress(f"{study_dir.name}: writing XPT")

    @xport5.shared_reads()
    def build(stage: Path) -> None:
        digests: dict[Path, str] = {}
        result.records.update(write_conformed(stage / "sdtm", conformed, SDTM, created, transliterate, digests))
        progress(f"{study_dir.name}: writing define.xml")
        write_define(stage, SDTM, None)
        write_formats(stage / "sdtm", formats, created)  # Dataset-JSON from the XPT and define.xml
        write_json(stage / "reports" / "source-validation.json", problems_json(result.problems))
        progress(f"{study_dir.name}: conformance checks")
        write_conformance(stage, spec.study.studyid)
        inputs = {SPEC_NAME: study_dir / SPEC_NAME, **{f.file: study_dir / f.file for f in spec.forms.values()}}
        rows = {f.file: len(mapped.forms[name].frame) for name, f in spec.forms.items()}
        manifest = build_manifest(studyid=spec.study.studyid, study_dir=study_dir, inputs=inputs, rows_read=rows,
                                  rows_rejected={f: 0 for f in rows}, written=written, unmapped=unmapped,
                                  package_dir=stage, digests=digests, spec_overrides=in_force.manifest_entries())
        write_json(stage / "reports" / "manifest.json", manifest)

    return write_package(out_dir, result, build)
