"""docs/components/ is generated from the components themselves: a page per node type
in the registry, and this test fails as soon as one drifts from the code."""

from __future__ import annotations

from pathlib import Path

from incidentflow import docs_gen
from incidentflow.components.base import Field
from incidentflow.integrations.incidentio.action import CreateFollowUp
from incidentflow.registry import Registry, default_registry


def test_the_committed_pages_match_the_code():
    assert docs_gen.drifted(default_registry()) == [], (
        "docs/components/ is out of date: run python -m incidentflow.docs_gen")


def test_every_component_has_a_page_listing_its_fields_and_events():
    registry = default_registry()
    for component in registry.components.values():
        page = (docs_gen.DOCS / docs_gen.page_name(component)).read_text(encoding="utf-8")
        assert f"`{component.type}`" in page
        for field in component.fields:
            assert f"| `{field.name}` |" in page, (component.type, field.name)
        for event_type in docs_gen.emitted_types(component):
            assert f"- `{event_type}`" in page
    index = (docs_gen.DOCS / docs_gen.INDEX).read_text(encoding="utf-8")
    assert all(f"[`{t}`]" in index for t in registry.components)


class Renamed(CreateFollowUp):
    fields = (*CreateFollowUp.fields, Field("labels", "object", "Labels"))


def test_a_changed_field_an_edited_page_and_a_stale_page_are_each_caught(tmp_path: Path):
    registry = Registry()
    registry.add_component(CreateFollowUp())
    assert docs_gen.write(registry, tmp_path) == ["README.md", "incident.createFollowUp.md"]
    assert docs_gen.drifted(registry, tmp_path) == []
    changed = Registry()
    changed.add_component(Renamed())
    assert docs_gen.drifted(changed, tmp_path) == ["incident.createFollowUp.md"]
    page = tmp_path / "incident.createFollowUp.md"
    page.write_text(page.read_text() + "hand edit\n")
    (tmp_path / "gone.md").write_text("old")
    assert docs_gen.drifted(registry, tmp_path) == ["gone.md", "incident.createFollowUp.md"]
    docs_gen.write(registry, tmp_path)
    assert docs_gen.drifted(registry, tmp_path) == []


def test_check_mode_exit_status(capsys):
    assert docs_gen.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out
