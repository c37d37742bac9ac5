"""Convert a large generated ODM export end to end and report its peak memory (one JSON line).

    python -m benchmarks.odm [--mb 500] [--work /tmp/odm-bench]

The file is ``examples/odm-virus`` grown to about ``--mb`` megabytes: its metadata, then subjects
each with a DM record, 5 AE records (the item-group array) and 30 laboratory records that the
mapping does not read (as an EDC export holds far more than two domains). ``cdisc convert`` runs on
it with the example's ``mapping.toml`` in a child process; peak RSS is the child's maximum resident
set size (getrusage), so it counts the whole conversion, not only the reading.
"""
from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "odm-virus"
SOURCE = "source/odm-data-snapshot.xml"


def subject_xml(n: int) -> str:
    key = f"S{n:07d}"
    sex, race = ("Male", "Female")[n % 2], ("WHITE", "ASIAN")[n % 2]
    dm = (f'<ItemGroupData ItemGroupOID="IG.DM" ItemGroupRepeatKey="1">'
          f'<ItemData ItemOID="IT.AGE" Value="{20 + n % 60}"/><ItemData ItemOID="IT.AGEU" Value="YEARS"/>'
          f'<ItemData ItemOID="IT.SEX" Value="{sex}"/><ItemData ItemOID="IT.RACE" Value="{race}"/>'
          f'<ItemData ItemOID="IT.ETHNIC" Value="HISPANIC/LATINO"/><ItemData ItemOID="IT.DMDTC" Value="2022-02-19"/>'
          f'</ItemGroupData>')
    ae = "".join(f'<ItemGroupData ItemGroupOID="IG.AE.AE_ARRAY1" ItemGroupRepeatKey="{r}">'
                 f'<ItemData ItemOID="IT.AESPID" Value="{r}"/><ItemData ItemOID="IT.AETERM" Value="Term {(n + r) % 97}"/>'
                 f'<ItemData ItemOID="IT.AETOXGR" Value="{1 + (n + r) % 5}"/></ItemGroupData>\n' for r in range(1, 6))
    lb = "".join(f'<ItemGroupData ItemGroupOID="IG.LB.LB_ARRAY1" ItemGroupRepeatKey="{r}">'
                 f'<ItemData ItemOID="IT.LBTESTCD" Value="Platelet"/><ItemData ItemOID="IT.LBORRES" Value="{100 + r}"/>'
                 f'<ItemData ItemOID="IT.LBORRESU" Value="10^3/uL"/></ItemGroupData>\n' for r in range(1, 31))
    return (f'<SubjectData SubjectKey="{key}">\n'
            f'<StudyEventData StudyEventOID="SE.SCREENING" StudyEventRepeatKey="1"><FormData FormOID="DM">{dm}</FormData>'
            f'</StudyEventData>\n<StudyEventData StudyEventOID="SE.VISIT 1" StudyEventRepeatKey="1">'
            f'<FormData FormOID="AE" FormRepeatKey="1">\n{ae}</FormData></StudyEventData>\n'
            f'<StudyEventData StudyEventOID="SE.VISIT 2" StudyEventRepeatKey="1"><FormData FormOID="LB" FormRepeatKey="1">\n'
            f'{lb}</FormData></StudyEventData>\n</SubjectData>\n')


def write_export(path: Path, megabytes: int) -> int:
    """The example's file with its ClinicalData replaced by generated subjects; returns their number."""
    text = (EXAMPLE / SOURCE).read_text(encoding="utf-8")
    head, rest = text.split("<ClinicalData", 1)
    opening, tail = rest.split(">", 1)
    tail = tail.split("</ClinicalData>", 1)[1]
    target, n = megabytes * 1_000_000, 0
    with path.open("w", encoding="utf-8") as out:
        out.write(head + "<ClinicalData" + opening + ">\n")
        while out.tell() < target:
            out.write("".join(subject_xml(n + i) for i in range(100)))
            n += 100
        out.write("</ClinicalData>" + tail)
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--work", type=Path, default=Path("/tmp/odm-bench"))
    args = parser.parse_args(argv)
    study, out = args.work / "study", args.work / "out"
    shutil.rmtree(args.work, ignore_errors=True)
    (study / "source").mkdir(parents=True)
    shutil.copy(EXAMPLE / "mapping.toml", study / "mapping.toml")
    subjects = write_export(study / SOURCE, args.mb)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "converters.cli", "convert", str(study), "-o", str(out), "-q"],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # kilobytes on Linux
    print(json.dumps({"file_mb": round((study / SOURCE).stat().st_size / 1e6, 1), "subjects": subjects,
                      "ae_records": subjects * 5, "exit": done.returncode, "seconds": round(seconds, 1),
                      "peak_rss_mb": round(peak_kb / 1024), "out": done.stdout.strip().splitlines()[-1:]}))
    return done.returncode


if __name__ == "__main__":
    raise SystemExit(main())
