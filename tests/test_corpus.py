"""Bad-input corpus (tests/corpus/cases.toml): every broken study fails cleanly.

Each case is data: how to break the small valid study of tests/studybuilder, and the one problem the
`cdisc convert` run must report (file, row, field, rule). For every case: the documented exit status,
that problem exactly once, no other error (no cascade), a one-line message, no traceback, and nothing
under the output folder (nor a staging folder beside it). Cases marked ``subprocess`` also run through
a real ``python -m converters.cli`` process, where an escaped exception would print a traceback.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from converters.cli import main
from studybuilder import AES, EX, RS, SUBJECTS, make_study, write_csv

CASES = tomllib.loads((Path(__file__).parent / "corpus" / "cases.toml").read_text(encoding="utf-8"))["case"]
ROWS = {"subjects": SUBJECTS, "aes": AES, "rs": RS, "ex": EX}
FILES = {"subjects": "subjects.csv", "aes": "ae.csv", "rs": "rs.csv", "ex": "ex.jsonl"}


# --- builders: row ops edit the records before make_study writes them; file ops edit files after ----

def _rows(rows: dict, step: dict) -> None:
    form = rows[step["form"]]
    rec = {**form[step["index"]], **step.get("set", {})}
    for name in step.get("drop", ()):
        rec.pop(name, None)
    form[step["index"]] = rec


def _append_row(rows: dict, step: dict) -> None:
    form = rows[step["form"]]
    form.append({**form[step["copy"]], **step.get("set", {})})


def _drop_column(rows: dict, step: dict) -> None:
    rows[step["form"]] = [{k: v for k, v in r.items() if k != step["field"]} for r in rows[step["form"]]]


def _long_value(rows: dict, step: dict) -> None:
    _rows(rows, {**step, "set": {step["field"]: step["char"] * step["length"]}})


ROW_OPS = {"rows": _rows, "append_row": _append_row, "drop_column": _drop_column, "long_value": _long_value}


def png_bytes() -> bytes:
    """The first bytes of a real 1x1 PNG: signature and IHDR chunk."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + b"\x90\x77\x53\xde"


def zip_bytes(name: str, text: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo(name, (2021, 1, 1, 0, 0, 0)), text)
    return buf.getvalue()


def _bytes(folder: Path, step: dict) -> None:
    path = folder / step["file"]
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    data = {
        "empty": lambda: b"",
        "bom": lambda: b"\xef\xbb\xbf",
        "header-only": lambda: text.splitlines(keepends=True)[0].encode(),
        "png": png_bytes,
        "zip": lambda: zip_bytes(step["file"], text),
    }[step["kind"]]()
    path.write_bytes(data)


def _replace(folder: Path, step: dict) -> None:
    path = folder / step["file"]
    text = path.read_text(encoding="utf-8")
    assert step["old"] in text, (step, text[:200])
    path.write_text(text.replace(step["old"], step["new"], step.get("count", -1)), encoding="utf-8")


def _replace_bytes(folder: Path, step: dict) -> None:
    # latin-1 maps U+0000..U+00FF to the single bytes 0x00..0xFF: "\u00ff" in the manifest is byte 0xFF
    path = folder / step["file"]
    old, new = step["old"].encode("latin-1"), step["new"].encode("latin-1")
    raw = path.read_bytes()
    assert old in raw
    path.write_bytes(raw.replace(old, new))


def _config(folder: Path, step: dict) -> None:
    _replace(folder, {**step, "file": "study.toml"})


