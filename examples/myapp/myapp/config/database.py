"""Database settings.

In the test environment the main database comes from `TEST_DATABASE_URL`
(`sqlite:///:memory:`, `postgresql://...` or `mysql://...`) and defaults to
an in-memory SQLite database.
"""
import os
from pathlib import Path

from playhouse.db_url import parse


env = os.getenv("APP_ENV", "dev")

DB_TYPES = {
    "sqlite": "playhouse.sqlite_ext.SqliteExtDatabase",
    "postgresql": "peewee.PostgresqlDatabase",
    "postgres": "peewee.PostgresqlDatabase",
    "mysql": "peewee.MySQLDatabase",
}


def database_from_url(url: str) -> dict:
    """Turn a database URL into a `DATABASES` entry (`type`, `database`,
    and `host`/`port`/`user`/`password` when the URL has them)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in DB_TYPES:
        raise ValueError(f"Unsupported database URL scheme: {scheme!r}")
    config = {"type": DB_TYPES[scheme]}
    parsed = parse(url)
    config["database"] = parsed.pop("database", "") or ":memory:"
    for key in ("host", "port", "user", "password"):
        if parsed.get(key) is not None:
            config[key] = parsed[key]
    return config


DATABASES = {
    "main": {
        "type": "playhouse.sqlite_ext.SqliteExtDatabase",
        "database": str(Path(__file__).resolve().parent.parent.parent / "myapp_dev.sqlite3"),
        "pragmas": {"foreign_keys": 1, "journal_mode": "wal"},
    },
}

if env == "test":
    DATABASES = {
        "main": database_from_url(os.getenv("TEST_DATABASE_URL") or "sqlite:///:memory:"),
    }
elif os.getenv("DATABASE_URL"):
    DATABASES = {"main": database_from_url(os.environ["DATABASE_URL"])}
