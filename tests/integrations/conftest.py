from __future__ import annotations

import pytest
from incidentio_fakes import FakeIncidentIO


@pytest.fixture
def api() -> FakeIncidentIO:
    return FakeIncidentIO()
