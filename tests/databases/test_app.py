"""The app's databases and models, and the other peewee database classes an app may configure
(pooled ones, psycopg 3's)."""
import importlib.util
import tempfile
import unittest
from pathlib import Path

from proper_unittest.databases.app import models_of

from tests.support.apps.notes.main import Named, Note, Session, User, db
from tests.support.apps.testdb import backend
from tests.support.inner import run_suite
from tests.support.servers import drop_database, server_database, worker_suffix


class ModelsTests(unittest.TestCase):
    def test_concrete_models_include_indirect_subclasses_but_not_bases(self):
        models = models_of(db)
        self.assertEqual(set(models), {User, Session, Note})
        self.assertNotIn(Named, models, "a concern with subclasses gets no table")


TEST_MODULE = '''
from peewee import IntegrityError
from proper_unittest import ProperTestCase
from tests.support.apps.dbclass.main import Item


class Items(ProperTestCase):
    app = "tests.support.apps.dbclass.main:app"

    def test_1_request_and_test_share_the_transaction(self):
        self.assertStatus(self.client.post("/items", body={"name": "a"}), 201)
        self.assertEqual(Item.select().count(), 1)
        with self.assertRaises(IntegrityError):
            Item.create(name="a")
        self.assertEqual(Item.select().count(), 1)

    def test_2_rolled_back(self):
        self.assertEqual(Item.select().count(), 0)
'''

POOLED_CLASS = {
    "sqlite": "playhouse.pool.PooledSqliteDatabase",
    "postgresql": "playhouse.pool.PooledPostgresqlDatabase",
    "mysql": "playhouse.pool.PooledMySQLDatabase",
}
HAS_PSYCOPG3 = importlib.util.find_spec("psycopg") is not None


class DatabaseClassTests(unittest.TestCase):

    def run_suite_on(self, database_class: str):
        """Run TEST_MODULE in a fresh interpreter on the dbclass app with
        `database_class`, its test database missing at first (so the library
        creates it), with ResourceWarnings turned into errors."""
        if backend() == "sqlite":
            folder = self.enterContext(tempfile.TemporaryDirectory())
            name = str(Path(folder, "dbclass_test.sqlite3"))
        else:
            name = f"dbclass_test{worker_suffix()}"
            drop_database(server_database(name))
            self.addCleanup(drop_database, server_database(name))
        process = run_suite(TEST_MODULE, env={
            "DBCLASS_TYPE": database_class,
            "DBCLASS_DB_NAME": name,
            # The same as `python -W error::ResourceWarning`. A warning raised
            # in a connection's __del__ is printed ("Exception ignored in"),
            # not fatal, so the output is what tells.
            "PYTHONWARNINGS": "error::ResourceWarning",
        })
        self.assertIn("Ran 2 tests", process.stderr, process.stderr)
        self.assertEqual(process.returncode, 0, process.stderr)
        return process

    def test_pooled_database_class_leaves_no_connection_open(self):
        process = self.run_suite_on(POOLED_CLASS[backend()])
        self.assertNotIn("ResourceWarning", process.stderr)
        self.assertNotIn("Exception ignored", process.stderr)

    @unittest.skipUnless(backend() == "postgresql", "psycopg 3 is a PostgreSQL driver")
    @unittest.skipUnless(HAS_PSYCOPG3, "psycopg 3 is not installed (pip install proper_unittest[postgres3])")
    def test_psycopg3_database_class(self):
        process = self.run_suite_on("playhouse.psycopg3_ext.Psycopg3Database")
        self.assertNotIn("ResourceWarning", process.stderr)

    @unittest.skipUnless(backend() == "postgresql", "psycopg 3 is a PostgreSQL driver")
    @unittest.skipUnless(HAS_PSYCOPG3, "psycopg 3 is not installed (pip install proper_unittest[postgres3])")
    def test_pooled_psycopg3_database_class_leaves_no_connection_open(self):
        process = self.run_suite_on("playhouse.pool.PooledPsycopg3Database")
        self.assertNotIn("ResourceWarning", process.stderr)
        self.assertNotIn("Exception ignored", process.stderr)
