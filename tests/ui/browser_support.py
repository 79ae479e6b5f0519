"""What every browser test shares: Debian's chromium and how it is launched, where
screenshots go (a temporary directory, or docs/screenshots/ when
INCIDENTFLOW_UPDATE_SCREENSHOTS=1: tests never modify tracked files unless asked to), and
the script that reports Content-Security-Policy refusals to the console. The fixtures of
the shared browser scenario (``servers``, ``browser_context``, ``csp_violations``) are in
this folder's conftest.py."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DOC_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SHOTS = (DOC_SHOTS if os.environ.get("INCIDENTFLOW_UPDATE_SCREENSHOTS") == "1"
         else Path(tempfile.mkdtemp(prefix="incidentflow-screenshots-")))
TOKEN = "ifa_browser_" + "C" * 30
EMULATOR_KEY = "emulator-browser-key"
WAIT_MS = 20_000
# A 30-node canvas the scenario and the polish tests draw.
TRIAGE = (Path(__file__).parent / "canvases" / "triage-30.yaml").read_text()

# Every page reports what its Content-Security-Policy refused to the console (an init
# script is injected by the browser, so the policy does not apply to it).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error("CSP violation: " + e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")


def launch(playwright: Any) -> Any:
    """Debian's chromium, headless, without the background traffic of a desktop browser."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def shot(page: Any, name: str, full: bool = True) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full)
