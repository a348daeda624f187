"""Database config for the fixture apps, from TEST_DATABASE_URL's backend."""
import os

from playhouse.db_url import parse


CLASSES = {
    "sqlite": "playhouse.sqlite_ext.SqliteExtDatabase",
    "postgresql": "peewee.PostgresqlDatabase",
    "postgres": "peewee.PostgresqlDatabase",
    "mysql": "peewee.MySQLDatabase",
}


def backend() -> str:
    """"sqlite", "postgresql" or "mysql", from TEST_DATABASE_URL."""
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite:///:memory:"
    scheme = url.split(":", 1)[0]
    return "postgresql" if scheme == "postgres" else scheme


def database_config(name: str, **extra) -> dict:
    """A DATABASES entry on TEST_DATABASE_URL's server, for database `name`.
    For SQLite it is in-memory, unless `name` is a ``.sqlite3`` file path."""
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite:///:memory:"
    params = parse(url)
    scheme = url.split(":", 1)[0]
    if scheme == "sqlite":
        params["database"] = name if name.endswith(".sqlite3") else ":memory:"
    else:
        params["database"] = name
    params = {key: value for key, value in params.items() if value not in (None, "")}
    if scheme == "mysql":
        params.setdefault("password", "")
    return {"type": CLASSES[scheme], **params, **extra}
