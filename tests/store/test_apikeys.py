"""Stored API keys on SQLite and PostgreSQL, with real Redis."""

from __future__ import annotations

import pytest

from store.access import apikeys
from store.backends import Backends

pytestmark = pytest.mark.parametrize("key_backends", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def b(key_backends: Backends) -> Backends:
    return key_backends


def test_a_created_key_is_stored_as_a_hash_and_found_by_it(b: Backends) -> None:
    row, key = apikeys.create(b, "alice")
    assert key.startswith(apikeys.KEY_PREFIX) and len(key) > 40
    assert row.key_hash == apikeys.hash_key(key) != key
    assert apikeys.owner_of_hash(b, apikeys.hash_key(key)) == "alice"
    assert apikeys.owner_of_hash(b, apikeys.hash_key(key + "x")) is None
    assert [(r.id, r.hint) for r in apikeys.list_keys(b, "alice")] == [(row.id, key[:8])]


def test_a_revoked_key_is_no_longer_found(b: Backends) -> None:
    row, key = apikeys.create(b, "bob")
    assert apikeys.any_stored(b)
    revoked = apikeys.revoke(b, row.id)
    assert revoked is not None and revoked.revoked_at is not None
    assert apikeys.owner_of_hash(b, apikeys.hash_key(key)) is None
    assert apikeys.any_stored(b)  # revoked keys count: keys stay required
    assert apikeys.revoke(b, row.id) is not None  # again: still revoked, no error
    assert apikeys.revoke(b, "no-such-key") is None


def test_owners_are_checked(b: Backends) -> None:
    with pytest.raises(ValueError, match="owner"):
        apikeys.create(b, "has spaces")
