"""Our findings vs the CDISC CORE engine's, per rule, for the rules both implement.

    bash ../shared/core/core-validate.sh DATA_DIR /tmp/core.json
    python -m benchmarks.compare_core DATA_DIR /tmp/core.json [--define FILE]

For each of our rules with a CORE id (specs/rules/rules.csv), prints our finding count and the CORE
issue count, and the datasets each flagged. CORE rules that did not run (skipped, or an execution
error) are shown as such: their count says nothing.
"""
from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from converters.validate import validate_package


def core_counts(path: Path) -> tuple[dict[str, dict[str, int]], dict[str, str]]:
    """({core id: {dataset: issues}}, {core id: status}) from a CORE JSON report."""
    data = json.loads(Path(path).read_text())
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    status = {r["core_id"]: r.get("status", "") for r in data.get("Rules_Report", [])}
    for row in data.get("Issue_Summary", []):
        if row["message"].startswith("rule evaluation error"):
            status[row["core_id"]] = "EXECUTION ERROR"
            continue
        counts[row["core_id"]][row["dataset"] or "-"] = counts[row["core_id"]].get(row["dataset"] or "-", 0) + row["issues"]
    return counts, status


def compare(data_dir: Path, core_json: Path, define: Path | None = None) -> list[tuple]:
    report = validate_package(data_dir, define)
    ours: dict[str, dict[str, int]] = defaultdict(dict)
    for (rid, ds), n in report.counts.items():
        ours[rid][ds] = n
    core, status = core_counts(core_json)
    rows = []
    for rid, spec in sorted(report.rules.items()):
        for cid in spec.core_id.split():
            mine, theirs = ours.get(rid, {}), core.get(cid, {})
            rows.append((rid, cid, sum(mine.values()), sum(theirs.values()) if status.get(cid) != "EXECUTION ERROR"
                         else None, ",".join(sorted(mine)) or "-", ",".join(sorted(theirs)) or "-",
                         status.get(cid, "not run")))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data_dir", type=Path)
    ap.add_argument("core_json", type=Path)
    ap.add_argument("--define", type=Path)
    args = ap.parse_args()
    head = ("rule", "core id", "ours", "core", "our datasets", "core datasets", "core status")
    rows = [head] + [tuple("-" if v is None else str(v) for v in r) for r in compare(args.data_dir, args.core_json, args.define)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


if __name__ == "__main__":
    main()
