"""Fail when CDISC CORE reports a finding whose rule is not justified in the allowlist.

usage: core_gate.py SUMMARY.json REPORT.json ALLOWLIST.toml
"""
import json
import sys
import tomllib
from collections import Counter


def findings(report: dict) -> Counter:
    counts: Counter = Counter()
    for item in report.get("Issue_Details", []):
        counts[(item.get("core_id"), item.get("dataset"))] += 1
    return counts


def main(summary_path: str, report_path: str, allow_path: str) -> int:
    with open(report_path) as fh:
        report = json.load(fh)
    with open(allow_path, "rb") as fh:
        allow = tomllib.load(fh).get("rule", {})
    counts = findings(report)
    bad = 0
    for (rule, ds), n in sorted(counts.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        entry = allow.get(rule)
        if entry and (not entry.get("datasets") or ds in entry["datasets"]):
            print(f"allowed  {rule} {ds}: {n}  ({' '.join(entry['reason'].split())[:100]}...)")
        else:
            print(f"FINDING  {rule} {ds}: {n}  not in the allowlist")
            bad += 1
    print(f"CORE gate: {sum(counts.values())} finding(s), {bad} rule/dataset pair(s) not allowed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
