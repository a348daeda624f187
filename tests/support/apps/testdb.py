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


def app_config(name: str, **database_options) -> dict:
    """The config every fixture app shares: a secret key, its database (named
    by the ``<NAME>_DB_NAME`` environment variable, else ``<name>_test``) and
    the in-memory mailer, sending from ``<name>@example.com``."""
    database = os.environ.get(f"{name.upper()}_DB_NAME", f"{name}_test")
    return {
        "SECRET_KEYS": [f"{name}-" + "x" * 60],
        "DATABASES": {"main": database_config(database, **database_options)},
        "MAILER": "memory",
        "MAILERS": {"memory": {"type": "proper.emails.ToMemoryMailer"}},
        "MAILER_DEFAULT_OPTIONS": {"from": f"{name}@example.com"},
    }
