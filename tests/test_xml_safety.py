"""XML the tool reads is parsed with entity expansion, DTD loading and network access off.

Every parse call in converters/ (grep etree.parse / fromstring / XMLParser) goes through one of two
helpers (a streaming etree.iterparse, which takes no parser, names the same settings on its line): converters.define.resources.parse (the stylesheet, the schema and define.xml when rendering
define.html) and converters.validate.define.parse (any define.xml given to `cdisc validate`).
A billion-laughs file, an external entity pointing at /etc/passwd and an external DTD on a local
"network" server must neither expand, nor read the file, nor connect, and must be done in < 2 s.
"""
from __future__ import annotations

import re
import shutil
import socket
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT
from converters.cli import main
from converters.define import render_html, resources
from studybuilder import make_study

SECRET = Path("/etc/passwd")

LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE ODM [
 <!ENTITY lol "lol">
""" + "".join(f' <!ENTITY lol{i} "{("&lol%s;" % ("" if i == 1 else i - 1)) * 10}">\n' for i in range(1, 10)) + """]>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><Study OID="S">&lol9;</Study></ODM>
"""

XXE = """<?xml version="1.0"?>
<!DOCTYPE ODM [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> ]>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><Study OID="S">&xxe;</Study></ODM>
"""

PARAMETER_XXE = """<?xml version="1.0"?>
<!DOCTYPE ODM [ <!ENTITY % ext SYSTEM "file:///etc/passwd"> %ext; ]>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><Study OID="S"/></ODM>
"""


def network_xml(port: int) -> str:
    return f"""<?xml version="1.0"?>
<!DOCTYPE ODM SYSTEM "http://127.0.0.1:{port}/evil.dtd">
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"><Study OID="S">&remote;</Study></ODM>
"""


def secret_line() -> str:
    return SECRET.read_text().splitlines()[0] if SECRET.is_file() else "root:x:0:0"


def all_text(tree) -> str:
    from lxml import etree
    return etree.tostring(tree, encoding="unicode")


def test_every_parse_call_uses_a_hardened_parser():
    """Any new parse call must pass one of the hardened parsers (or use the helpers)."""
    calls = []
    for path in (ROOT / "converters").rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"etree\.(parse|fromstring|XML|iterparse)\(|xml\.(etree|dom|sax)|minidom", line):
                calls.append((path.relative_to(ROOT).as_posix(), n, line.strip()))
    assert calls, "no parse call found: the grep pattern is stale"
    # iterparse takes no parser: the same four settings must be spelled out on its line
    hardened = ("resolve_entities=False", "no_network=True", "load_dtd=False", "huge_tree=False")
    unsafe = [c for c in calls if "safe_parser()" not in c[2]
              and not ("etree.iterparse(" in c[2] and all(h in c[2] for h in hardened))]
    assert unsafe == [], unsafe


def _timed(fn, *args):
    start = time.perf_counter()
    try:
        return fn(*args), None, time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - a clean refusal is what we want
        return None, exc, time.perf_counter() - start


@pytest.mark.parametrize("parse", ["define", "validate"])
@pytest.mark.parametrize("doc", ["laughs", "xxe", "parameter-xxe"])
def test_malicious_xml_is_not_expanded(tmp_path: Path, parse: str, doc: str):
    from converters.validate.define import parse as validate_parse
    path = tmp_path / "define.xml"
    path.write_text({"laughs": LAUGHS, "xxe": XXE, "parameter-xxe": PARAMETER_XXE}[doc])
    fn = resources.parse if parse == "define" else validate_parse
    tree, exc, seconds = _timed(fn, path)
    assert seconds < 2
    if tree is not None:
        text = all_text(tree)
        assert "lollollollol" not in text  # not expanded
        assert secret_line() not in text
        assert len(text) < 10_000
    else:  # refused: with a one-line reason naming the problem, not a crash
        assert "\n" not in str(exc) and str(exc)
    if parse == "validate":
        assert exc is not None and type(exc).__name__ == "UnsafeXml", "cdisc validate must refuse DTDs"


@pytest.mark.parametrize("parse", ["define", "validate"])
def test_external_dtd_is_not_fetched_from_the_network(tmp_path: Path, parse: str):
    from converters.validate.define import parse as validate_parse
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.3)
    try:
        path = tmp_path / "define.xml"
        path.write_text(network_xml(server.getsockname()[1]))
        fn = resources.parse if parse == "define" else validate_parse
        _, _, seconds = _timed(fn, path)
        assert seconds < 2
        with pytest.raises(socket.timeout):
            conn, _ = server.accept()
            conn.close()
    finally:
        server.close()


def test_render_html_of_a_malicious_define_leaks_nothing(tmp_path: Path):
    """define.html is rendered through XSLT from a parsed define: entities stay unexpanded there too."""
    for name, doc in (("laughs", LAUGHS), ("xxe", XXE)):
        src = tmp_path / f"{name}.xml"
        src.write_text(doc)
        html = tmp_path / f"{name}.html"
        _, exc, seconds = _timed(render_html, src, html)
        assert seconds < 2
        if html.exists():
            data = html.read_text(errors="replace")
            assert secret_line() not in data and "lollollollol" not in data


@pytest.fixture(scope="module")
def package(tmp_path_factory) -> Path:
    import converters.pipeline as pipeline
    base = tmp_path_factory.mktemp("pkg")
    out = base / "pkg"
    with pytest.MonkeyPatch.context() as mp:  # only the SDTM XPT files are needed here
        mp.setattr(pipeline, "write_adam", lambda *a, **k: {}, raising=False)
        for name in ("write_define", "write_report", "write_conformance"):
            mp.setattr(pipeline, name, lambda *a, **k: None, raising=False)
        assert CliRunner().invoke(main, ["convert", str(make_study(base / "s")), "-o", str(out), "-q"]).exit_code == 0
    return out


@pytest.mark.parametrize("doc", ["laughs", "xxe"])
def test_cdisc_validate_refuses_a_malicious_define_quickly(package: Path, tmp_path: Path, doc: str):
    pkg = tmp_path / "pkg"
    shutil.copytree(package / "sdtm", pkg)
    (pkg / "define.xml").write_text(LAUGHS if doc == "laughs" else XXE)
    report = tmp_path / "report.json"
    start = time.perf_counter()
    result = CliRunner().invoke(main, ["validate", str(pkg), "--report", str(report)])
    assert time.perf_counter() - start < 10  # the whole validation of a small package, define refused
    assert "Traceback" not in result.output and result.exception is None or isinstance(result.exception, SystemExit)
    assert result.exit_code == 1, result.output
    text = report.read_text()
    assert "DD0001" in text  # the define is reported as unsafe, not read
    assert secret_line() not in text + result.output and "lollollollol" not in text
