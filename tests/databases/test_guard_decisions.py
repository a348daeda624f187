"""The connection guard's decisions, in this process, on real SQLite files
and TEST_DATABASE_URL's server: what may connect while a guarded scope is
open (proven databases, in the innermost scope's limit; in-memory ones; the
library's own provisioning), what is refused before the driver is called
(the file is never made), and what the refusal says."""

import gc
import os
import tempfile
import threading
import unittest

import peewee as pw

from proper_unittest.databases import guard as _guard
from proper_unittest.errors import UnsafeDatabaseError
from tests.support.apps.testdb import backend
from tests.support.claimed import own_name
from tests.support.servers import drop_database, scratch_database, server_database


class GuardTestCase(unittest.TestCase):
    def setUp(self):
        self.folder = self.enterContext(tempfile.TemporaryDirectory())

    def file_db(self, name: str, folder: str | None = None) -> pw.SqliteDatabase:
        """A closed SQLite database on `name` in this test's folder (closed at the end)."""
        db = pw.SqliteDatabase(os.path.join(folder or self.folder, name))
        self.addCleanup(db.close)
        return db

    def assert_refused(self, db: pw.Database, *parts: str) -> str:
        """`db.connect()` is refused, no file made; the message holds `parts`."""
        with self.assertRaises(UnsafeDatabaseError) as raised:
            db.connect()
        self.assertTrue(db.is_closed())
        if isinstance(db, pw.SqliteDatabase):
            self.assertFalse(os.path.exists(db.database), "the driver was never called")
        message = str(raised.exception)
        for part in parts:
            self.assertIn(part, message)
        return message

    def assert_connects(self, db: pw.Database) -> None:
        self.assertTrue(db.connect())
        self.assertEqual(db.execute_sql("SELECT 1").fetchone()[0], 1)
        db.close()


class Planted(pw.Model):
    """A model bound (per test) to the database being refused."""

    class Meta:
        table_name = "pu_guard_planted"


class ArmedTests(GuardTestCase):
    def test_an_unproven_file_is_refused_naming_it_the_model_and_what_runs(self):
        prod = self.file_db("prod.sqlite3")
        with Planted.bind_ctx(prod, bind_refs=False, bind_backrefs=False):
            with _guard.guarding("the test ArmedTests.example"):
                message = self.assert_refused(prod, repr(prod.database), "Refusing to connect SqliteDatabase",
                                              f"(bound to model {__name__}.Planted)",
                                              "during the test ArmedTests.example",
                                              "this run has not checked that it is a test database")
        self.assertNotIn("not one of this test class's", message)

    def test_at_most_three_models_are_named(self):
        prod = self.file_db("prod.sqlite3")
        models = [type(f"Bound{i}", (pw.Model,), {"__module__": __name__, "Meta": type("Meta", (), {"database": prod})})
                  for i in range(4)]
        self.addCleanup(gc.collect)  # no other test may find them among peewee's models
        self.addCleanup(models.clear)
        with _guard.guarding("a class"):
            message = self.assert_refused(prod)
        named = message.split("(bound to model ")[1].split(")")[0].split(", ")
        self.assertEqual(len(named), 3, message)
        self.assertTrue(set(named) <= {f"{__name__}.Bound{i}" for i in range(4)}, message)

    def test_a_uri_is_named_by_the_file_it_opens(self):
        path = os.path.join(self.folder, "prod.sqlite3")
        uri = pw.SqliteDatabase(f"file:{path}?mode=rwc", uri=True)
        with _guard.guarding("a class"):
            with self.assertRaises(UnsafeDatabaseError) as raised:
                uri.connect()
        self.assertIn(f"Refusing to connect SqliteDatabase {path!r} during", str(raised.exception))
        self.assertFalse(os.path.exists(path))

    def test_a_test_named_within_the_scope_is_named(self):
        prod = self.file_db("prod.sqlite3")
        with _guard.guarding("the set-up of a class"):
            with _guard.running("the test T.test_x"):
                self.assert_refused(prod, "during the test T.test_x")
            message = self.assert_refused(prod, "during the set-up of a class")
        self.assertNotIn("bound to model", message)

    def test_unarmed_outside_the_scope_and_after_it(self):
        self.assert_connects(self.file_db("before.sqlite3"))
        with _guard.guarding("a class"):
            with _guard.guarding("an inner class"):
                pass
            self.assert_refused(self.file_db("between.sqlite3"))
        self.assert_connects(self.file_db("after.sqlite3"))

    def test_a_proven_file_connects_through_another_object_and_path(self):
        db = self.file_db("notes_test.sqlite3")
        db.connect()
        db.close()
        _guard.prove(db)
        link = os.path.join(self.folder, "link")
        os.symlink(self.folder, link)
        with _guard.guarding("a class"):
            self.assert_connects(db)
            self.assert_connects(self.file_db("notes_test.sqlite3", folder=link))
            self.assert_refused(self.file_db("other_test.sqlite3"))

    def test_in_memory_databases_always_connect(self):
        with _guard.guarding("a class"):
            self.assert_connects(pw.SqliteDatabase(":memory:"))
            self.assert_connects(pw.SqliteDatabase("file:x?mode=memory", uri=True))
            _guard.prove(pw.SqliteDatabase(":memory:"))  # nothing to prove: no error either

    def test_an_open_or_uninitialized_database_is_left_to_peewee(self):
        db = self.file_db("opened.sqlite3")
        db.connect()
        with _guard.guarding("a class"):
            self.assertFalse(db.connect(reuse_if_open=True))  # already open: nothing new to check
            with self.assertRaisesRegex(pw.OperationalError, "Connection already opened"):
                db.connect()
            with self.assertRaises(pw.InterfaceError):
                pw.SqliteDatabase(None).connect()


