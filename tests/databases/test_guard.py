"""The connection guard: while Proper test classes run, a connection opens only to a database
the run proved to be its test database, whatever object makes it."""
import sqlite3
import tempfile
import unittest
from pathlib import Path

import peewee as pw

from proper_unittest import ProperTestCase, UnsafeDatabaseError
from proper_unittest.databases import guard as _guard

from tests.support.apps.testdb import backend
from tests.support.inner import NotesCase, run_inner, run_suite
from tests.support.planted import Planted, inner_app
from tests.support.runner_projects import ProjectTestCase
from tests.support.inner import write_tree
from tests.support.servers import server_database, worker_suffix


def db_class_source() -> str:
    """The peewee class of TEST_DATABASE_URL's backend, as source."""
    return "pw.SqliteDatabase" if backend() == "sqlite" else f"pw.{type(server_database('x')).__name__}"


def params_of(config: dict) -> dict:
    return {key: value for key, value in config.items() if key != "type"}


class GuardRefusalTests(unittest.TestCase):
    """Each test plants a sentinel table and row, runs tests that reach it
    in a fresh interpreter, and checks the connection was refused (naming
    the database, the model and the test) and the sentinel is intact."""

    def setUp(self):
        self.folder = self.enterContext(tempfile.TemporaryDirectory())

    def name(self, base: str) -> str:
        suffix = worker_suffix()
        return f"{base}{suffix}.sqlite3" if backend() == "sqlite" else f"{base}{suffix}"

    def main_config(self) -> dict:
        return Planted(self, self.name("pu_guard_main_test"), tables=()).config()

    def run_with(self, extra: str, main: dict | None = None):
        done = run_suite(inner_app(main or self.main_config(), extra=extra))
        self.assertNotEqual(done.returncode, 0, done.stderr)
        return done

    def test_a_proxy_initialized_inside_a_test_is_refused_at_connect(self):
        prod = Planted(self, self.name("pu_guard_prod"))
        extra = (
            "late = pw.DatabaseProxy()\n\n"
            "class Note(pw.Model):\n    title = pw.CharField()\n\n"
            "    class Meta:\n        database = late\n        table_name = 'note'\n\n"
            "class LateTests(ProperTestCase):\n    app = app\n\n"
            "    def test_late(self):\n"
            f"        late.initialize({db_class_source()}(**{params_of(prod.config())!r}))\n"
            "        Note.create(id=2, title='written by a test')\n"
        )
        done = self.run_with(extra)
        self.assertIn("UnsafeDatabaseError: Refusing to connect", done.stderr)
        self.assertIn(repr(prod.name), done.stderr)
        self.assertIn("bound to model test_inner_case.Note", done.stderr)
        self.assertIn("during the test test_inner_case.LateTests.test_late", done.stderr)
        prod.assert_untouched()

    def test_a_database_made_inside_a_test_and_bind_ctx_are_refused(self):
        prod = Planted(self, self.name("pu_guard_prod"))
        extra = (
            "class MadeTests(ProperTestCase):\n    app = app\n\n"
            "    def test_made(self):\n"
            f"        other = {db_class_source()}(**{params_of(prod.config())!r})\n"
            "        other.execute_sql(\"DELETE FROM note\")\n\n"
            "    def test_bind_ctx(self):\n"
            f"        other = {db_class_source()}(**{params_of(prod.config())!r})\n"
            "        with Item.bind_ctx(other):\n"
            "            Item.create(title='x')\n"
        )
        done = self.run_with(extra)
        self.assertEqual(done.stderr.count("UnsafeDatabaseError: Refusing to connect"), 2, done.stderr)
        self.assertIn("bound to model test_inner_case.Item", done.stderr)
        prod.assert_untouched()

    def test_a_refused_app_is_not_remembered_and_its_database_stays_untouched(self):
        # App B points at a production database and is refused; app A's
        # tests then reach B's model: A's check covers it, and refuses too.
        prod = Planted(self, self.name("pu_guard_prod"))
        extra = (
            f"app_b = App(__name__, config={{'SECRET_KEYS': ['s' * 64], 'DATABASES': {{'main': {prod.config()!r}}}}})\n\n"
            "class Note(pw.Model):\n    title = pw.CharField()\n\n"
            "    class Meta:\n        database = app_b.db['main']\n        table_name = 'note'\n\n"
            "class ARefusedTests(ProperTestCase):\n    app = app_b\n\n"
            "    def test_b(self):\n        pass\n\n"
            "class BWriterTests(ProperTestCase):\n    app = app\n\n"
            "    def test_writes_into_b(self):\n"
            "        Note.create(id=2, title='written by app A')\n"
        )
        done = self.run_with(extra)
        self.assertEqual(done.stderr.count("UnsafeDatabaseError"), 3, "one per class: " + done.stderr)
        self.assertIn("Refusing to run tests on model test_inner_case.Note", done.stderr)
        self.assertIn("Ran 0 tests", done.stderr)
        prod.assert_untouched()

    def test_a_write_into_another_apps_test_database_is_refused(self):
        other = Planted(self, self.name("pu_guard_other_test"), tables=())
        extra = (
            f"app_b = App(__name__, config={{'SECRET_KEYS': ['s' * 64], 'DATABASES': {{'main': {other.config()!r}}}}})\n\n"
            "class Note(pw.Model):\n    title = pw.CharField()\n\n"
            "    class Meta:\n        database = app_b.db['main']\n        table_name = 'pu_note'\n\n"
            "class AOtherAppTests(ProperTestCase):\n    app = app_b\n\n"
            "    def test_b(self):\n        Note.create(title='rolled back')\n\n"
            "class BWriterTests(ProperTestCase):\n    app = app\n\n"
            "    def test_writes_into_b(self):\n"
            "        Note.create(title='written by app A')\n"
        )
        done = self.run_with(extra)
        self.assertIn("test_b (test_inner_case.AOtherAppTests.test_b) ... ok", done.stderr)
        self.assertIn("not one of this test class's", done.stderr)
        self.assertIn("during the test test_inner_case.BWriterTests.test_writes_into_b", done.stderr)
        self.assertIn("FAILED (errors=1)", done.stderr)

    def test_sqlite_is_asked_which_file_it_opened(self):
        if backend() != "sqlite":
            self.skipTest("SQLite URI filenames")
        prod = Planted(self, "pu_guard_prod.sqlite3")
        # SQLite stops a URI at '#': the name reads as in memory, the file is prod's.
        uri = f"file:{prod.name}#?mode=memory"
        main = {"type": "peewee.SqliteDatabase", "database": uri, "uri": True}
        done = run_suite(inner_app(main))
        self.assertNotEqual(done.returncode, 0, done.stderr)
        self.assertIn("UnsafeDatabaseError", done.stderr)
        # The URI is read as SQLite reads it before connecting (its file's name
        # is refused); the connection check would catch it otherwise.
        self.assertIn("its file name 'pu_guard_prod.sqlite3' does not have 'test'", done.stderr)
        prod.assert_untouched()

    def test_mysql_schema_naming_another_database_is_refused(self):
        if backend() != "mysql":
            self.skipTest("on MySQL/MariaDB a schema is another database")
        prod = Planted(self, self.name("pu_guard_accounts_prod"))
        extra = (
            "class Note(pw.Model):\n    title = pw.CharField()\n\n"
            f"    class Meta:\n        database = db\n        table_name = 'note'\n        schema = {prod.name!r}\n\n"
            "class SchemaTests(ProperTestCase):\n    app = app\n\n"
            "    def test_write(self):\n        Note.create(id=2, title='x')\n"
        )
        done = self.run_with(extra)
        self.assertIn(f"Meta.schema = {prod.name!r}, which on MySQL/MariaDB is another database", done.stderr)
        self.assertNotIn("Traceback", done.stderr)
        prod.assert_untouched()


