"""Schemathesis against the project's own OpenAPI document on a live server: whatever
it generates (bounded, so the run stays under a minute), the server never answers 5xx.

A stack of its own (not the package's): the fuzzer may delete what it finds.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from .conftest import Stack, live_stack

pytestmark = pytest.mark.slow
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with live_stack(tmp_path_factory.mktemp("fuzz")) as running:
        yield running


def test_no_generated_request_gets_a_server_error(fuzz_stack: Stack, tmp_path: Path) -> None:
    if not SCHEMATHESIS.exists():
        pytest.skip("schemathesis is not installed in this environment")
    server = fuzz_stack.server
    result = subprocess.run(
        [str(SCHEMATHESIS), "run", f"{server.url}/api/v1/openapi.json",
         "--url", server.url,
         "-H", f"Authorization: Bearer {server.token}",
         "--checks", "not_a_server_error",
         "--max-examples", "12", "--seed", "5", "--request-timeout", "10",
         "--report", "junit", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=240,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    root = ElementTree.parse(next(tmp_path.glob("junit*.xml"))).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    assert suite is not None
    # Every operation of the document was exercised, none failed.
    assert int(suite.get("tests", "0")) >= 15, output[-3000:]
    assert (suite.get("failures"), suite.get("errors")) == ("0", "0"), output[-6000:]
