"""Settings: environment first, CLI flags over it, generated secrets kept private."""

from __future__ import annotations

import stat
from pathlib import Path

from incidentflow.settings import Settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_defaults_put_everything_in_the_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"INCIDENTFLOW_DATA_DIR": str(tmp_path / "d")})
    assert settings.database_url == f"sqlite:///{(tmp_path / 'd' / 'incidentflow.db').resolve()}"
    assert settings.public_url == "http://127.0.0.1:8000"
    assert settings.is_sqlite
    assert _mode(tmp_path / "d") == 0o700


def test_generated_key_and_token_are_0600_and_kept_across_starts(tmp_path: Path) -> None:
    env = {"INCIDENTFLOW_DATA_DIR": str(tmp_path)}
    first = Settings.from_env(env)
    assert first.admin_token_generated
    assert _mode(tmp_path / "secret.key") == 0o600
    assert _mode(tmp_path / "admin.token") == 0o600
    again = Settings.from_env(env)
    assert not again.admin_token_generated
    assert (again.admin_token, again.secret_key) == (first.admin_token, first.secret_key)


def test_environment_values_win_and_create_no_files(tmp_path: Path) -> None:
    settings = Settings.from_env({
        "INCIDENTFLOW_DATA_DIR": str(tmp_path),
        "INCIDENTFLOW_DATABASE_URL": "postgresql+psycopg://u@db/x",
        "INCIDENTFLOW_PUBLIC_URL": "https://flows.example.com/",
        "INCIDENTFLOW_SECRET_KEY": "k",
        "INCIDENTFLOW_ADMIN_TOKEN": "t",
    })
    assert settings.database_url == "postgresql+psycopg://u@db/x" and not settings.is_sqlite
    assert settings.webhook_url("abc") == "https://flows.example.com/webhooks/abc"
    assert (settings.secret_key, settings.admin_token) == ("k", "t")
    assert not (tmp_path / "secret.key").exists() and not (tmp_path / "admin.token").exists()


def test_flags_override_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"INCIDENTFLOW_PUBLIC_URL": "http://env", "INCIDENTFLOW_RETRY_LIMIT": "3"},
        data_dir=tmp_path, public_url="http://flag", admin_token="a", secret_key="s",
        retry_limit=None,
    )
    assert settings.public_url == "http://flag"
    assert settings.retry_limit == 3  # None means "flag not given"


def test_repr_never_shows_secrets(tmp_path: Path) -> None:
    settings = Settings.from_env({}, data_dir=tmp_path, admin_token="ifa_topsecret",
                                 secret_key="key-material")
    assert "ifa_topsecret" not in repr(settings) and "key-material" not in repr(settings)


def test_retry_policy_comes_from_the_environment(tmp_path: Path) -> None:
    from incidentflow.engine.retry import RetryPolicy

    settings = Settings.from_env({
        "INCIDENTFLOW_RETRY_LIMIT": "4", "INCIDENTFLOW_RETRY_BASE_SECONDS": "0.1",
        "INCIDENTFLOW_RETRY_MAX_SECONDS": "3",
    }, data_dir=tmp_path)
    policy = RetryPolicy.from_settings(settings)
    assert (policy.limit, policy.base_seconds, policy.max_seconds) == (4, 0.1, 3.0)
    defaults = RetryPolicy.from_settings(Settings.from_env({}, data_dir=tmp_path))
    assert (defaults.limit, defaults.base_seconds, defaults.max_seconds) == (10, 2.0, 300.0)
