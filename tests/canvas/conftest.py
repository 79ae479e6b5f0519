"""Canvas tests use the suite's toy components (tests/toys.py), not the real ones."""

from __future__ import annotations

import pytest
from toys import make_registry

from incidentflow.registry import Registry


@pytest.fixture(scope="session")
def registry() -> Registry:
    return make_registry()
