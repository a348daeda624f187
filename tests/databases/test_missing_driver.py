"""A database driver that is not installed: peewee says so only when a
database connects, with a bare ``ImproperlyConfigured`` from deep inside a
connect. The connection guard turns it into ``MissingDriverError``, naming
the driver and the command that installs it, before anything is touched:
the runner exits 2 with one error line, and under ``python -m unittest``
the test class fails with the same message.

The driver is made missing for real: a folder first on the child's
PYTHONPATH holds packages named like the drivers whose import fails, so
peewee, importing them as it always does, finds none.
"""

import json
import os
import unittest
from pathlib import Path

import peewee as pw

from proper_unittest import ConfigurationError, MissingDriverError
from proper_unittest.databases import guard
from proper_unittest.databases.drivers import is_missing_driver, missing_driver_error
from tests.support.inner import run_suite, write_tree
from tests.support.runner_projects import ProjectTestCase, item_project

# Packages that stand in for drivers that are not installed.
NOT_INSTALLED = {
    f"{name}/__init__.py": f"raise ImportError('no module named {name} (hidden by the test)')\n"
    for name in ("psycopg2", "psycopg", "pymysql", "MySQLdb")
}

ITEM_TEST = """
    from proper_unittest import ProperTestCase
    from app import Item


    class ItemTests(ProperTestCase):
        def test_create(self):
            Item.create(name="x")
            self.assertEqual(Item.select().count(), 1)
"""


class MissingDriverRunTests(ProjectTestCase):
    """Real runs of a project whose app's database needs a driver that is
    not installed (no server is reached: the driver is needed first)."""

    def setUp(self):
        super().setUp()
        self.hidden = write_tree(self.tmp / "hidden", NOT_INSTALLED)
        self.project = write_tree(self.tmp / "driverless", item_project("DRIVERLESS_DB"))
        write_tree(self.project, {"tests/test_items.py": ITEM_TEST})

    def run_with(self, database, *command):
        env = {"DRIVERLESS_DB": json.dumps(database), "PYTHONPATH": str(self.hidden)}
        return run_suite(None, *command, folder=self.project, env=env, repo_on_path=False, timeout=60)

    def test_the_runner_names_the_postgresql_driver_and_exits_2(self):
        database = {"type": "peewee.PostgresqlDatabase", "database": "shop_test", "host": "127.0.0.1"}
        proc = self.run_with(database, "-m", "proper_unittest")
        self.assertUsageError(
            proc, "PostgresqlDatabase", "PostgreSQL (psycopg2) driver", "not installed",
            "`python -m pip install psycopg2-binary`", "[postgres] extra", "Nothing was touched.",
        )

    def test_the_runner_names_the_mysql_driver_and_exits_2(self):
        database = {"type": "peewee.MySQLDatabase", "database": "shop_test", "host": "127.0.0.1"}
        proc = self.run_with(database, "-m", "proper_unittest")
        self.assertUsageError(
            proc, "MySQLDatabase", "MySQL/MariaDB (PyMySQL) driver", "`python -m pip install pymysql`",
            "[mysql] extra", "Nothing was touched.",
        )

    def test_python_m_unittest_fails_the_class_with_the_same_message(self):
        database = {"type": "peewee.PostgresqlDatabase", "database": "shop_test", "host": "127.0.0.1"}
        proc = self.run_with(database, "-m", "unittest", "discover", "-s", "tests", "-t", ".")
        self.assertIn(proc.returncode, (1, 5), proc.stderr)  # 5: no test ran (Python 3.12+)
        self.assertIn("ERROR: setUpClass (tests.test_items.ItemTests)", proc.stderr)
        self.assertIn("proper_unittest.errors.MissingDriverError: Cannot connect PostgresqlDatabase: "
                      "the PostgreSQL (psycopg2) driver it needs is not installed", proc.stderr)
        self.assertIn("python -m pip install psycopg2-binary", proc.stderr)
        self.assertNotIn("peewee.ImproperlyConfigured", proc.stderr)


class MissingDriverMessageTests(unittest.TestCase):
    """What the error says for each kind of database, made in this process."""

    def message(self, db):
        error = missing_driver_error(db, pw.ImproperlyConfigured("Some driver not installed!"))
        self.assertIsInstance(error, ConfigurationError)
        self.assertIsInstance(error, pw.ImproperlyConfigured)  # what peewee's callers catch still catches it
        return str(error)

    def test_psycopg3_is_named_by_its_class(self):
        from playhouse.psycopg3_ext import Psycopg3Database  # noqa: PLC0415 - a dev dependency

        text = self.message(Psycopg3Database("shop_test"))
        self.assertIn("the psycopg 3 driver", text)
        self.assertIn('`python -m pip install "psycopg[binary]"`, as the library\'s [postgres3] extra does', text)

    def test_a_subclass_of_postgresql_is_told_psycopg2(self):
        class CompanyDatabase(pw.PostgresqlDatabase):
            pass

        text = self.message(CompanyDatabase("shop_test"))
        self.assertTrue(text.startswith("Cannot connect CompanyDatabase: the PostgreSQL (psycopg2) driver"), text)
        self.assertIn("peewee says: Some driver not installed!", text)

    def test_sqlite_is_told_to_use_a_python_with_sqlite(self):
        text = self.message(pw.SqliteDatabase(":memory:"))
        self.assertIn("was built without its sqlite3 module", text)
        self.assertNotIn("pip install", text)

    def test_an_unknown_database_class_is_told_to_install_its_driver(self):
        class OtherDatabase(pw.Database):
            pass

        text = self.message(OtherDatabase("x"))
        self.assertIn("the database driver it needs is not installed", text)
        self.assertIn("(its driver's package)", text)


class GuardConnectTests(unittest.TestCase):
    """The guard's connect changes only peewee's missing-driver error."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        guard.install()  # as the first Proper test class or the runner does (once per process)

    def failing_database(self, message):
        class FailingDatabase(pw.SqliteDatabase):
            def _connect(self):
                raise pw.ImproperlyConfigured(message)

        return FailingDatabase(os.path.join(os.devnull, "never"))

    def test_a_missing_driver_becomes_missing_driver_error(self):
        with self.assertRaises(MissingDriverError) as caught:
            self.failing_database("SQLite driver not installed!").connect()
        self.assertIn("sqlite3 module", str(caught.exception))
        self.assertIsNone(caught.exception.__cause__)

    def test_other_configuration_errors_pass_unchanged(self):
        with self.assertRaises(pw.ImproperlyConfigured) as caught:
            self.failing_database("Cannot set passphrase when database is open").connect()
        self.assertNotIsInstance(caught.exception, MissingDriverError)
        self.assertEqual(str(caught.exception), "Cannot set passphrase when database is open")

    def test_is_missing_driver_reads_each_of_peewees_messages(self):
        for said in ("Postgres driver not installed!", "MySQL driver not installed!", "SQLite driver not installed!",
                     "MySQL connector not installed!", "mariadb connector not installed!",
                     "psycopg3 is not installed!"):
            self.assertTrue(is_missing_driver(pw.ImproperlyConfigured(said)), said)
        self.assertFalse(is_missing_driver(pw.ImproperlyConfigured("database connection not opened.")))


if __name__ == "__main__":
    unittest.main()
