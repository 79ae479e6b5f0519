"""Fixtures of the reliability proofs: a fresh PostgreSQL database per test.

The proofs start real processes (``serve``, ``worker``, an emulator) and put real load
on them; run them one at a time (the machine is shared).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from helpers import postgres_base_url

from .databases import fresh_database


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """The URL of a database created for this test and dropped after it."""
    base = postgres_base_url()
    if base is None:
        pytest.skip("PostgreSQL proofs skipped: set CI=1 or "
                    "INCIDENTFLOW_TEST_DATABASE_URL=postgresql+psycopg://...")
    with fresh_database(base) as url:
        yield url
