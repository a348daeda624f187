"""Test databases claimed and prepared by the library in this process
(created, tables and marker, proven to the guard) and released at the end
of the test as the exit hook would: for in-process tests of what the
library does with the databases it owns. A SQLite file, or a database of
TEST_DATABASE_URL's server named for this checkout and worker."""

import os
import unittest
from pathlib import Path

import peewee as pw

from proper_unittest.databases import provision as _provision
from tests.support.apps.testdb import backend
from tests.support.servers import server_database, worker_suffix


def own_name(purpose: str) -> str:
    """A server database name no other checkout or worker uses at the same
    time: `purpose`, this checkout's folder name and the worker."""
    checkout = "".join(c if c.isalnum() else "_" for c in Path(__file__).resolve().parents[2].name)
    return f"pu_{purpose}_{checkout}{worker_suffix()}_test"


def claimed_file(test: unittest.TestCase, folder: str, name: str, models: list[type[pw.Model]],
                 **options) -> pw.SqliteDatabase:
    """`models` bound to a new SQLite file `name` in `folder` that the library
    created and prepared; released (the file removed) after the test."""
    db = pw.SqliteDatabase(os.path.join(folder, name) if folder else name, **options)
    return claimed(test, db, models)


def claimed_server_database(test: unittest.TestCase, purpose: str, models: list[type[pw.Model]]) -> pw.Database:
    """`models` bound to a database of TEST_DATABASE_URL's server, created
    by the library; dropped after the test. Skips the test on SQLite."""
    if backend() == "sqlite":
        test.skipTest("TEST_DATABASE_URL is SQLite")
    return claimed(test, server_database(own_name(purpose)), models)


def claimed(test: unittest.TestCase, db: pw.Database, models: list[type[pw.Model]]) -> pw.Database:
    """`models` bound to `db` (a database the test made or found), claimed
    and prepared by the library; released after the test."""
    test.enterContext(db.bind_ctx(models, bind_refs=False, bind_backrefs=False))
    test.addCleanup(release, db)
    _provision.prepare_databases([db])
    return db


def release(db: pw.Database) -> None:
    """What the exit hook does for `db`, now (and no more at exit)."""
    claim = _provision._claims.pop(id(db), None) or _provision._in_progress.pop(id(db), None)
    if claim is not None:
        _provision._release([claim])
