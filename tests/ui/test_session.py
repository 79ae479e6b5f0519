"""Session cookies: signed, expiring, tied to the credential, and ended everywhere.

Two codecs on one store stand for two processes (or one process before and after a
restart): they share nothing but the database."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from incidentflow.settings import Settings
from incidentflow.store.tokens import hash_token, new_token
from incidentflow.web.ui.session import (
    LIVENESS_SECONDS,
    SessionCodec,
    authenticate,
    csrf_ok,
    new_anonymous,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _settings(tmp_path: Path, token: str = "ifa_token_one") -> Settings:
    return Settings.from_env({}, data_dir=tmp_path, admin_token=token, secret_key="k" * 20)


@pytest.fixture
def codec(tmp_path: Path, store: Any) -> SessionCodec:
    return SessionCodec(_settings(tmp_path), store)


def test_only_the_admin_token_signs_in(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    assert authenticate(settings, "ifa_token_one") == "admin"
    assert authenticate(settings, " ifa_token_one\n") == "admin"
    assert authenticate(settings, "ifa_token_on") is None
    assert authenticate(settings, "") is None


def test_a_session_round_trips_and_tampering_is_refused(codec: SessionCodec) -> None:
    session = codec.sign_in(new_anonymous(), "admin")
    cookie = codec.encode(session)
    assert codec.decode(cookie) == session
    body, signature = cookie.rsplit(".", 1)
    other = codec.encode(replace(session, who="root")).rsplit(".", 1)[0]
    assert codec.decode(f"{other}.{signature}") is None
    assert codec.decode(body) is None
    assert codec.decode("garbage.garbage") is None


def test_sign_in_gives_a_fresh_session_id_and_csrf_token(codec: SessionCodec) -> None:
    anonymous = new_anonymous()
    signed_in = codec.sign_in(anonymous, "admin")
    assert signed_in.sid != anonymous.sid and signed_in.csrf != anonymous.csrf
    assert signed_in.expires > time.time()


def test_expired_sessions_are_refused(codec: SessionCodec) -> None:
    session = codec.sign_in(new_anonymous(), "admin")
    assert codec.decode(codec.encode(replace(session, expires=time.time() - 1))) is None


def test_sign_out_ends_the_session_in_this_process_at_once(codec: SessionCodec) -> None:
    session = codec.sign_in(new_anonymous(), "admin")
    cookie = codec.encode(session)
    assert codec.decode(cookie) is not None  # cached as alive ...
    codec.sign_out(session)
    assert codec.decode(cookie) is None  # ... and forgotten by the sign-out


def test_sign_out_ends_the_session_in_other_processes_and_after_a_restart(
    tmp_path: Path, store: Any
) -> None:
    clock = Clock()
    one = SessionCodec(_settings(tmp_path), store)
    other = SessionCodec(_settings(tmp_path), store, clock=clock)
    session = one.sign_in(new_anonymous(), "admin")
    cookie = one.encode(session)
    assert other.decode(cookie) == session  # the other process caches it as alive
    one.sign_out(session)
    clock.now += LIVENESS_SECONDS + 0.1
    assert other.decode(cookie) is None
    restarted = SessionCodec(_settings(tmp_path), store)
    assert restarted.decode(cookie) is None


def test_a_session_without_its_row_is_refused(tmp_path: Path, store: Any) -> None:
    # e.g. a cookie signed by this key for a database that was reset
    codec = SessionCodec(_settings(tmp_path), store)
    forged_sid = replace(codec.sign_in(new_anonymous(), "admin"), sid="no-such-row")
    assert codec.decode(codec.encode(forged_sid)) is None


def test_rotating_the_admin_token_ends_sessions(tmp_path: Path, store: Any) -> None:
    before = SessionCodec(_settings(tmp_path), store)
    cookie = before.encode(before.sign_in(new_anonymous(), "admin"))
    after = SessionCodec(_settings(tmp_path, token="ifa_token_two"), store)
    assert after.decode(cookie) is None


def test_revoking_the_api_token_used_to_sign_in_ends_the_session(
    tmp_path: Path, store: Any
) -> None:
    settings = _settings(tmp_path)
    token = new_token()
    record = store.create_token("ci", hash_token(token), datetime.now(UTC))
    who = authenticate(settings, token, store)
    assert who == f"token:{record.id}"
    codec = SessionCodec(settings, store)
    cookie = codec.encode(codec.sign_in(new_anonymous(), who))
    assert codec.decode(cookie) is not None
    store.revoke_token(record.id, datetime.now(UTC))
    assert SessionCodec(settings, store).decode(cookie) is None


def test_session_rows_are_marked_and_never_sign_in(codec: SessionCodec, store: Any) -> None:
    session = codec.sign_in(new_anonymous(), "admin")
    row = store.get_token(session.sid)
    assert row.is_session and "admin" in row.name


def test_a_cookie_from_another_secret_key_is_refused(tmp_path: Path, store: Any) -> None:
    one = SessionCodec(_settings(tmp_path), store)
    other = SessionCodec(replace(_settings(tmp_path), secret_key="different-key-000"), store)
    assert other.decode(one.encode(one.sign_in(new_anonymous(), "admin"))) is None


def test_csrf_token_must_match_exactly() -> None:
    session = new_anonymous()
    assert csrf_ok(session, session.csrf)
    assert not csrf_ok(session, session.csrf[:-1])
    assert not csrf_ok(session, None)
    assert not csrf_ok(session, "")
