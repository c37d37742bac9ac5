"""Build specs/sdtmig-3.4/ig-variables.csv from the CDISC Library SDTMIG 3.4 Variables CSV export.

The Library export is not shipped to users; the validator needs only each variable's label, type,
core (Req/Exp/Perm, SDTMIG 3.4 section 4.1.5) and codelist C-codes, for every SDTMIG 3.4 domain.

usage: python specs/rules/build_ig_variables.py LIBRARY_VARIABLES_CSV [OUT_CSV]
"""
from __future__ import annotations

import csv
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "sdtmig-3.4" / "ig-variables.csv"
FIELDS = ("dataset", "order", "variable", "label", "type", "core", "codelist")


def build(src: Path, out: Path = OUT) -> int:
    with open(src, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    items = []
    for r in rows:
        codes = " ".join(c.strip() for c in r["CDISC CT Codelist Code(s)"].replace(",", ";").split(";") if c.strip())
        items.append({"dataset": r["Dataset Name"], "order": int(r["Variable Order"]), "variable": r["Variable Name"],
                      "label": r["Variable Label"], "type": r["Type"], "core": r["Core"], "codelist": codes})
    items.sort(key=lambda d: (d["dataset"], d["order"], d["variable"]))
    with open(out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(items)
    return len(items)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    n = build(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else OUT)
    print(f"wrote {n} variables")
