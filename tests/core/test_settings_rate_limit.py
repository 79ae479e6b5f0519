"""The global limit on create actions: INCIDENTFLOW_CREATE_RATE_LIMIT_*."""

from __future__ import annotations

from pathlib import Path

import pytest

from incidentflow.errors import ConfigurationError
from incidentflow.settings import Settings


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"INCIDENTFLOW_DATA_DIR": str(tmp_path), **env})


def test_ten_per_minute_by_default(tmp_path: Path) -> None:
    found = settings(tmp_path)
    assert (found.create_rate_limit_max, found.create_rate_limit_per_seconds) == (10, 60.0)


def test_both_figures_come_from_the_environment(tmp_path: Path) -> None:
    found = settings(tmp_path, INCIDENTFLOW_CREATE_RATE_LIMIT_MAX="3",
                     INCIDENTFLOW_CREATE_RATE_LIMIT_PER_SECONDS="2.5")
    assert (found.create_rate_limit_max, found.create_rate_limit_per_seconds) == (3, 2.5)


@pytest.mark.parametrize(("maximum", "per"), [
    ("0", "60"), ("ten", "60"), ("1.5", "60"), ("10", "0"), ("10", "-1"), ("10", "soon"),
    ("10", "nan"), ("10", "inf"), ("10", "0.5"), ("100001", "60"), ("10", "604801"),
])
def test_values_that_would_disable_the_brake_are_refused(tmp_path: Path, maximum: str,
                                                          per: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        settings(tmp_path, INCIDENTFLOW_CREATE_RATE_LIMIT_MAX=maximum,
                 INCIDENTFLOW_CREATE_RATE_LIMIT_PER_SECONDS=per)
    assert "INCIDENTFLOW_CREATE_RATE_LIMIT_MAX" in str(refused.value)
    assert f"(got {maximum!r} and {per!r})" in str(refused.value)
