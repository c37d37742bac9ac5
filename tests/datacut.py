"""An earlier data cut of the example study, made from its source files: what the EDC would have
exported on the cutoff day (records dated after it removed, later dates not yet known)."""
from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sscart19"


def _after(value: str | None, cutoff: str) -> bool:
    return bool(value) and value[:len(cutoff)] > cutoff[:len(value)]


def _read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames), list(reader)


def _write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def cut_example(dest: Path, cutoff: str) -> Path:
    """A copy of the example study as exported on ``cutoff`` (YYYY-MM-DD)."""
    shutil.copytree(EXAMPLE, dest)
    toml = (dest / "study.toml").read_text(encoding="utf-8")
    toml = re.sub(r'(?m)^data_cutoff = ".*"$', f'data_cutoff = "{cutoff}"', toml)
    (dest / "study.toml").write_text(re.sub(r'(?m)^study_end_date = ".*"\n', "", toml), encoding="utf-8")
    src = dest / "source"
    fields, subjects = _read_csv(src / "subjects.csv")
    kept = []
    for s in subjects:
        if _after(s["informed_consent_date"], cutoff):
            continue
        for f in ("apheresis_date", "infusion_date"):
            if _after(s[f], cutoff):
                s[f] = ""
        if _after(s["death_date"], cutoff):
            s["death_date"] = s["death_cause"] = ""
        if _after(s["last_known_alive_date"], cutoff) or (not s["last_known_alive_date"] and not s["death_date"]):
            s["last_known_alive_date"] = cutoff
        kept.append(s)
    ids = {s["SUBJNO"] for s in kept}
    _write_csv(src / "subjects.csv", fields, kept)
    fields, aes = _read_csv(src / "adverse_events.csv")
    aes = [a for a in aes if a["SUBJNO"] in ids and not _after(a["start_date"], cutoff)]
    for a in aes:
        if _after(a["end_date"], cutoff):
            a["end_date"], a["outcome"] = "", "NOT RECOVERED/NOT RESOLVED"
    _write_csv(src / "adverse_events.csv", fields, aes)
    fields, rs = _read_csv(src / "response.csv")
    _write_csv(src / "response.csv", fields,
               [r for r in rs if r["SUBJNO"] in ids and not _after(r["assessment_date"], cutoff)])
    lines = (src / "exposure.jsonl").read_text(encoding="utf-8").splitlines()
    ex = [json.loads(x) for x in lines if x.strip()]
    ex = [e for e in ex if e["subject_id"] in ids and not _after(e["start_date"], cutoff)]
    (src / "exposure.jsonl").write_text("".join(json.dumps(e) + "\n" for e in ex), encoding="utf-8")
    return dest
