"""Refuses to run against anything but a test environment and test databases.

These checks run before any connection, DDL or query: when one fails,
nothing has been touched.
"""
import os
from pathlib import PurePath

import peewee as pw

from .errors import UnsafeDatabaseError


def check_test_environment(app) -> None:
    """Fail unless both the process and the app were set up with APP_ENV=test."""
    env_var = os.environ.get("APP_ENV")
    if env_var == "test" and app.env == "test":
        return
    raise UnsafeDatabaseError(
        f"Refusing to run tests: APP_ENV is {env_var!r} and the app was configured "
        f"with APP_ENV={app.env!r}; both must be 'test'. Set APP_ENV=test before "
        "the app is imported (`python runtests.py` does it; with unittest or pytest, "
        "`export APP_ENV=test` or set it in tests/__init__.py). No database was touched."
    )


def check_test_databases(databases: dict[str, pw.Database]) -> None:
    """Fail unless every database is in-memory or has "test" in its name."""
    for name, db in databases.items():
        if not is_test_database(db):
            raise UnsafeDatabaseError(
                f"Refusing to run tests on database {name!r} = {db.database!r} "
                f"({type(db).__name__}): its name does not contain 'test' and it is "
                f"not in-memory. Point DATABASES[{name!r}] at a test database when "
                "APP_ENV=test (for example 'myapp_test', or ':memory:' for SQLite). "
                "No database was touched."
            )


def is_test_database(db: pw.Database) -> bool:
    """True for in-memory SQLite and for databases whose name contains "test"."""
    name = str(db.database or "")
    if name == ":memory:" or "mode=memory" in name:
        return True
    if isinstance(db, pw.SqliteDatabase):
        # Only the file name counts: a production file inside a "tests"
        # folder is still a production file.
        name = PurePath(name.removeprefix("file:").split("?")[0]).name
    return "test" in name.lower()
