"""Direct access to the database servers, to set up and inspect databases
around a test without going through the library."""
import os
from pathlib import Path

import peewee as pw

from proper_unittest.databases.guard import provisioning
from proper_unittest.databases.names import quote_identifier
from tests.support.apps.testdb import backend, database_config


def worker_suffix() -> str:
    """Keeps names apart when suites run in parallel workers."""
    worker = os.environ.get("PROPER_UNITTEST_WORKER")
    return f"_w{worker}" if worker else ""


def server_database(name: str) -> pw.Database:
    """A (closed) handle on database `name` of TEST_DATABASE_URL's server."""
    config = dict(database_config(name))
    cls = pw.PostgresqlDatabase if "Postgres" in config.pop("type") else pw.MySQLDatabase
    return cls(**config)


def scratch_database(name: str, folder: str = "") -> pw.Database:
    """A handle on an empty database `name` on TEST_DATABASE_URL's server
    (a file in `folder` for SQLite), dropped and created anew."""
    if backend() == "sqlite":
        return pw.SqliteDatabase(str(Path(folder, f"{name}.sqlite3")))
    server = _server()
    try:
        quoted = quote_identifier(server, name)
        server.execute_sql(f"DROP DATABASE IF EXISTS {quoted}")
        server.execute_sql(f"CREATE DATABASE {quoted}")
    finally:
        server.close()
    return server_database(name)


def database_exists(name: str) -> bool:
    """Whether the server has a database called `name`."""
    db = _server()
    try:
        if isinstance(db, pw.PostgresqlDatabase):
            sql = "SELECT 1 FROM pg_database WHERE datname = %s"
        else:
            sql = "SELECT 1 FROM information_schema.schemata WHERE schema_name = %s"
        return db.execute_sql(sql, (name,)).fetchone() is not None
    finally:
        db.close()


def drop_database(db: pw.Database) -> None:
    """Remove a scratch database (or SQLite file)."""
    if not db.is_closed():
        db.close()
    if isinstance(db, pw.SqliteDatabase):
        Path(db.database).unlink(missing_ok=True)
        return
    server = _server()
    try:
        server.execute_sql(f"DROP DATABASE IF EXISTS {quote_identifier(server, db.database)}")
    finally:
        server.close()


def _server() -> pw.Database:
    """An open connection to the server's maintenance database (allowed by
    the library's connection guard, as its own provisioning is, so tests
    can inspect the server from inside a ProperTestCase)."""
    db = server_database("postgres" if backend() == "postgresql" else "mysql")
    with provisioning():
        db.connect()
    return db
