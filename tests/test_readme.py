"""The README stays true: the contract section is generated, the demo and test commands exist and work."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

from schemas.contract import render

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
START, END = "<!-- contract:start -->", "<!-- contract:end -->"


def block(marker: str) -> str:
    """The first fenced code block after ``<!-- marker -->`` (as .ci/run reads it)."""
    after = README.split(f"<!-- {marker} -->\n", 1)[1]
    m = re.match(r"\s*```[a-z]*\n(.*?)\n```", after, re.S)
    assert m, f"no fenced block after <!-- {marker} -->"
    return m.group(1)


def test_contract_section_is_the_rendered_contract():
    assert README.count(START) == 1 and README.count(END) == 1
    section = README.split(START, 1)[1].split(END, 1)[0]
    assert section == "\n" + render(), "README contract section is stale: regenerate it with python -m schemas.contract"


def test_contract_lists_every_source_field():
    from schemas.source import FORMS
    section = README.split(START, 1)[1].split(END, 1)[0]
    for form, (model, _) in FORMS.items():
        assert f"### `{form}`" in section
        for name in model.model_fields:
            assert f"\n| {name} |" in section, (form, name)


def test_exactly_one_demo_and_one_test_command():
    assert README.count("<!-- demo-command -->") == 1
    assert README.count("<!-- test-command -->") == 1
    assert "pytest" in block("test-command")


def test_demo_command_converts_an_existing_study_folder():
    words = shlex.split(block("demo-command").replace("&&", " && "))
    i = next(i for i, w in enumerate(words) if w.endswith("cdisc"))
    assert words[i + 1] == "convert"
    study = ROOT / words[i + 2]
    assert (study / "study.toml").is_file(), study
    assert "-o" in words[i + 3:] or "--out" in words[i + 3:]


def test_readme_rule_ids_exist_in_the_code():
    """Every SRC-* rule the README names is a rule the checks can report."""
    code = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "converters" / "source").glob("*.py"))
    code += (ROOT / "converters" / "source" / "fields.py").read_text(encoding="utf-8")
    for rule in set(re.findall(r"SRC-[A-Z0-9-]+[A-Z0-9]", README)):
        assert f'"{rule}"' in code, rule


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_both_set_up_commands_install_the_locked_versions():
    for marker in ("demo-command", "test-command"):
        words = shlex.split(block(marker).replace("&&", " && "))
        i = words.index("install")
        assert words[i + 1:i + 4] == ["-q", "-c", "requirements-lock.txt"], (marker, words)


def test_lock_pins_every_dependency_exactly():
    import tomllib
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    lines = [ln for ln in (ROOT / "requirements-lock.txt").read_text(encoding="utf-8").splitlines()
             if ln and not ln.startswith("#")]
    pins = dict(ln.split("==", 1) for ln in lines)
    assert len(pins) == len(lines), [ln for ln in lines if "==" not in ln]
    assert all(re.fullmatch(r"[0-9][0-9A-Za-z.+!]*", v) for v in pins.values()), pins
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    locked = {_norm(n) for n in pins}
    missing = [r for r in wanted if _norm(re.split(r"[<>=!~\[ ;]", r, 1)[0]) not in locked]
    assert not missing, f"requirements-lock.txt lacks {missing}: run bash .ci/lock"