class GuardStatementTests(unittest.TestCase):
    """The guard covers every statement's connection, not only the ones
    opened while it is armed: a connection opened before (at import), a
    model's schema on MySQL/MariaDB seen only inside a test, a SQLite file
    attached to an allowed connection."""

    setUp = GuardRefusalTests.setUp
    name = GuardRefusalTests.name
    main_config = GuardRefusalTests.main_config

    def test_a_connection_opened_at_import_is_refused_at_its_first_statement(self):
        prod = Planted(self, self.name("pu_guard_prod"))
        # The app's own database, connected at import too, is proven: it works.
        extra = (
            "db.connect()\n"
            f"legacy = {db_class_source()}(**{params_of(prod.config())!r})\n"
            "legacy.connect()\n\n"
            "class ImportTimeTests(ProperTestCase):\n    app = app\n\n"
            "    def test_write(self):\n"
            "        legacy.execute_sql(\"INSERT INTO note (id, title) VALUES (2, 'written by a test')\")\n"
        )
        done = run_suite(inner_app(self.main_config(), extra=extra))
        self.assertNotEqual(done.returncode, 0, done.stderr)
        self.assertIn("test_write (test_inner_case.ItemTests.test_write) ... ok", done.stderr)
        self.assertIn(f"UnsafeDatabaseError: Refusing to use {type(prod.db).__name__} ", done.stderr)
        self.assertIn("its connection was opened before the test class set up", done.stderr)
        self.assertIn("during the test test_inner_case.ImportTimeTests.test_write", done.stderr)
        prod.assert_untouched()

    def test_a_connection_opened_with_the_driver_itself_is_refused(self):
        if backend() == "sqlite":
            self.skipTest("the guard asks server drivers (psycopg2, pymysql) which database they opened")
        prod = Planted(self, self.name("pu_guard_raw_prod"))
        params = params_of(prod.config())
        driver, name_key = ("psycopg2", "dbname") if backend() == "postgresql" else ("pymysql", "database")
        raw = {key: value for key, value in params.items() if key not in ("database", "db", "dbname")}
        raw[name_key] = prod.name
        extra = (
            f"import {driver}\n\n"
            "class RawDriverTests(ProperTestCase):\n    app = app\n\n"
            "    def test_write(self):\n"
            f"        conn = {driver}.connect(**{raw!r})\n"
            "        with conn.cursor() as cursor:\n"
            "            cursor.execute(\"INSERT INTO note (id, title) VALUES (2, 'written by a test')\")\n"
            "        conn.commit()\n\n"
            "    def test_to_the_test_database_is_allowed(self):\n"
            f"        conn = {driver}.connect(**{{**{raw!r}, {name_key!r}: db.database}})\n"
            "        conn.close()\n"
        )
        done = run_suite(inner_app(self.main_config(), extra=extra))
        self.assertNotEqual(done.returncode, 0, done.stderr)  # unittest's own runner: 1
        self.assertIn(f"UnsafeDatabaseError: Refusing a connection opened with {driver}.connect() during the "
                      "test test_inner_case.RawDriverTests.test_write", done.stderr)
        self.assertIn(f"it is on database {prod.name!r}, which is not a test database of this run", done.stderr)
        self.assertIn("test_to_the_test_database_is_allowed (test_inner_case.RawDriverTests."
                      "test_to_the_test_database_is_allowed) ... ok", done.stderr)
        prod.assert_untouched()

    def test_a_mysql_schema_model_imported_inside_a_test_is_refused(self):
        if backend() != "mysql":
            self.skipTest("on MySQL/MariaDB a schema is another database")
        prod = Planted(self, self.name("pu_guard_accounts_prod"))
        lazy = (
            "import peewee as pw\nfrom test_inner_case import db\n\n\n"
            "class Audit(pw.Model):\n    title = pw.CharField()\n\n"
            f"    class Meta:\n        database = db\n        table_name = 'note'\n        schema = {prod.name!r}\n"
        )
        extra = (
            "from proper_unittest import ProperTransactionTestCase\n\n"
            "class LazyTests(ProperTransactionTestCase):\n    app = app\n\n"
            "    def test_create(self):\n"
            "        from lazy_audit import Audit\n"
            "        Audit.create(id=2, title='written by a test')\n\n"
            "    def test_through_an_alias(self):\n"
            "        from lazy_audit import Audit\n"
            "        alias = Audit.alias()\n"
            "        list(alias.select(alias.id))\n"
        )
        done = run_suite({"test_inner_case.py": inner_app(self.main_config(), extra=extra), "lazy_audit.py": lazy})
        self.assertNotEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stderr.count("UnsafeDatabaseError: Refusing to run SQL on model lazy_audit.Audit"),
                         2, done.stderr)
        self.assertIn(f"Meta.schema = {prod.name!r}, which on MySQL/MariaDB is another database", done.stderr)
        prod.assert_untouched()

    def test_sqlite_attaching_a_file_that_is_not_a_test_file_is_refused(self):
        prod = Planted(self, "pu_guard_prod.sqlite3") if backend() == "sqlite" else None
        if prod is None:
            self.skipTest("SQLite ATTACH")
        insert = "INSERT INTO prod.note (id, title) VALUES (2, 'written by a test')"
        extra = (
            f"PROD = {prod.name!r}\n"
            "attached_early = pw.SqliteDatabase(':memory:')\n"
            "attached_early.attach(PROD, 'prod')\n"
            "connected_early = pw.SqliteDatabase(':memory:')\n"
            "connected_early.attach(PROD, 'prod')\n"
            "connected_early.connect()\n\n"
            "class AttachTests(ProperTestCase):\n    app = app\n\n"
            "    def test_attach_inside_the_test(self):\n"
            "        scratch = pw.SqliteDatabase(':memory:')\n"
            "        scratch.attach(PROD, 'prod')\n"
            f"        with scratch:\n            scratch.execute_sql({insert!r})\n\n"
            "    def test_attached_before_connected_inside(self):\n"
            f"        with attached_early:\n            attached_early.execute_sql({insert!r})\n\n"
            "    def test_attached_and_connected_before(self):\n"
            f"        connected_early.execute_sql({insert!r})\n\n"
            "    def test_raw_attach_on_the_apps_database(self):\n"
            "        db.execute_sql(f\"ATTACH DATABASE '{PROD}' AS prod\")\n"
            f"        db.execute_sql({insert!r})\n\n"
            "    def test_raw_attach_of_an_expression(self):\n"
            "        scratch = pw.SqliteDatabase(':memory:')\n"
            "        scratch.execute_sql('ATTACH DATABASE ? AS prod', (PROD,))\n"
            f"        scratch.execute_sql({insert!r})\n"
        )
        done = run_suite(inner_app(self.main_config(), extra=extra))
        self.assertNotEqual(done.returncode, 0, done.stderr)
        self.assertIn(f"UnsafeDatabaseError: Refusing to attach {prod.name!r} as 'prod'", done.stderr)
        self.assertIn("its file name 'pu_guard_prod.sqlite3' does not have 'test'", done.stderr)
        self.assertEqual(done.stderr.count(f"connection has {prod.name!r} (as 'prod') attached"), 2, done.stderr)
        # A raw ATTACH statement: SQLite asks the guard's authorizer, which denies it.
        self.assertEqual(done.stderr.count("peewee.DatabaseError: not authorized"), 2, done.stderr)
        self.assertIn("FAILED (errors=5)", done.stderr)
        prod.assert_untouched()


