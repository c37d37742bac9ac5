"""`cdisc --help` stays fast: the command line module loads click and small modules only; pandas,
numpy, matplotlib, lifelines, pyarrow and the pipeline load when a command runs."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT

HEAVY = ("pandas", "numpy", "matplotlib", "lifelines", "pyarrow", "scipy", "lxml", "pydantic", "tqdm",
         "converters.pipeline", "converters.report", "converters.validate", "converters.define")

PROBE = """
import json, sys
import converters.cli as cli
codes = []
for argv in {argvs!r}:
    try:
        cli.main(argv, prog_name="cdisc")
    except SystemExit as exc:
        codes.append(exc.code)
print(json.dumps([codes, sorted(m for m in {heavy!r} if m in sys.modules)]))
"""


def run_probe(*argvs: list[str]) -> tuple[list[int], list[str]]:
    """Exit codes of ``argvs`` run in a fresh interpreter, and the heavy modules loaded afterwards."""
    code = PROBE.format(argvs=list(argvs), heavy=HEAVY)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    codes, loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    return codes, loaded


def test_importing_the_cli_loads_no_heavy_module():
    assert run_probe() == ([], [])


@pytest.mark.parametrize("command", ["convert", "adam", "define", "validate"])
def test_help_of_every_command_loads_no_heavy_module(command: str):
    assert run_probe(["--help"], [command, "--help"], ["--version"]) == ([0, 0, 0], [])


def test_a_command_that_runs_loads_what_it_needs(tmp_path):
    # the probe sees imports: validate on a missing folder gets into its body, then stops with status 2
    codes, loaded = run_probe(["validate", str(tmp_path / "missing")])
    assert codes == [2]
    assert "converters.validate" in loaded
