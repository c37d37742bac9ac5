"""Progress of `cdisc convert` / `cdisc adam` on stderr: a tqdm bar of stages on a terminal, one plain
line per stage otherwise, nothing with -q; stages of worker processes (-j) reach the one display."""
from __future__ import annotations

import io
from pathlib import Path

from click.testing import CliRunner

from converters.cli import main
from converters.pipeline import ADAM_STAGES, STAGES
from converters.progress import Bar, Lines, Silent, progress_display
from studybuilder import RS, changed, make_study


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def invoke(*args) -> object:
    return CliRunner().invoke(main, [str(a) for a in args])


def test_a_terminal_gets_a_bar_of_stages():
    stream = Terminal()
    display = progress_display(2, 7, stream=stream)
    assert isinstance(display, Bar)
    assert display.bar.total == 14
    for stage in STAGES[:3]:
        display.stage(0, f"A: {stage}")
    assert display.bar.n == 2  # a stage is announced as it starts: two are done
    display.done(0, "A", True)
    assert display.bar.n == 7
    display.stage(1, "B: reading and checking source")
    display.done(1, "B", False)  # a study that stops early still fills its share
    assert display.bar.n == 14
    display.close()
    text = stream.getvalue()
    assert "\r" in text and "14/14 stages" in text and "100%" in text
    assert "[1/2] A: ok" in text and "[2/2] B: FAILED" in text


def test_extra_stage_messages_never_overfill_the_bar():
    display = progress_display(1, 2, stream=Terminal())
    for i in range(5):
        display.stage(0, f"A: stage {i}")
    display.done(0, "A", True)
    assert display.bar.n == 2
    display.close()


def test_a_pipe_gets_plain_lines():
    stream = io.StringIO()
    display = progress_display(2, 7, stream=stream)
    assert isinstance(display, Lines)
    display.stage(0, "A: mapping SDTM")
    display.done(0, "A", True)
    display.stage(1, "B: reading and checking source")
    display.done(1, "B", False)
    display.close()
    assert stream.getvalue().splitlines() == ["A: mapping SDTM", "[1/2] A: ok",
                                              "B: reading and checking source", "[2/2] B: FAILED"]


def test_one_study_in_a_pipe_has_no_count_line():
    stream = io.StringIO()
    display = progress_display(1, 7, stream=stream)
    display.stage(0, "A: mapping SDTM")
    display.done(0, "A", True)
    assert stream.getvalue() == "A: mapping SDTM\n"


def test_quiet_is_silent_even_on_a_terminal():
    stream = Terminal()
    display = progress_display(1, 7, quiet=True, stream=stream)
    assert type(display) is Silent
    display.stage(0, "A: mapping SDTM")
    display.done(0, "A", True)
    display.close()
    assert stream.getvalue() == ""


def test_convert_reports_every_stage_in_order(tmp_path: Path):
    res = invoke("convert", make_study(tmp_path / "s"), "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines() == [f"s: {stage}" for stage in STAGES]


def test_a_failing_study_reports_only_the_stages_it_reached(tmp_path: Path):
    bad = changed(RS, 0, assessment_date="2021-13-01")
    res = invoke("convert", make_study(tmp_path / "s", rs=bad), "-o", tmp_path / "out")
    assert res.exit_code == 1, res.output
    assert res.stderr.splitlines() == [f"s: {STAGES[0]}"]


def test_parallel_studies_relay_their_stages_to_one_display(tmp_path: Path):
    a, b = make_study(tmp_path / "A"), make_study(tmp_path / "B")
    res = invoke("convert", a, b, "-o", tmp_path / "out", "-j", "2")
    assert res.exit_code == 0, res.output
    lines = res.stderr.splitlines()
    for name in ("A", "B"):  # each study's stages, in order, from its worker process
        assert [ln for ln in lines if ln.startswith(f"{name}: ")] == [f"{name}: {s}" for s in STAGES]
    counts = [ln for ln in lines if ln.startswith("[")]  # in the order the studies finished
    assert [ln[:6] for ln in counts] == ["[1/2] ", "[2/2] "]
    assert sorted(ln[6:] for ln in counts) == ["A: ok", "B: ok"]
    for name in ("A", "B"):  # a study's count line follows its last stage
        assert lines.index(f"{name}: {STAGES[-1]}") < next(i for i, ln in enumerate(lines)
                                                             if ln.startswith("[") and ln.endswith(f"{name}: ok"))


def test_cdisc_adam_reports_its_stages(tmp_path: Path):
    res = invoke("convert", make_study(tmp_path / "s"), "-o", tmp_path / "pkg", "-q")
    assert res.exit_code == 0, res.output
    res = invoke("adam", tmp_path / "pkg" / "sdtm", "-o", tmp_path / "out")
    assert res.exit_code == 0, res.output
    assert res.stderr.splitlines() == [f"TST-01: {stage}" for stage in ADAM_STAGES]
    quiet = invoke("adam", tmp_path / "pkg" / "sdtm", "-o", tmp_path / "out2", "-q")
    assert quiet.exit_code == 0 and quiet.stderr == ""
