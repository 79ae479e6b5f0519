"""Secrets for canvases in the store: put / replace / list / delete, and what a row holds
(ciphertext only), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from store_fixtures import NOW

from incidentflow.crypto import SecretBox
from incidentflow.errors import NotFound
from incidentflow.store.secret_rows import canvas_secrets

BOX = SecretBox("store-secrets-test-key")


def test_put_creates_then_replaces_keeping_the_creation_date(store):
    later = NOW + timedelta(minutes=5)
    first = store.put_secret("PAGER_TOKEN", BOX.encrypt("one"), NOW)
    second = store.put_secret("PAGER_TOKEN", BOX.encrypt("two"), later)
    assert (first.name, first.created_at, first.updated_at) == ("PAGER_TOKEN", NOW, NOW)
    assert (second.created_at, second.updated_at) == (NOW, later)
    assert BOX.decrypt(store.secrets_encrypted()["PAGER_TOKEN"]) == "two"


def test_list_gives_names_and_dates_in_name_order(store):
    store.put_secret("b_token", BOX.encrypt("x" * 8), NOW)
    store.put_secret("A_TOKEN", BOX.encrypt("y" * 8), NOW + timedelta(seconds=1))
    listed = store.list_secrets()
    assert [r.name for r in listed] == sorted(["b_token", "A_TOKEN"])
    assert {r.name: r.updated_at for r in listed}["A_TOKEN"] == NOW + timedelta(seconds=1)
    assert not any(hasattr(r, "value") or hasattr(r, "value_enc") for r in listed)


def test_delete_removes_and_unknown_is_not_found(store):
    store.put_secret("GONE", BOX.encrypt("soon-gone"), NOW)
    store.delete_secret("GONE")
    assert store.list_secrets() == []
    assert store.secrets_encrypted() == {}
    with pytest.raises(NotFound, match="GONE"):
        store.delete_secret("GONE")


def test_the_row_holds_ciphertext_only(sql_store):
    plain = "raw-row-secret-value-4711"
    sql_store.put_secret("RAW", BOX.encrypt(plain), NOW)
    with sql_store.engine.connect() as conn:
        row = conn.execute(sa.select(canvas_secrets)).one()
    assert row.name == "RAW"
    assert plain not in row.value_enc
    assert BOX.decrypt(row.value_enc) == plain


def test_every_encrypted_value_by_name(store):
    assert store.secrets_encrypted() == {}
    store.put_secret("ONE", BOX.encrypt("first-value"), NOW)
    store.put_secret("TWO", BOX.encrypt("second-value"), NOW)
    decrypted = {k: BOX.decrypt(v) for k, v in store.secrets_encrypted().items()}
    assert decrypted == {"ONE": "first-value", "TWO": "second-value"}
