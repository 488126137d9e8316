"""Alembic environment: the URL comes from the caller (store.migrate), never from a file."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from store import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from store.db import make_engine

config = context.config
url = config.get_main_option("sqlalchemy.url")
assert url, "store.migrate passes sqlalchemy.url"

engine = make_engine(url)
with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
