"""Every page: each form control is labelled, every aria-describedby/labelledby points at
something on the page, headings start at h1 and never skip a level, one <main>."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from ui_support import MANUAL, MIRROR, Browser, apply


class Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.label_for: set[str] = set()
        self.controls: list[tuple[str, dict[str, str]]] = []
        self.references: list[str] = []
        self.headings: list[int] = []
        self.mains = 0
        self.label_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        for key in ("aria-describedby", "aria-labelledby"):
            self.references += a.get(key, "").split()
        if tag == "label":
            self.label_depth += 1
            if "for" in a:
                self.label_for.add(a["for"])
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.controls.append((tag, {**a, "_in_label": str(self.label_depth > 0)}))
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append(int(tag[1]))
        self.mains += tag == "main"

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.label_depth -= 1


def problems(html: str) -> list[str]:
    audit = Audit()
    audit.feed(html)
    found = [
        f"unlabelled {tag} {a.get('name') or a.get('id')}"
        for tag, a in audit.controls
        if a["_in_label"] != "True" and a.get("id") not in audit.label_for
        and not a.get("aria-label") and not a.get("aria-labelledby")
    ]
    found += [f"aria reference to missing id {r}" for r in audit.references
              if r not in audit.ids]
    if audit.headings[:1] != [1]:
        found.append(f"first heading is not h1: {audit.headings[:3]}")
    found += [f"heading skips from h{a} to h{b}"
              for a, b in zip(audit.headings, audit.headings[1:], strict=False) if b > a + 1]
    if audit.mains != 1:
        found.append(f"{audit.mains} <main> elements")
    return found


PAGES = ["/canvases", "/canvases/new", "/canvases/mirror", "/canvases/mirror/edit",
         "/canvases/mirror/nodes/On%20Incident", "/canvases/mirror/nodes/Open%20follow-up",
         "/canvases/manual/nodes/Start", "/canvases/mirror/runs", "/canvases/mirror/delete",
         "/integrations", "/integrations/incident/delete", "/tokens",
         "/canvases/mirror/add", "/canvases/mirror/add?type=incident.createIncident",
         "/canvases/mirror/add?type=filter", "/canvases/mirror/nodes/Open%20follow-up/delete"]


@pytest.fixture
def site(with_integration: Browser) -> Browser:
    apply(with_integration, MIRROR)
    apply(with_integration, MANUAL)
    return with_integration


def test_every_page_is_labelled_and_well_structured(site: Browser) -> None:
    for path in PAGES:
        answer = site.get(path)
        assert answer.status_code == 200, path
        assert problems(answer.text) == [], path


def test_pages_with_errors_tie_each_message_to_its_field(site: Browser) -> None:
    site.get("/canvases/mirror/nodes/On%20Incident")
    secret = site.submit("/canvases/mirror/nodes/On%20Incident/secret",
                         {"action": "set", "secret": "nope"})
    site.get("/integrations")
    integration = site.submit("/integrations", {"name": "", "type": "incident"})
    site.get("/tokens")
    token = site.submit("/tokens", {"name": ""})
    site.get("/canvases/new")
    taken = site.submit("/canvases", {"source": MIRROR})  # a new canvas, name taken
    assert taken.status_code == 409 and problems(taken.text) == []
    for page in (secret, integration, token):
        assert page.status_code == 422
        assert problems(page.text) == []
        assert 'aria-invalid="true"' in page.text
    assert 'aria-describedby="new-name-help new-name-error"' in integration.text


def test_the_audit_catches_what_it_claims_to() -> None:
    bad = ("<main><h2>x</h2><input name=a><p aria-describedby=nowhere></p>"
           "<h4>y</h4></main>")
    assert problems(bad) == [
        "unlabelled input a", "aria reference to missing id nowhere",
        "first heading is not h1: [2, 4]", "heading skips from h2 to h4"]
