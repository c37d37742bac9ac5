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
