"""Session cookies: signed, expiring, revocable, tied to the credential."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from incidentflow.settings import Settings
from incidentflow.web.ui.session import (
    SessionCodec,
    authenticate,
    csrf_ok,
    new_anonymous,
)


def _settings(tmp_path: Path, token: str = "ifa_token_one") -> Settings:
    return Settings.from_env({}, data_dir=tmp_path, admin_token=token, secret_key="k" * 20)


def test_only_the_admin_token_signs_in(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert authenticate(settings, "ifa_token_one") == "admin"
    assert authenticate(settings, " ifa_token_one\n") == "admin"
    assert authenticate(settings, "ifa_token_on") is None
    assert authenticate(settings, "") is None


def test_a_session_round_trips_and_tampering_is_refused(tmp_path: Path) -> None:
    codec = SessionCodec(_settings(tmp_path))
    session = codec.sign_in(new_anonymous(), "admin")
    cookie = codec.encode(session)
    assert codec.decode(cookie) == session
    body, signature = cookie.rsplit(".", 1)
    other = codec.encode(replace(session, who="root")).rsplit(".", 1)[0]
    assert codec.decode(f"{other}.{signature}") is None
    assert codec.decode(body) is None
    assert codec.decode("garbage.garbage") is None


def test_sign_in_gives_a_fresh_session_id_and_csrf_token(tmp_path: Path) -> None:
    codec = SessionCodec(_settings(tmp_path))
    anonymous = new_anonymous()
    signed_in = codec.sign_in(anonymous, "admin")
    assert signed_in.sid != anonymous.sid and signed_in.csrf != anonymous.csrf


def test_expired_and_revoked_sessions_are_refused(tmp_path: Path) -> None:
    codec = SessionCodec(_settings(tmp_path))
    session = codec.sign_in(new_anonymous(), "admin")
    assert codec.decode(codec.encode(replace(session, expires=time.time() - 1))) is None
    cookie = codec.encode(session)
    codec.revoke(session)
    assert codec.decode(cookie) is None


def test_rotating_the_admin_token_ends_sessions(tmp_path: Path) -> None:
    before = SessionCodec(_settings(tmp_path))
    cookie = before.encode(before.sign_in(new_anonymous(), "admin"))
    after = SessionCodec(_settings(tmp_path, token="ifa_token_two"))
    assert after.decode(cookie) is None


def test_a_cookie_from_another_secret_key_is_refused(tmp_path: Path) -> None:
    one = SessionCodec(_settings(tmp_path))
    other = SessionCodec(replace(_settings(tmp_path), secret_key="different-key-000"))
    assert other.decode(one.encode(one.sign_in(new_anonymous(), "admin"))) is None


def test_csrf_token_must_match_exactly() -> None:
    session = new_anonymous()
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, session.csrf[:-1])
    assert not csrf_ok(session, None)
    assert not csrf_ok(session, "")
