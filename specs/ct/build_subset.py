"""Build the CDISC CT subset the specs use from the NCI EVS tab-delimited SDTM terminology file.

    python -m specs.ct.build_subset [NCI_FILE]

Whole codelists are copied (every term), so the subset stays a faithful excerpt of one CT
release; which codelists is fixed by CODELISTS below. Output rows are sorted by codelist then
term so that rebuilding from the same release gives identical bytes.
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

from specs import CT_VERSION

# Codelists (CDISC submission values) referenced by specs/sdtmig-3.4 and the source contract, and
# those a typical trial's EDC export is mapped to (demographics, AE, exposure, vital signs, disposition).
CODELISTS: tuple[str, ...] = (
    # DM / SUPPQUAL
    "AGEU", "SEX", "RACE", "ETHNIC", "NY", "ARMNULRS", "DOMAIN", "EVAL",
    # AE
    "ACN", "OUT", "AESEV",
    # RS
    "ONCRSR", "ONCRTSCD", "ONCRTS", "ONCRSCAT", "METHOD",
    # EX
    "ROUTE", "UNIT", "FRM", "FREQ",
    # VS
    "VSTESTCD", "VSTEST", "VSRESU", "POSITION", "LOC", "LAT",
    # timing
    "EPOCH",
    # TS parameters, values and reference dictionaries
    "TSPARMCD", "TSPARM", "TPHASE", "STYPE", "INTMODEL", "INTTYPE", "TTYPE", "TCNTRL", "TBLIND",
    "TINDTP", "SEXPOP", "DICTNAM",
    # DS: category, reasons for completion or not, protocol milestones, other events
    "DSCAT", "NCOMPLT", "PROTMLST", "OTHEVENT",
)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SOURCE = REPO.parent / "shared" / "reference" / "ct" / "SDTM_Terminology_2025Q1.txt"
DEFAULT_OUTPUT = Path(__file__).resolve().parent / f"sdtm-ct-{CT_VERSION}.csv"

COLUMNS = ("codelist", "codelist_code", "codelist_name", "extensible", "term", "term_code", "decode", "synonyms")

# Column names of the NCI EVS "SDTM Terminology.txt" export.
_CODE, _PARENT, _EXT, _NAME, _SUBMISSION, _SYNONYMS, _PREFERRED = (
    "Code", "Codelist Code", "Codelist Extensible (Yes/No)", "Codelist Name",
    "CDISC Submission Value", "CDISC Synonym(s)", "NCI Preferred Term",
)


def read_nci(path: Path) -> tuple[dict[str, dict[str, str]], dict[str, list[dict[str, str]]]]:
    """Codelist header rows by C-code, and term rows grouped by parent codelist C-code.

    A header row has an empty "Codelist Code"; a term row carries its parent's code there.
    """
    headers: dict[str, dict[str, str]] = {}
    terms: dict[str, list[dict[str, str]]] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            row = {k: (v or "").strip() for k, v in row.items()}
            if row[_PARENT]:
                terms.setdefault(row[_PARENT], []).append(row)
            else:
                headers[row[_CODE]] = row
    return headers, terms


def build_rows(path: Path, names: tuple[str, ...] = CODELISTS) -> list[dict[str, str]]:
    """All terms of the named codelists, sorted by codelist then term; KeyError if a name is absent."""
    headers, terms = read_nci(path)
    by_name = {h[_SUBMISSION]: h for h in headers.values()}
    missing = sorted(set(names) - set(by_name))
    if missing:
        raise KeyError(f"codelist(s) not in {path.name}: {', '.join(missing)}")
    rows = []
    for name in sorted(set(names)):
        head = by_name[name]
        for t in terms.get(head[_CODE], []):
            rows.append({
                "codelist": name,
                "codelist_code": head[_CODE],
                "codelist_name": head[_NAME],
                "extensible": head[_EXT],
                "term": t[_SUBMISSION],
                "term_code": t[_CODE],
                "decode": t[_PREFERRED],
                "synonyms": t[_SYNONYMS],  # '; '-separated, as the NCI file has them
            })
    rows.sort(key=lambda r: (r["codelist"], r["term"], r["term_code"]))
    return rows


def write_csv(rows: list[dict[str, str]], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if args else DEFAULT_SOURCE
    out = Path(args[1]) if len(args) > 1 else DEFAULT_OUTPUT
    rows = build_rows(source)
    write_csv(rows, out)
    print(f"{out}: {len(rows)} terms in {len({r['codelist'] for r in rows})} codelists")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
