"""After `cdisc define` rewrote a package's define files: re-run its conformance report and refresh
reports/manifest.json, so no hash or finding in the package describes files that are gone."""
from __future__ import annotations

import json
from pathlib import Path

from converters.package.manifest import output_digests, write_json
from specs import SpecSet

MANIFEST = Path("reports") / "manifest.json"
CONFORMANCE = Path("reports") / "conformance.json"


def report_name(package_dir: Path, manifest: dict, studyid: str | None) -> str:
    """The name the conformance report carries: the study, as the package's previous report named it."""
    if studyid:
        return studyid
    try:
        previous = json.loads((package_dir / CONFORMANCE).read_text(encoding="utf-8")).get("package")
    except (OSError, ValueError):
        previous = None
    return previous or manifest.get("studyid") or package_dir.resolve().name


def refresh_reports(package_dir: Path, in_force: SpecSet, studyid: str | None = None) -> list[Path]:
    """Conformance report and manifest of a package made by this tool; returns the files rewritten
    (none for a package without reports/manifest.json: it was not made here and is left as it is)."""
    from converters.pipeline import write_conformance  # the pipeline imports the package helpers

    package_dir = Path(package_dir)
    path = package_dir / MANIFEST
    if not path.is_file():
        return []
    manifest = json.loads(path.read_text(encoding="utf-8"))
    write_conformance(package_dir, report_name(package_dir, manifest, studyid))
    manifest["spec_overrides"] = in_force.manifest_entries()
    manifest["outputs"] = output_digests(package_dir)
    write_json(path, manifest)
    return [package_dir / "reports" / "conformance.json", package_dir / "reports" / "conformance.html", path]
