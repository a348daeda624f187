"""The runner's check before any test (``provision.preflight``), in this
process, on real Proper apps: every existing database is checked the way a
claim would check it, in the app's order, without writing anything; a
database that does not exist yet is not made; a connection is left as it
was found; on the servers, a database (a worker's own) that another test
run holds is refused, and a worker's database that does not exist yet is
not looked for."""

import os
import sqlite3
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import peewee as pw
from proper import App

from proper_unittest.databases import names, provision as _provision, run_lock
from proper_unittest.errors import UnsafeDatabaseError
from tests.support.apps.testdb import backend, database_config
from tests.support.claimed import claimed, own_name
from tests.support.servers import drop_database, scratch_database, server_database


def make_app(**databases: dict) -> App:
    """A real Proper app (APP_ENV=test) with `databases` as its DATABASES."""
    with mock.patch.dict(os.environ, {"APP_ENV": "test"}):
        return App(__name__, config={"SECRET_KEYS": ["s" * 64], "DATABASES": databases})


def sqlite_config(database: str) -> dict:
    return {"type": "peewee.SqliteDatabase", "database": database}


class PreflightTestCase(unittest.TestCase):
    def setUp(self):
        self.enterContext(mock.patch.dict(os.environ, {"APP_ENV": "test"}))
        for name in _provision.WORKER_ENVS:
            os.environ.pop(name, None)


class SqlitePreflightTests(PreflightTestCase):
    def setUp(self):
        super().setUp()
        self.folder = self.enterContext(tempfile.TemporaryDirectory())

    def found_file(self, name: str) -> str:
        """A file named like a test database that someone else filled."""
        path = str(Path(self.folder, name))
        connection = sqlite3.connect(path)
        connection.execute("CREATE TABLE customer (name)")
        connection.execute("INSERT INTO customer VALUES ('kept')")
        connection.commit()
        connection.close()
        return path

    def rows_of(self, path: str) -> list[tuple]:
        connection = sqlite3.connect(path)
        try:
            return connection.execute("SELECT * FROM sqlite_master").fetchall()
        finally:
            connection.close()

    def test_a_file_holding_someone_elses_tables_is_refused_untouched(self):
        # In-memory first: the check goes on past a database it passes over.
        path = self.found_file("found_test.sqlite3")
        before = self.rows_of(path)
        app = make_app(main=sqlite_config(":memory:"), other=sqlite_config(path))
        with self.assertRaises(UnsafeDatabaseError) as raised:
            _provision.preflight(app)
        self.assertIn("found_test.sqlite3", str(raised.exception))
        self.assertEqual(self.rows_of(path), before)
        self.assertEqual(sorted(os.listdir(self.folder)), ["found_test.sqlite3"])

    def test_a_file_that_does_not_exist_is_not_made(self):
        path = str(Path(self.folder, "later_test.sqlite3"))
        _provision.preflight(make_app(main=sqlite_config(path)))
        self.assertEqual(os.listdir(self.folder), [])

    def test_a_file_whose_folder_does_not_exist_is_refused_before_any_test(self):
        path = str(Path(self.folder, "missing", "later_test.sqlite3"))
        with self.assertRaises(UnsafeDatabaseError) as raised:
            _provision.preflight(make_app(main=sqlite_config(":memory:"), other=sqlite_config(path)))
        self.assertIn(f"its file cannot be created (its folder does not exist: {path})", str(raised.exception))
        self.assertEqual(os.listdir(self.folder), [])

    def test_a_file_whose_folder_is_a_file_is_refused_untouched(self):
        Path(self.folder, "plain").write_text("kept")
        path = str(Path(self.folder, "plain", "later_test.sqlite3"))
        with self.assertRaises(UnsafeDatabaseError) as raised:
            _provision.preflight(make_app(main=sqlite_config(path)))
        self.assertIn("(its folder is not a folder: ", str(raised.exception))
        self.assertEqual(Path(self.folder, "plain").read_text(), "kept")

    @unittest.skipIf(os.geteuid() == 0, "root may write into any folder, so the file could be made")
    def test_a_file_in_a_folder_it_may_not_write_is_refused(self):
        locked = Path(self.folder, "locked")
        locked.mkdir(mode=0o500)
        self.addCleanup(locked.chmod, 0o700)
        with self.assertRaises(UnsafeDatabaseError) as raised:
            _provision.preflight(make_app(main=sqlite_config(str(locked / "later_test.sqlite3"))))
        self.assertIn("(its folder is not writable: ", str(raised.exception))
        self.assertEqual(os.listdir(locked), [])

    def test_a_closed_connection_is_closed_again_and_an_open_one_left_open(self):
        path = str(Path(self.folder, "empty_test.sqlite3"))
        sqlite3.connect(path).close()
        app = make_app(main=sqlite_config(path))
        db = app.db["main"]
        _provision.preflight(app)
        self.assertTrue(db.is_closed())
        db.connect()
        self.addCleanup(db.close)
        connection = db.connection()
        _provision.preflight(app)
        self.assertFalse(db.is_closed())
        self.assertIs(db.connection(), connection)
        self.assertEqual(self.rows_of(path), [])


