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
                   unmapped: dict[str, str], package_dir: Path, digests: dict[Path, str] | None = None) -> dict:
    """``written`` maps each source form to {dataset: records derived from it}; ``digests`` holds the
    SHA-256 of output files already hashed while they were written (the XPT writer hashes its bytes)."""
    digests = digests or {}
    study_dir = Path(study_dir).absolute()
    files = []
    for form, path in sorted(inputs.items()):
        files.append({"form": form, "file": Path(path).absolute().relative_to(study_dir).as_posix(),
                      "sha256": sha256_file(path)})
    reconciliation = {
        form: {"rows_read": rows_read.get(form, 0), "rows_rejected": rows_rejected.get(form, 0),
               "rows_mapped": rows_read.get(form, 0) - rows_rejected.get(form, 0),
               "records_written": dict(sorted(written.get(form, {}).items()))}
        for form in sorted(rows_read)
    }
    outputs = [{"file": p.relative_to(package_dir).as_posix(), "sha256": digests.get(p) or sha256_file(p)}
               for p in sorted(package_dir.rglob("*")) if p.is_file() and p.relative_to(package_dir) != Path("reports/manifest.json")]
    return {
        "tool": {"name": "cdisc-converter", "version": __version__},
        "studyid": studyid,
        "standards": {"sdtm": "SDTMIG 3.4", "ct": f"SDTM CT {CT_VERSION}"},
        "inputs": files,
        "reconciliation": reconciliation,
        "unmapped_fields": dict(sorted(unmapped.items())),
        "outputs": outputs,
    }


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=True) + "\n", encoding="ascii")