class UncheckedConnectionInProcessTests(unittest.TestCase):
    """In this process: a connection opened outside every Proper class is
    refused at its first statement inside one, also through a Database
    class defined after the guard was installed, with a cursor of its own."""

    def test_a_subclass_with_its_own_cursor_is_checked_too(self):
        _guard.install()

        class OwnCursorDatabase(pw.SqliteDatabase):
            def cursor(self, commit=None, named_cursor=None):
                if self.is_closed():
                    self.connect()
                return self._state.conn.cursor()

        folder = self.enterContext(tempfile.TemporaryDirectory())
        path = Path(folder, "pu_elsewhere.sqlite3")
        outside = OwnCursorDatabase(str(path))
        outside.execute_sql("CREATE TABLE note (id INTEGER PRIMARY KEY)")  # unguarded: allowed
        self.addCleanup(outside.close)

        class WritesThroughIt(NotesCase):
            def test_write(self):
                outside.execute_sql("INSERT INTO note (id) VALUES (2)")

        result, output = run_inner(WritesThroughIt)
        self.assertEqual(len(result.errors), 1, output)
        self.assertIn("UnsafeDatabaseError: Refusing to use OwnCursorDatabase", result.errors[0][1])
        self.assertIn("its connection was opened before the test class set up", result.errors[0][1])
        self.assertEqual(outside.execute_sql("SELECT count(*) FROM note").fetchone()[0], 0)


