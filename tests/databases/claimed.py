"""A SQLite test file claimed and prepared by the library in this process
(tables, marker, proven to the guard), released by the library at the end
of the test as the exit hook would: for in-process tests of what the
library does with the databases it owns."""

import unittest
from pathlib import Path

import peewee as pw

from proper_unittest import _provision


def claimed_file(test: unittest.TestCase, folder: str, name: str, models: list[type[pw.Model]],
                 **options) -> pw.SqliteDatabase:
    """`models` bound to a new SQLite file `name` in `folder` that the library
    created and prepared; released (the file removed) after the test."""
    db = pw.SqliteDatabase(str(Path(folder, name)), **options)
    test.enterContext(db.bind_ctx(models, bind_refs=False, bind_backrefs=False))
    _provision.prepare_databases([db])
    test.addCleanup(release, db)
    return db


def release(db: pw.Database) -> None:
    """What the exit hook does for `db`, now (and no more at exit)."""
    claim = _provision._claims.pop(id(db), None)
    if claim is not None:
        _provision._release([claim])
