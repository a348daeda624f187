"""The safety checks refuse to run, and touch nothing, outside a test setup."""
import tempfile
import unittest

from tests.apps.testdb import backend
from tests.inner import run_in_subprocess
from tests.servers import drop_database, scratch_database, worker_suffix

INNER_TEST = '''
from proper_unittest import ProperTestCase

class NotesTests(ProperTestCase):
    app = "tests.apps.notes.main:app"

    def test_anything(self):
        pass
'''


class RefusalTests(unittest.TestCase):
    """Each test plants a 'note' table with a row in a database, runs a
    ProperTestCase against it in a fresh interpreter, and checks that the
    run was refused and the table and row are still there, alone."""

    def setUp(self):
        self.folder = self.enterContext(tempfile.TemporaryDirectory())

    def plant(self, name):
        db = scratch_database(name + worker_suffix(), self.folder)
        self.addCleanup(drop_database, db)
        db.connect()
        db.execute_sql("CREATE TABLE note (id INTEGER PRIMARY KEY, title VARCHAR(50))")
        db.execute_sql("INSERT INTO note (id, title) VALUES (1, 'production data')")
        db.close()
        return db

    def assertUntouched(self, db):
        db.connect()
        try:
            rows = [tuple(row) for row in db.execute_sql("SELECT id, title FROM note").fetchall()]
            self.assertEqual(rows, [(1, "production data")])
            self.assertEqual(sorted(db.get_tables()), ["note"], "no table may be created or dropped")
        finally:
            db.close()

    def test_database_without_test_in_its_name_is_refused(self):
        db = self.plant("pu_production")
        done = run_in_subprocess(INNER_TEST, env={"NOTES_DB_NAME": db.database})
        self.assertNotEqual(done.returncode, 0, done.stderr)
        self.assertIn("Refusing to run tests on database 'main'", done.stderr)
        self.assertIn(repr(db.database), done.stderr)
        self.assertIn("Point DATABASES['main'] at a test database", done.stderr)
        self.assertUntouched(db)

    def test_app_env_other_than_test_is_refused(self):
        db = self.plant("pu_guard_test")
        done = run_in_subprocess(INNER_TEST, env={"NOTES_DB_NAME": db.database, "APP_ENV": "production"})
        self.assertNotEqual(done.returncode, 0, done.stderr)
        self.assertIn("APP_ENV is 'production'", done.stderr)
        self.assertIn("No database was touched", done.stderr)
        self.assertUntouched(db)

    def test_a_test_database_is_prepared_and_left_empty(self):
        # The same planted table in a database that is allowed: the run
        # replaces it with the app's schema and drops that schema at exit.
        db = self.plant("pu_allowed_test")
        done = run_in_subprocess(INNER_TEST, env={"NOTES_DB_NAME": db.database})
        self.assertEqual(done.returncode, 0, done.stderr)
        db.connect()
        self.addCleanup(db.close)
        if backend() != "sqlite":  # the SQLite file is removed altogether
            self.assertEqual(db.get_tables(), [])


class TestDatabaseNameTests(unittest.TestCase):
    """is_test_database: what counts as a test database."""

    def test_names(self):
        import peewee as pw

        from proper_unittest.safety import is_test_database

        cases = {
            pw.SqliteDatabase(":memory:"): True,
            pw.SqliteDatabase("file:cache?mode=memory&cache=shared"): True,
            pw.SqliteDatabase("/srv/app/myapp_test.sqlite3"): True,
            pw.SqliteDatabase("/srv/tests/production.sqlite3"): False,
            pw.PostgresqlDatabase("myapp_test"): True,
            pw.PostgresqlDatabase("TEST_shop"): True,
            pw.PostgresqlDatabase("myapp"): False,
            pw.MySQLDatabase("prod"): False,
        }
        for db, expected in cases.items():
            with self.subTest(database=db.database):
                self.assertIs(is_test_database(db), expected)
