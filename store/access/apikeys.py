"""API keys stored in the database: created, listed and revoked by an operator.

Only a hash of each key is stored; the key itself is shown once, when it is created.
SHA-256 is enough here because the keys are 256-bit random values, not passwords: no
one can search that space from a leaked hash, so a deliberately slow hash (bcrypt,
argon2) would only add cost to every request without adding safety.

Every create and revoke replaces a random token in Redis (`Keys.api_keys_version`): web
processes keep a cache of verified keys only while that token is unchanged, so a revoked
key stops working with the very next request.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

from sqlalchemy import Column
from sqlmodel import Field, Session, SQLModel, col, select

from store.backends import Backends
from store.models import UTCDateTime, utcnow
from store.settings_values import is_valid_owner

KEY_PREFIX = "jck_"  # lets secret scanners and people recognise a jobcast key
HINT_LENGTH = len(KEY_PREFIX) + 4


class ApiKey(SQLModel, table=True):
    __tablename__ = "api_key"

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:16], primary_key=True)
    owner: str = Field(max_length=200, index=True)
    key_hash: str = Field(max_length=64, unique=True, index=True)
    # The key's first characters, so that `list` can show which key is which.
    hint: str = Field(max_length=16)
    created_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False)
    )
    revoked_at: datetime | None = Field(
        default=None, sa_column=Column(UTCDateTime(), nullable=True)
    )


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def create(b: Backends, owner: str) -> tuple[ApiKey, str]:
    """A new active key for `owner`: the row, and the key itself (never stored)."""
    if not is_valid_owner(owner):
        raise ValueError("owner must be 1-200 characters of A-Z a-z 0-9 . _ @ -")
    key = generate_key()
    row = ApiKey(owner=owner, key_hash=hash_key(key), hint=key[:HINT_LENGTH])
    with Session(b.engine, expire_on_commit=False) as session, session.begin():
        session.add(row)
    announce_change(b)
    return row, key


def revoke(b: Backends, key_id: str) -> ApiKey | None:
    """Revoke the key (a no-op if it already is); None when there is no such key."""
    with Session(b.engine, expire_on_commit=False) as session, session.begin():
        row = session.get(ApiKey, key_id, with_for_update=True)
        if row is None:
            return None
        if row.revoked_at is None:
            row.revoked_at = utcnow()
            session.add(row)
    # After the commit: a web process that sees the new token and reads again must
    # find the key revoked.
    announce_change(b)
    return row


def list_keys(b: Backends, owner: str | None = None) -> list[ApiKey]:
    query = select(ApiKey).order_by(col(ApiKey.created_at))
    if owner is not None:
        query = query.where(ApiKey.owner == owner)
    with Session(b.reader, expire_on_commit=False) as session:
        return list(session.exec(query))


def owner_of_hash(b: Backends, key_hash: str) -> str | None:
    """The owner of the active key with this hash, if there is one."""
    query = select(ApiKey).where(ApiKey.key_hash == key_hash, col(ApiKey.revoked_at).is_(None))
    with Session(b.reader) as session:
        row = session.exec(query).first()
    # The index found the row by its hash; compare once more in constant time anyway.
    if row is None or not secrets.compare_digest(row.key_hash, key_hash):
        return None
    return row.owner


def any_stored(b: Backends) -> bool:
    """Has a key ever been stored? Revoked ones count: revoking the last key of a
    deployment must lock it, never open it to anyone."""
    with Session(b.reader) as session:
        return session.exec(select(ApiKey.id).limit(1)).first() is not None


def version(b: Backends) -> bytes | None:
    """The current change token (None until the first change, or after Redis lost it)."""
    raw = b.redis.get(b.keys.api_keys_version)
    return raw if isinstance(raw, bytes) else None


def announce_change(b: Backends) -> None:
    b.redis.set(b.keys.api_keys_version, uuid.uuid4().hex)
