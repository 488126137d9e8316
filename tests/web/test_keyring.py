"""The keys a web process accepts: cached, yet a change counts from the next request."""

from __future__ import annotations

import asyncio

import pytest

from store.access import apikeys
from store.backends import Backends, async_redis_client
from web.key_token import ChangeToken
from web.keyring import ANONYMOUS, Keyring

pytestmark = pytest.mark.parametrize("key_backends", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def b(key_backends: Backends) -> Backends:
    return key_backends


def test_keys_are_needed_once_one_exists_and_a_revoked_one_fails_at_once(b: Backends) -> None:
    keyring = Keyring(b, [])
    assert keyring.owner_for(None) == ANONYMOUS  # no key anywhere: open
    row, key = apikeys.create(b, "carol")
    assert keyring.owner_for(None) is None  # the very next call knows keys exist
    assert keyring.owner_for(key) == "carol"
    assert keyring.owner_for(key) == "carol"  # from the cache now
    apikeys.revoke(b, row.id)
    assert keyring.owner_for(key) is None
    assert keyring.owner_for(None) is None  # revoking the last key does not open the API


def test_without_the_change_token_nothing_stale_is_trusted(b: Backends) -> None:
    keyring = Keyring(b, [])
    row, key = apikeys.create(b, "dave")
    assert keyring.owner_for(key) == "dave"
    b.redis.delete(b.keys.api_keys_version)  # Redis lost it (flushed, failed over)
    apikeys.revoke(b, row.id)
    b.redis.delete(b.keys.api_keys_version)
    assert keyring.owner_for(key) is None


def test_environment_keys_need_no_database(b: Backends) -> None:
    keyring = Keyring(b, [("erin", "erin-key-0123456789"), ("frank", "frank-key-0123456789")])
    assert keyring.owner_for("frank-key-0123456789") == "frank"
    assert keyring.owner_for("erin-key-0123456789") == "erin"
    assert keyring.owner_for("erin-key-012345678") is None
    assert keyring.owner_for(None) is None


async def test_from_the_event_loop_a_change_counts_from_the_next_request_too(
    b: Backends, redis_url: str
) -> None:
    token = ChangeToken(async_redis_client(redis_url, "jobcast-test"), b.keys.api_keys_version)
    keyring = Keyring(b, [], token)
    try:
        assert await keyring.check(None) == ANONYMOUS
        row, key = apikeys.create(b, "grace")
        assert await keyring.check(None) is None
        answers = await asyncio.gather(*(keyring.check(key) for _ in range(20)))
        assert answers == ["grace"] * 20  # many at once share the token's reads
        assert keyring.cached(key, await token.read()) == (True, "grace")  # from memory now
        apikeys.revoke(b, row.id)
        assert await keyring.check(key) is None
    finally:
        await token.close()
