"""Node icons drawn as SVG paths, so they look the same whatever fonts a browser has
(component ``icon`` characters such as emoji are missing from many server fonts)."""

from __future__ import annotations

from markupsafe import Markup

# 20x20 viewBox; (path data, filled?)
ICONS: dict[str, tuple[str, bool]] = {
    "start": ("M6 4 L16 10 L6 16 Z", True),
    "noop": ("M3 10 H15 M11 6 L15 10 L11 14", False),
    "filter": ("M3 4 H17 L11.5 11 V16.5 L8.5 18 V11 Z", False),
    "if": ("M2 10 H7 L13 4 H18 M7 10 L13 16 H18", False),
    "http": ("M3 7 H16 M13 4 L16 7 L13 10 M17 13 H4 M7 10 L4 13 L7 16", False),
    "incident.onIncident": ("M11.5 1.5 L4 11 H9.5 L8.5 18.5 L16 9 H10.5 Z", True),
    "incident.createIncident": ("M10 2.5 A7.5 7.5 0 1 0 10.01 2.5 Z M10 6 V14 M6 10 H14", False),
}
TRIGGER = ("M10 3 A7 7 0 1 0 10.01 3 Z M10 6.5 V10 L12.5 12", False)
ACTION = ("M4 4 H16 V16 H4 Z", False)


def icon_path(node_type: str, role: str = "action") -> tuple[str, bool]:
    return ICONS.get(node_type) or (TRIGGER if role == "trigger" else ACTION)


def icon_svg(node_type: str, role: str = "action", size: int = 18) -> Markup:
    """A standalone inline icon for headings and lists (decorative: aria-hidden)."""
    path, filled = icon_path(node_type, role)
    fill = "currentColor" if filled else "none"
    # Safe: every interpolated value is a constant from ICONS or an int.
    return Markup(  # noqa: S704
        f'<svg class="inline-icon" width="{size}" height="{size}" viewBox="0 0 20 20" '
        f'aria-hidden="true" focusable="false"><path d="{path}" fill="{fill}" '
        f'stroke="currentColor" stroke-width="1.6" stroke-linejoin="round" '
        f'stroke-linecap="round"/></svg>'
    )