@unittest.skipIf(backend() == "sqlite", "the run lock of a server database")
class InUsePreflightTests(PreflightTestCase):
    """On TEST_DATABASE_URL's server."""

    def existing(self, name: str) -> pw.Database:
        """An empty database `name` on the server (dropped after the test)."""
        db = scratch_database(name)
        db.close()
        self.addCleanup(drop_database, server_database(name))
        return db

    def held_by_another_run(self, name: str) -> None:
        other_run = _provision.plain_connection(server_database(name))
        other_run.connect()
        self.addCleanup(other_run.close)
        self.assertTrue(run_lock.try_lock(other_run, name))

    def assert_refused_while_held(self, name: str, held: str) -> None:
        """With `held` (made now) held by another run, preflight of an app
        on `name` is refused, naming `held`."""
        self.existing(held)
        self.held_by_another_run(held)
        with self.assertRaises(UnsafeDatabaseError) as raised:
            _provision.preflight(make_app(main=database_config(name)))
        self.assertIn(held, str(raised.exception))

    def test_a_database_another_run_holds_is_refused(self):
        name = own_name("pre_held")
        self.assert_refused_while_held(name, name)

    def test_a_database_no_run_holds_passes_and_stays_free(self):
        name = own_name("pre_free")
        self.existing(name)
        _provision.preflight(make_app(main=database_config(name)))
        probe = _provision.plain_connection(server_database(name))
        probe.connect()
        self.addCleanup(probe.close)
        self.assertTrue(run_lock.try_lock(probe, name), "preflight let go of the lock it tried")

    def test_a_workers_database_another_run_holds_is_refused(self):
        name = own_name("pre_base")
        self.existing(name)
        os.environ["PROPER_UNITTEST_WORKER"] = "1"
        self.assert_refused_while_held(name, f"{name}_w1")

    def test_a_workers_database_that_does_not_exist_yet_passes(self):
        name = own_name("pre_alone")
        self.existing(name)
        os.environ["PROPER_UNITTEST_WORKER"] = "1"
        drop_database(server_database(f"{name}_w1"))
        _provision.preflight(make_app(main=database_config(name)))

    def test_a_database_this_process_claimed_is_not_checked_again(self):
        # Its run lock is this process's: checked again, it would look held.
        name = own_name("pre_claimed")
        self.addCleanup(drop_database, server_database(name))
        app = make_app(main=database_config(name))
        claimed(self, app.db["main"], [])
        _provision.preflight(app)

    def long_name(self, purpose: str) -> str:
        """A name the server keeps whole, too long for a worker's suffix."""
        name = own_name(purpose)
        room = 62 - len(name)
        self.assertGreaterEqual(room, 0, "the checkout's name is too long for this test")
        return name.replace(purpose, purpose + "x" * room, 1)

    def test_a_long_named_workers_database_is_found_by_the_name_it_gets(self):
        # The worker's name is cut short and hashed (names.derived_name):
        # not the base and its suffix, and here it sorts before the base.
        name = self.long_name("pre_long")
        self.existing(name)
        os.environ["PROPER_UNITTEST_WORKER"] = "1"
        worker_name = names.derived_name(name, "w1", "postgres" if backend() == "postgresql" else "mysql")
        self.assertLess(worker_name, name)
        drop_database(server_database(worker_name))
        _provision.preflight(make_app(main=database_config(name)))
        self.assert_refused_while_held(name, worker_name)
