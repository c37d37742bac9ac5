"""reports/manifest.json: rows read per source file, records written per dataset, SHA-256 of everything."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from converters import __version__
from specs import CT_VERSION


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def build_manifest(*, studyid: str, study_dir: Path, inputs: dict[str, Path], rows_read: dict[str, int],
                   rows_rejected: dict[str, int], written: dict[str, dict[str, int]],
                   unmapped: dict[str, str], package_dir: Path, digests: dict[Path, str] | None = None,
                   transliteration: dict | None = None, spec_overrides: list[dict] | None = None) -> dict:
    """``written`` maps each source form to {dataset: records derived from it}; ``digests`` holds the
    SHA-256 of output files already hashed while they were written (the XPT writer hashes its bytes);
    ``transliteration`` records whether non-ASCII source text was changed, and how many values."""
    digests = digests or {}
    study_dir = Path(study_dir).absolute()
    files = []
    for form, path in sorted(inputs.items()):
        absolute = Path(path).absolute()  # a file beside the study folder (cdisc adam --config): its name
        files.append({"form": form, "file": absolute.relative_to(study_dir).as_posix()
                      if absolute.is_relative_to(study_dir) else absolute.name,
                      "sha256": sha256_file(path)})
    reconciliation = {
        form: {"rows_read": rows_read.get(form, 0), "rows_rejected": rows_rejected.get(form, 0),
               "rows_mapped": rows_read.get(form, 0) - rows_rejected.get(form, 0),
               "records_written": dict(sorted(written.get(form, {}).items()))}
        for form in sorted(rows_read)
    }
    outputs = output_digests(package_dir, digests)
    extra = {} if transliteration is None else {"transliteration": transliteration}
    return {
        "tool": {"name": "cdisc-converter", "version": __version__},
        "studyid": studyid,
        "standards": package_standards(package_dir),
        "inputs": files,
        "reconciliation": reconciliation,
        "unmapped_fields": dict(sorted(unmapped.items())),
        "spec_overrides": spec_overrides or [],  # a study's specs/ files merged over the shipped specs
        **extra,
        "outputs": outputs,
    }


def package_standards(package_dir: Path) -> dict[str, str]:
    """The standards the package follows, as define.xml declares them: the implementation guide of each
    of its sdtm/ and adam/ folders (named by the specs/ folder describing it), Define-XML when written,
    and the controlled terminology."""
    from converters.define.build import DEFINE_VERSION, standard_for_folder, standard_ref

    package_dir = Path(package_dir)
    found = {}
    for sub in ("sdtm", "adam"):
        if (package_dir / sub).is_dir():
            ref = standard_ref(standard_for_folder(sub))
            found[sub] = f"{ref.name} {ref.version}"
    if any((package_dir / sub / "define.xml").is_file() for sub in found):
        found["define"] = f"Define-XML {DEFINE_VERSION}"
    found["ct"] = f"SDTM CT {CT_VERSION}"
    return found


def output_digests(package_dir: Path, digests: dict[Path, str] | None = None) -> list[dict[str, str]]:
    """SHA-256 of every file of the package but the manifest itself (``digests``: hashes already known)."""
    digests = digests or {}
    return [{"file": p.relative_to(package_dir).as_posix(), "sha256": digests.get(p) or sha256_file(p)}
            for p in sorted(Path(package_dir).rglob("*"))
            if p.is_file() and p.relative_to(package_dir) != Path("reports/manifest.json")]


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=True) + "\n", encoding="ascii")
