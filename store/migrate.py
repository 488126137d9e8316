"""`python -m store.migrate`: bring the database at DATABASE_URL to the latest schema."""

from __future__ import annotations

import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.exc import OperationalError

from store.settings import settings_or_exit
from store.settings_values import redact_url

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # Alembic's ini interpolation treats % specially (URL-encoded passwords).
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


def main() -> None:
    settings = settings_or_exit()
    where = redact_url(settings.database_url)
    try:
        upgrade(settings.database_url)
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        print(f"jobcast: cannot migrate {where}: {reason}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"jobcast: database at {where} is up to date")


if __name__ == "__main__":
    main()