class LimitTests(GuardTestCase):
    def setUp(self):
        super().setUp()
        self.mine, self.other = self.file_db("mine_test.sqlite3"), self.file_db("other_test.sqlite3")
        for db in (self.mine, self.other):
            db.connect()
            db.close()
            _guard.prove(db)

    def test_a_class_may_connect_to_its_own_databases_only(self):
        with _guard.guarding("a class"):
            _guard.limit_to([self.mine])
            self.assert_connects(self.mine)
            message = self.assert_refused_existing(self.other)
            self.assertIn("it is a test database of this run, but not one of this test class's", message)
            self.assertNotIn("has not checked", message)

    def test_the_limit_ends_with_the_inner_scope(self):
        with _guard.guarding("a class"):
            with _guard.guarding("an inner class"):
                _guard.limit_to([self.mine])
                self.assert_refused_existing(self.other)
            self.assert_connects(self.other)

    def test_idle_connections_to_other_databases_are_closed_open_transactions_kept(self):
        third = self.file_db("third_test.sqlite3")
        _guard.prove(third)
        with _guard.guarding("a class"):
            self.mine.connect()
            self.other.connect()
            third.connect()
            with third.atomic():
                _guard.limit_to([self.mine])
                self.assertFalse(self.mine.is_closed())
                self.assertTrue(self.other.is_closed())
                self.assertFalse(third.is_closed(), "an enclosing class's transaction stays open")
            third.close()
            self.mine.close()

    def assert_refused_existing(self, db: pw.SqliteDatabase) -> str:
        with self.assertRaises(UnsafeDatabaseError) as raised:
            db.connect()
        self.assertTrue(db.is_closed())
        return str(raised.exception)


class ProvisioningTests(GuardTestCase):
    def test_the_librarys_own_connections_pass_on_its_thread_only(self):
        with _guard.guarding("a class"):
            with _guard.provisioning():
                with _guard.provisioning():
                    self.assert_connects(self.file_db("maintenance1.sqlite3"))
                self.assert_connects(self.file_db("maintenance2.sqlite3"))
                refused = []

                def elsewhere():
                    try:
                        self.file_db("thread.sqlite3").connect()
                    except UnsafeDatabaseError as error:
                        refused.append(error)

                thread = threading.Thread(target=elsewhere)
                thread.start()
                thread.join()
                self.assertEqual(len(refused), 1, "another thread is not provisioning")
            self.assert_refused(self.file_db("maintenance3.sqlite3"))


