from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from emulated_incidentio import Emulated, emulated
from incidentio_fakes import FakeIncidentIO


@pytest.fixture
def api() -> FakeIncidentIO:
    return FakeIncidentIO()


@pytest.fixture
def emu() -> Emulated:
    return emulated()


@pytest.fixture
async def http(emu: Emulated) -> AsyncIterator[httpx.AsyncClient]:
    async with emu.http() as client:
        yield client
