"""Test databases claimed and prepared by the library in this process
(created, tables and marker, proven to the guard) and released at the end
of the test as the exit hook would: for in-process tests of what the
library does with the databases it owns. On SQLite a file; on the
servers of COMMON's URLs a database of this branch's own name."""

import unittest
from pathlib import Path

import peewee as pw

from proper_unittest import _provision

SERVERS = {
    "postgres": (pw.PostgresqlDatabase, {"host": "127.0.0.1", "port": 5432, "user": "postgres"}),
    "mysql": (pw.MySQLDatabase, {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}),
}


def claimed_file(test: unittest.TestCase, folder: str, name: str, models: list[type[pw.Model]],
                 **options) -> pw.SqliteDatabase:
    """`models` bound to a new SQLite file `name` in `folder` that the library
    created and prepared; released (the file removed) after the test."""
    db = pw.SqliteDatabase(str(Path(folder, name)), **options)
    return _claim(test, db, models)


def claimed_server_database(test: unittest.TestCase, backend: str, name: str,
                            models: list[type[pw.Model]]) -> pw.Database:
    """`models` bound to database `name` on the `backend` server, created by
    the library; dropped after the test. Skips the test without the server."""
    cls, params = SERVERS[backend]
    probe = cls("postgres" if backend == "postgres" else "mysql", **params)
    try:
        probe.connect()
    except pw.OperationalError:
        test.skipTest(f"no {backend} server")
    probe.close()
    return _claim(test, cls(name, **params), models)


def _claim(test: unittest.TestCase, db: pw.Database, models: list[type[pw.Model]]) -> pw.Database:
    test.enterContext(db.bind_ctx(models, bind_refs=False, bind_backrefs=False))
    test.addCleanup(release, db)
    _provision.prepare_databases([db])
    return db


def release(db: pw.Database) -> None:
    """What the exit hook does for `db`, now (and no more at exit)."""
    claim = _provision._claims.pop(id(db), None) or _provision._in_progress.pop(id(db), None)
    if claim is not None:
        _provision._release([claim])