class OpenedTests(GuardTestCase):
    def test_sqlite_says_which_file_it_opened(self):
        db = self.file_db("asked_test.sqlite3")
        db.connect()
        self.assertEqual(_guard.opened_database(db), os.path.realpath(db.database))
        memory = pw.SqliteDatabase(":memory:")
        memory.connect()
        self.assertEqual(_guard.opened_database(memory), "")
        memory.close()

    def test_physical_keys(self):
        db = self.file_db("key_test.sqlite3")
        self.assertEqual(_guard.physical_key(db), ("sqlite", os.path.realpath(db.database)))
        server = pw.PostgresqlDatabase("shop_test", host="127.0.0.1", port=5433, dbname="real_test")
        self.assertEqual(_guard.physical_key(server), ("postgres", "127.0.0.1", 5433, "real_test"))


def params_of(db: pw.Database, **changes) -> dict:
    """`db`'s connection parameters without its name, with `changes`."""
    params = {k: v for k, v in db.connect_params.items() if k not in ("database", "db", "dbname")}
    return {**params, **changes}


class OpenConnectionsTests(GuardTestCase):
    """What the runner asks before it forks its workers."""

    def test_a_database_connected_now_is_named_and_a_closed_one_not(self):
        _guard.install()
        db = self.file_db("open_test.sqlite3")
        other = self.file_db("closed_test.sqlite3")
        other.connect()
        other.close()
        db.connect()
        self.assertIn(f"SqliteDatabase {db.database!r}", _guard.open_connections())
        self.assertNotIn(f"SqliteDatabase {other.database!r}", _guard.open_connections())
        db.close()
        self.assertNotIn(f"SqliteDatabase {db.database!r}", _guard.open_connections())


class ServerTests(GuardTestCase):
    """On TEST_DATABASE_URL's server: proven on one server is not proven on
    another with the same name, and the server is asked what it opened."""

    def setUp(self):
        super().setUp()
        if backend() == "sqlite":
            self.skipTest("TEST_DATABASE_URL is SQLite")
        self.name = own_name("guard")
        self.addCleanup(drop_database, scratch_database(self.name))

    def server(self, name: str, **changes) -> pw.Database:
        base = server_database(name)
        db = type(base)(name, **params_of(base, **changes))
        self.addCleanup(db.close)
        return db

    def test_matched_by_server_port_and_name(self):
        _guard.prove(self.server(self.name))
        port = server_database(self.name).connect_params["port"]
        with _guard.guarding("a class"):
            self.assert_connects(self.server(self.name))
            self.assert_refused(self.server(self.name, port=port + 1), repr(self.name))
            maintenance = "postgres" if backend() == "postgresql" else "mysql"
            self.assert_refused(self.server(maintenance), repr(maintenance), "has not checked")

    def test_the_server_is_asked_what_it_opened(self):
        db = self.server(self.name)
        db.connect()
        self.assertEqual(_guard.opened_database(db), self.name)


class MysqlOpenedTests(GuardTestCase):
    """After connecting, the server is asked which database it is on: an
    option that switches database (MySQL's init_command) is refused, and
    the connection closed."""

    def setUp(self):
        super().setUp()
        if backend() != "mysql":
            self.skipTest("init_command is MySQL's")
        # Checked, and two it may land on instead: one sorting before, one after.
        self.names = [own_name(f"guard_{letter}") for letter in "maz"]
        for name in self.names:
            self.addCleanup(drop_database, scratch_database(name))

    def test_a_connection_that_landed_elsewhere_is_refused_and_closed(self):
        for landed in self.names[1:]:
            with self.subTest(landed=landed):
                self.refused_when_landing_on(self.names[0], landed)

    def refused_when_landing_on(self, checked: str, landed: str) -> None:
        base = server_database(checked)
        switching = type(base)(checked, **params_of(base, init_command=f"USE `{landed}`"))
        self.addCleanup(switching.close)
        _guard.prove(switching)
        with _guard.guarding("a class"):
            with self.assertRaises(UnsafeDatabaseError) as raised:
                switching.connect()
            self.assertTrue(switching.is_closed(), "the connection was closed")
            plain = server_database(checked)
            self.addCleanup(plain.close)
            self.assert_connects(plain)
        self.assertIn(f"it was checked as {checked!r}, but the connection opened {landed!r}",
                      str(raised.exception))
        self.assertIn("Nothing was written", str(raised.exception))


class MessageTests(unittest.TestCase):
    def test_what_was_checked_and_opened_is_shown(self):
        self.assertEqual(_guard._show(""), "an in-memory database")
        self.assertEqual(_guard._show("/srv/a_test.sqlite3"), "'/srv/a_test.sqlite3'")
