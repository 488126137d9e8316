"""The keys a web process accepts: `JOBCAST_API_KEYS` and the active keys in the database.

Keys are required as soon as any exists (a stored key counts even once revoked, so
revoking the last one locks the API rather than opening it). Keys from the environment
are checked in memory. Stored keys are looked up by hash and cached, together with
whether any key exists at all, for as long as the change token in Redis stays the same (see
store/access/apikeys.py): each request reads that token (one Redis GET, shared by requests
that arrive together: web/key_token.py), so a key created or revoked anywhere counts from
the next request on. Without Redis nothing is cached.

`check` is the event loop's entry: it answers from memory when it can, and goes to a
worker thread only to read the database. The other methods are blocking (Redis,
database): call them from a worker thread.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass, field

from redis.exceptions import RedisError
from starlette.concurrency import run_in_threadpool

from store.access import apikeys
from store.backends import Backends
from web.key_token import ChangeToken

ANONYMOUS = "anonymous"
# A backstop for a missed change (Redis lost a write): nothing is trusted for longer.
CACHE_TTL_S = 30.0
# Keys that failed are cached too (a flood of made-up keys costs no database reads),
# within this bound.
CACHE_ENTRIES = 10_000


@dataclass
class _Cache:
    token: bytes | None
    required: bool
    expires: float
    owners: dict[str, str | None] = field(default_factory=dict)


class Keyring:
    def __init__(
        self, b: Backends, env_keys: list[tuple[str, str]], token: ChangeToken | None = None
    ) -> None:
        self.b = b
        self._env = [(owner, _digest(key)) for owner, key in env_keys]
        self._cache: _Cache | None = None
        self.token = token

    async def check(self, key: str | None) -> str | None:
        """`owner_for` from the event loop: a worker-thread trip only when the cache cannot
        answer. Raises INFRASTRUCTURE_ERRORS, as `owner_for` does."""
        if self.token is not None:
            try:
                known, owner = self.cached(key, await self.token.read())
            except RedisError:
                known, owner = False, None  # owner_for decides without Redis, as before
            if known:
                return owner
        return await run_in_threadpool(self.owner_for, key)

    def cached(self, key: str | None, token: bytes | None) -> tuple[bool, str | None]:
        """(True, what `owner_for` would answer) from memory alone, when the cache is
        current for `token` and knows the key; else (False, None)."""
        if key is not None and (owner := self._env_owner(key)) is not None:
            return True, owner
        cache = self._cache
        if cache is None or cache.token != token or cache.expires < time.monotonic():
            return False, None
        if not cache.required:
            return True, ANONYMOUS
        if key is None:
            return True, None
        try:  # one lookup: a worker thread may clear the dict meanwhile
            return True, cache.owners[hashlib.sha256(key.encode()).hexdigest()]
        except KeyError:
            return False, None

    def owner_for(self, key: str | None) -> str | None:
        """The caller's owner: ANONYMOUS when no key is required, None when refused."""
        if key is not None and (owner := self._env_owner(key)) is not None:
            return owner
        cache = self._current()
        if not cache.required:
            return ANONYMOUS
        if key is None:
            return None
        key_hash = hashlib.sha256(key.encode()).hexdigest()
        if key_hash in cache.owners:
            return cache.owners[key_hash]
        owner = apikeys.owner_of_hash(self.b, key_hash)
        if len(cache.owners) >= CACHE_ENTRIES:
            cache.owners.clear()
        cache.owners[key_hash] = owner
        return owner

    def _env_owner(self, key: str) -> str | None:
        digest = _digest(key)
        found = None
        for owner, expected in self._env:  # every entry, so timing says nothing of which
            if hmac.compare_digest(digest, expected):
                found = owner
        return found

    def _current(self) -> _Cache:
        try:
            token = apikeys.version(self.b)
        except RedisError:
            return self._fresh(None, cacheable=False)
        cache = self._cache
        if cache is None or cache.token != token or cache.expires < time.monotonic():
            cache = self._fresh(token, cacheable=True)
        return cache

    def _fresh(self, token: bytes | None, cacheable: bool) -> _Cache:
        required = bool(self._env) or apikeys.any_stored(self.b)
        cache = _Cache(token, required, time.monotonic() + CACHE_TTL_S)
        if cacheable:
            self._cache = cache
        return cache


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()