class GuardPassingTests(ProperTestCase):
    """What the guard lets through, in a real test class of this suite."""

    app = "tests.support.apps.notes.main:app"

    def test_an_in_memory_database_made_in_a_test_connects(self):
        scratch = pw.SqliteDatabase(":memory:")
        self.assertEqual(scratch.execute_sql("SELECT 1").fetchone()[0], 1)
        scratch.close()

    def test_an_in_memory_database_may_attach_a_test_file(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        scratch = pw.SqliteDatabase(":memory:")
        scratch.attach(str(Path(folder, "pu_other_test.sqlite3")), "other")
        with scratch:
            scratch.execute_sql("CREATE TABLE other.note (id INTEGER PRIMARY KEY)")
            scratch.execute_sql("INSERT INTO other.note (id) VALUES (1)")
            self.assertEqual(scratch.execute_sql("SELECT count(*) FROM other.note").fetchone()[0], 1)
            # On an open connection: peewee runs ATTACH, SQLite's authorizer lets it through.
            scratch.attach(str(Path(folder, "pu_more_test.sqlite3")), "more")
            scratch.execute_sql(f"ATTACH DATABASE '{Path(folder, 'pu_third_test.sqlite3')}' AS third")
            scratch.execute_sql("ATTACH DATABASE ':memory:' AS fourth")
            names = [row[1] for row in scratch.execute_sql("PRAGMA database_list")]
            self.assertEqual(names, ["main", "other", "more", "third", "fourth"])

    def test_another_object_on_the_test_database_connects(self):
        db = next(iter(self._databases.values()))
        if backend() == "sqlite":
            self.skipTest("in-memory: another object is another database")
        twin = server_database(_guard.safety.target_name(db))
        try:
            self.assertEqual(twin.execute_sql("SELECT 1").fetchone()[0], 1)
        finally:
            twin.close()

    def test_a_database_the_run_did_not_prove_is_refused_in_process(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        path = Path(folder, "pu_elsewhere.sqlite3")
        outside = pw.SqliteDatabase(str(path))
        with self.assertRaises(UnsafeDatabaseError) as caught:
            outside.connect()
        self.assertIn(str(path), str(caught.exception))
        self.assertIn(self.id(), str(caught.exception))
        self.assertFalse(path.exists(), "SQLite was never called, so no file was made")


class UnguardedOutsideProperClassesTests(unittest.TestCase):
    """A plain unittest TestCase is not guarded: the guard is armed only
    while a Proper test class (or the exit hook) runs."""

    def test_plain_test_case_connects(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        db = pw.SqliteDatabase(str(Path(folder, "pu_plain.sqlite3")))
        db.connect()
        self.assertFalse(db.is_closed())
        db.close()


class RunnerRefusalTests(ProjectTestCase):
    """Under the runner, a refusal at connect is one message, exit 2, and
    the run stops: no later test, no rerun."""

    def test_a_late_proxy_refused_mid_run_exits_2_and_stops(self):
        prod = self.app_project / "prod.sqlite3"
        connection = sqlite3.connect(prod)
        connection.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT)")
        connection.execute("INSERT INTO audit (note) VALUES ('keep me')")
        connection.commit()
        connection.close()
        write_tree(self.app_project, {"tests/test_late.py": f"""
            import peewee as pw
            from proper_unittest import ProperTestCase
            from tests.helpers import log

            late = pw.DatabaseProxy()


            class Note(pw.Model):
                note = pw.TextField()

                class Meta:
                    database = late
                    table_name = "audit"


            class LateTests(ProperTestCase):
                def test_a_late_proxy(self):
                    late.initialize(pw.SqliteDatabase({str(prod)!r}))
                    Note.create(note="written by a test")

                def test_b_after(self):
                    log("test_b_after")
        """})
        proc = self.run_in_project("tests.test_late")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertEqual(proc.stderr.count("error: Refusing to connect SqliteDatabase"), 1, proc.stderr)
        self.assertIn("during the test tests.test_late.LateTests.test_a_late_proxy", proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        self.assertEqual(self.logged(), [], "the run stopped at the refusal")
        self.assertUntouched(prod)
