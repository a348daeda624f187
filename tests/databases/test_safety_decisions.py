"""The configuration checks of ``safety``, in this process, on real Proper
apps: the values around the rules' edges (an APP_ENV that is almost
"test", which message a refusal gives, schemas on each backend)."""

import gc
import os
import unittest
from unittest import mock

import peewee as pw
from proper import App

from proper_unittest.databases import safety
from proper_unittest.errors import UnsafeDatabaseError


def make_app(env: str) -> App:
    """A real Proper app with one in-memory SQLite database, made under APP_ENV=`env`."""
    with mock.patch.dict(os.environ, {"APP_ENV": env}):
        return App(__name__, config={"SECRET_KEYS": ["s" * 64], "DATABASES": {
            "main": {"type": "peewee.SqliteDatabase", "database": ":memory:"}}})


class EnvironmentEdgeTests(unittest.TestCase):
    def refusal(self, process_env: str, app_env: str) -> str:
        app = make_app(app_env)
        with mock.patch.dict(os.environ, {"APP_ENV": process_env}):
            with self.assertRaises(UnsafeDatabaseError) as raised:
                safety.check_test_environment(app)
        return str(raised.exception)

    def test_only_test_itself_passes(self):
        for process_env, app_env in (("tests", "test"), ("test", "testing"), ("zzz", "zzz"), ("tests", "tests"),
                                     ("a", "test"), ("test", "a")):
            with self.subTest(process=process_env, app=app_env):
                self.refusal(process_env, app_env)

    def test_set_too_late_gets_its_own_message(self):
        self.assertIn("the app was configured with APP_ENV='testing', before APP_ENV was set to 'test'",
                      self.refusal("test", "testing"))
        for process_env in ("tests", "prod", "zzz"):
            with self.subTest(process=process_env):
                message = self.refusal(process_env, "test")
                self.assertIn(f"APP_ENV is {process_env!r} and the app was configured with APP_ENV='test'; "
                              "both must be 'test'", message)
                self.assertNotIn("before APP_ENV was set", message)


class SchemaEdgeTests(unittest.TestCase):
    def setUp(self):
        self.addCleanup(gc.collect)  # the models made here leave peewee.Model's subclasses

    def model(self, db: pw.Database, schema: str) -> type[pw.Model]:
        meta = type("Meta", (), {"database": db, "schema": schema, "table_name": "pu_edge"})
        return type("Edge", (pw.Model,), {"__module__": __name__, "Meta": meta})

    def test_sqlite_and_unknown_backends_keep_their_schema(self):
        for db in (pw.SqliteDatabase("/srv/edge_test.sqlite3"), pw.Database("other_test")):
            with self.subTest(kind=type(db).__name__):
                model = self.model(db, "not a safe schema;")
                safety.check_schemas([db])
                del model
                gc.collect()

    def test_mysql_refuses_another_database_but_not_its_own(self):
        db = pw.MySQLDatabase("shop_test")
        model = self.model(db, "".join(["shop", "_test"]))  # equal, not the same object
        safety.check_schemas([db])
        del model
        gc.collect()
        for schema in ("accounts_prod", "zz_prod"):  # sorting before and after
            model = self.model(db, schema)
            with self.assertRaisesRegex(UnsafeDatabaseError, f"Meta.schema = '{schema}', which on MySQL"):
                safety.check_schemas([db])
            del model
            gc.collect()
        safety.check_schemas([pw.MySQLDatabase("unrelated_test")])  # only the databases checked count


class UninitializedTests(unittest.TestCase):
    def test_an_empty_name_is_not_initialized_either(self):
        for db in (pw.SqliteDatabase(""), pw.SqliteDatabase(None), pw.PostgresqlDatabase("")):
            with self.subTest(db=db.database, kind=type(db).__name__):
                self.assertEqual(safety.why_not_a_test_database(db), "it is not initialized (no database name)")