def _add_column(folder: Path, step: dict) -> None:
    path = folder / step["file"]
    lines = path.read_text(encoding="utf-8").splitlines()
    lines = [lines[0] + "," + step["name"]] + [line + "," + step["value"] for line in lines[1:]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _encode(folder: Path, step: dict) -> None:
    path = folder / step["file"]
    path.write_bytes(path.read_text(encoding="utf-8").encode(step["encoding"]))


def _truncate(folder: Path, step: dict) -> None:
    path = folder / step["file"]
    path.write_bytes(path.read_bytes()[: -step["bytes"]])


def _append_line(folder: Path, step: dict) -> None:
    path = folder / step["file"]
    path.write_text(path.read_text(encoding="utf-8") + step["text"] * step.get("repeat", 1) + "\n", encoding="utf-8")


def _rename(folder: Path, step: dict) -> None:
    os.replace(folder / step["file"], folder / step["to"])
    _config(folder, {"old": f'path = "{step["file"]}"', "new": f'path = "{step["to"]}"'})


def _remove(folder: Path, step: dict) -> None:
    (folder / step["file"]).unlink()


def _mkdir(folder: Path, step: dict) -> None:
    (folder / step["file"]).unlink()
    (folder / step["file"]).mkdir()


def _mkfifo(folder: Path, step: dict) -> None:
    (folder / step["file"]).unlink()
    os.mkfifo(folder / step["file"])


def _outside(folder: Path) -> Path:
    out = folder.parent / "outside"
    out.mkdir(exist_ok=True)
    return out


def _copy_outside(folder: Path, step: dict) -> None:
    """The file also exists where the escaping path points (so only the path rule can stop it)."""
    shutil.copyfile(folder / step["file"], folder.parent / step["file"])


def _link_outside(folder: Path, step: dict) -> None:
    target = _outside(folder) / step["file"]
    os.replace(folder / step["file"], target)
    (folder / step["file"]).symlink_to(target)


def _link_dir_outside(folder: Path, step: dict) -> None:
    os.replace(folder / step["file"], _outside(folder) / step["file"])
    (folder / step["dir"]).symlink_to(_outside(folder), target_is_directory=True)


FILE_OPS = {"mkfifo": _mkfifo, "bytes": _bytes, "replace": _replace, "replace_bytes": _replace_bytes, "config": _config,
            "add_column": _add_column, "encode": _encode, "truncate": _truncate, "append_line": _append_line,
            "rename": _rename, "remove": _remove, "mkdir": _mkdir, "copy_outside": _copy_outside,
            "link_outside": _link_outside, "link_dir_outside": _link_dir_outside}


def build_case(case: dict, folder: Path) -> Path:
    rows = {k: [dict(r) for r in v] for k, v in ROWS.items()}
    for step in case["build"]:
        if step["op"] in ROW_OPS:
            ROW_OPS[step["op"]](rows, step)
        else:
            assert step["op"] in FILE_OPS, step
    make_study(folder, **rows)
    for step in case["build"]:
        if step["op"] in FILE_OPS:
            FILE_OPS[step["op"]](folder, step)
    return folder


# --- checks ---------------------------------------------------------------------------------------

def leftovers(out: Path) -> list[str]:
    """Anything the run left under or beside the output folder."""
    return [p.name for p in out.parent.iterdir() if p.name == out.name or p.name.startswith(f".{out.name}.")]


def check_problems(case: dict, problems: list[dict]) -> None:
    exp = case["expect"]
    errors = [p for p in problems if p["severity"] == "error"]
    where = (exp["file"], exp.get("row"), exp.get("field", ""))
    hits = [p for p in errors if p["rule"] == exp["rule"] and (p["file"], p["row"], p["field"]) == where]
    shown = [(p["file"], p["row"], p["field"], p["rule"], p["message"][:80]) for p in errors]
    assert len(hits) == 1, f"expected one {exp['rule']} at {where}; got {shown}"
    if "value" in exp:
        assert hits[0]["value"] == exp["value"]
    assert len(errors) == exp.get("errors", 1), f"cascade or missing problems: {shown}"
    for p in problems:
        assert p["message"] and "\n" not in p["message"], p


def _id(case: dict) -> str:
    return case["id"]


def test_corpus_is_large_and_ids_unique():
    ids = [c["id"] for c in CASES]
    assert len(ids) >= 30 and len(set(ids)) == len(ids)


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_bad_input_fails_cleanly(case: dict, tmp_path: Path, light_pipeline):
    folder = build_case(case, tmp_path / "study")
    out, report = tmp_path / "out", tmp_path / "problems.json"
    result = CliRunner().invoke(main, ["convert", str(folder), "-o", str(out), "--problems", str(report),
                                       *case.get("args", [])])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    problems = json.loads(report.read_text())["problems"]
    assert result.exit_code == case["expect"]["exit"], (result.output, problems)
    check_problems(case, problems)
    assert leftovers(out) == []
    # the table on stdout names the rule and the file of the problem
    assert case["expect"]["rule"] in result.stdout and case["expect"]["file"] in result.stdout


SUBPROCESS = [c for c in CASES if c.get("subprocess")]


@pytest.fixture(scope="module")
def subprocess_runs(tmp_path_factory) -> dict[str, tuple[subprocess.CompletedProcess, Path, list]]:
    """All subprocess cases started at once (each is mostly interpreter start-up)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = {}
    for case in SUBPROCESS:
        base = tmp_path_factory.mktemp(case["id"])
        folder = build_case(case, base / "study")
        out, report = base / "out", base / "problems.json"
        proc = subprocess.Popen([sys.executable, "-m", "converters.cli", "convert", str(folder), "-o", str(out),
                                 "--problems", str(report), *case.get("args", [])],
                                cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started[case["id"]] = (proc, out, report)
    done = {}
    for cid, (proc, out, report) in started.items():
        stdout, stderr = proc.communicate(timeout=120)
        problems = json.loads(report.read_text())["problems"] if report.exists() else []
        done[cid] = (proc.returncode, stdout + stderr, out, problems)
    return done


@pytest.mark.parametrize("case", SUBPROCESS, ids=_id)
def test_bad_input_in_a_real_process_has_no_traceback(case: dict, subprocess_runs):
    code, output, out, problems = subprocess_runs[case["id"]]
    assert "Traceback" not in output, output[-2000:]
    assert code == case["expect"]["exit"], output[-2000:]
    check_problems(case, problems)
    assert leftovers(out) == []


# --- non-ASCII text: fails without --transliterate (corpus), converts with it ---------------------

def _convert_terms(tmp_path: Path, terms: list[str]):
    aes = [dict(AES[0], ae_id=str(i + 10), verbatim_term=t) for i, t in enumerate(terms)] + AES
    folder = make_study(tmp_path / "s", aes=aes)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["convert", str(folder), "-o", str(out), "--transliterate", "-q"])
    return result, out


def test_transliterate_turns_accented_text_into_ascii(tmp_path: Path, light_pipeline):
    result, out = _convert_terms(tmp_path, ["Fièvre", "Éruption cutanée"])
    assert result.exit_code == 0, result.stdout
    from converters.xpt import read_xpt
    ae, _ = read_xpt(out / "sdtm" / "ae.xpt")
    assert {"Fievre", "Eruption cutanee"} <= set(ae["AETERM"])


def test_transliterate_handles_latin_letters_without_a_decomposition(tmp_path: Path, light_pipeline):
    """--transliterate promises "non-ASCII text into ASCII instead of failing" (cli.py); Œ, ø and ß
    have no NFKD decomposition yet are ordinary in French, Danish and German verbatim terms."""
    result, out = _convert_terms(tmp_path, ["Œdème pulmonaire", "Søren's syndrome", "Straße-Fieber"])
    assert result.exit_code == 0, result.stdout
    from converters.xpt import read_xpt
    ae, _ = read_xpt(out / "sdtm" / "ae.xpt")
    assert all(v.isascii() for v in ae["AETERM"])


# --- partial dates: every allowed form is accepted where a partial date is allowed -----------------

PARTIAL_FORMS = ["2021", "2021-02", "2021---02", "2021-02-02T10:30", "2021-02-02T10:30:15"]


def test_partial_date_forms_are_accepted_for_ae_start(tmp_path: Path, light_pipeline):
    aes = [dict(AES[0], ae_id=str(i + 10), start_date=d, end_date="2021-02-08") for i, d in enumerate(PARTIAL_FORMS)]
    folder = make_study(tmp_path / "s", aes=aes)
    result = CliRunner().invoke(main, ["convert", str(folder), "-o", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 0, result.stdout
    from converters.xpt import read_xpt
    ae, _ = read_xpt(tmp_path / "out" / "sdtm" / "ae.xpt")
    # kept as collected, never imputed (SDTMIG 3.4 4.4.2)
    assert sorted(ae["AESTDTC"]) == sorted(PARTIAL_FORMS)


# --- a large file with one bad row at its very end ------------------------------------------------

def test_100k_rows_with_one_bad_row_at_the_end(tmp_path: Path):
    n = 100_000
    aes = [dict(AES[0], ae_id=str(i + 1)) for i in range(n)]
    aes[-1] = dict(aes[-1], start_date="2021-02-30")
    folder = make_study(tmp_path / "s")
    write_csv(folder / "ae.csv", aes)
    out, report = tmp_path / "out", tmp_path / "problems.json"
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["convert", str(folder), "-o", str(out), "--problems", str(report), "-q"])
    elapsed = time.perf_counter() - start
    assert result.exit_code == 1, result.output
    (p,) = json.loads(report.read_text())["problems"]
    assert (p["file"], p["row"], p["field"], p["rule"]) == ("ae.csv", n + 1, "start_date", "SRC-DATE")
    assert leftovers(out) == []
    assert elapsed < 30, f"100k-row source check took {elapsed:.1f} s"
