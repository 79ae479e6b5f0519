"""What a delivery's outcome is called, shared by triggers (which decide it), the receiver
and the store (which records it), so the store needs nothing from ``components``."""

from __future__ import annotations

# A 2xx verdict without events whose ``reason`` starts with this was kept out by the
# trigger's own filters: the delivery log records it as "filtered", not "ignored".
FILTERED_REASON = "filtered: "
