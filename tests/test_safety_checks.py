"""The configuration checks of ``safety``, in this process, on real Proper
apps: which databases an app's tests may reach, and which environment
lets them run. (The runs that prove nothing is touched are in
test_safety.py; these are the fast ones the mutation check runs.)"""
import gc
import os
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import peewee as pw
from playhouse.sqlite_ext import SqliteExtDatabase
from proper import App

from proper_unittest import safety
from proper_unittest.errors import UnsafeDatabaseError


def make_app(env: str = "test", database: str = ":memory:") -> App:
    """A real Proper app with one SQLite database, made under APP_ENV=`env`."""
    with mock.patch.dict(os.environ, {"APP_ENV": env}):
        return App(__name__, config={"SECRET_KEYS": ["s" * 64], "DATABASES": {
            "main": {"type": "peewee.SqliteDatabase", "database": database}}})


class EnvironmentTests(unittest.TestCase):
    """APP_ENV must be "test" both in the environment and in the app."""

    def test_both_must_be_test(self):
        for process_env, app_env, allowed in (("test", "test", True), ("production", "test", False),
                                              ("test", "production", False), ("dev", "dev", False)):
            with self.subTest(process=process_env, app=app_env):
                app = make_app(app_env)
                with mock.patch.dict(os.environ, {"APP_ENV": process_env}):
                    if allowed:
                        safety.check_test_environment(app)
                        continue
                    with self.assertRaisesRegex(UnsafeDatabaseError, "Refusing to run tests"):
                        safety.check_test_environment(app)


class ReachableDatabaseTests(unittest.TestCase):
    """test_databases(): the app's DATABASES and every database a model is
    bound to, each once; in-memory ones and other apps' are left out."""

    def setUp(self):
        self.folder = self.enterContext(tempfile.TemporaryDirectory())
        self.made: list[pw.Database] = []
        self.addCleanup(gc.collect)  # the models made here leave peewee.Model's subclasses

    def file_db(self, name: str) -> pw.Database:
        db = pw.SqliteDatabase(str(Path(self.folder, name)))
        self.made.append(db)
        return db

    def reached(self, app: App, databases: dict[str, pw.Database] | None = None) -> list[pw.Database]:
        """The databases of `app` (by default what test_databases() finds) that
        this test made: models of other test modules may be loaded too."""
        found = safety.test_databases(app) if databases is None else databases
        return [db for db in found.values() if db in self.made or db is app.db["main"]]

    def model(self, db: pw.Database | pw.DatabaseProxy, name: str) -> type[pw.Model]:
        meta = type("Meta", (), {"database": db, "table_name": name})
        return type(name, (pw.Model,), {"Meta": meta, "__module__": __name__})

    def test_models_after_an_in_memory_one_are_still_checked(self):
        app = make_app()
        self.model(pw.SqliteDatabase(":memory:"), "a_in_memory")
        outside = self.file_db("outside.sqlite3")
        self.model(outside, "b_outside")
        self.model(outside, "c_outside_too")
        found = safety.test_databases(app)
        self.assertEqual(self.reached(app), [app.db["main"], outside])
        self.assertIn(f"model {__name__}.b_outside", found)
        self.assertNotIn(f"model {__name__}.c_outside_too", found)
        with self.assertRaisesRegex(UnsafeDatabaseError, r"model .*b_outside = .*outside.sqlite3"):
            safety.check_test_databases({key: db for key, db in found.items() if db is outside})

    def test_models_of_the_app_and_of_proxies(self):
        app = make_app()
        self.model(app.db["main"], "app_model")
        proxy = pw.DatabaseProxy()
        self.model(proxy, "proxied_later")
        self.model(pw.SqliteDatabase(None), "deferred")
        self.assertEqual(self.reached(app), [app.db["main"]])
        proxied = self.file_db("proxied_test.sqlite3")
        proxy.initialize(proxied)
        self.assertEqual(self.reached(app), [app.db["main"], proxied])
        self.assertEqual(self.reached(app, safety.test_databases(app)), [app.db["main"], proxied])

    def test_another_apps_databases_are_its_own(self):
        app, other = make_app(), make_app(database=str(Path(self.folder, "other_test.sqlite3")))
        self.made.append(other.db["main"])
        self.model(other.db["main"], "other_model")
        self.assertEqual(self.reached(app), [app.db["main"], other.db["main"]])
        safety.remember_app(other)
        self.addCleanup(safety._apps_under_test.pop, id(other))
        self.assertEqual(self.reached(app), [app.db["main"]])
        self.assertEqual(self.reached(other), [other.db["main"]], "an app's own models stay its own")

    def test_concerns_and_subclasses_are_found(self):
        db = self.file_db("deep_test.sqlite3")
        base = self.model(db, "base")
        type("child", (base,), {"__module__": __name__})
        self.assertIn(base, safety.all_model_classes())
        self.assertIn("child", [m.__name__ for m in safety.all_model_classes()])


class DatabaseKindTests(unittest.TestCase):
    """Which backend a database is, and which name it really connects to."""

    def test_backends(self):
        class MyPostgresDatabase(pw.Database):
            pass

        class MyMySQLDatabase(pw.Database):
            pass

        cases = {SqliteExtDatabase(":memory:"): "sqlite", pw.PostgresqlDatabase("x"): "postgres",
                 pw.MySQLDatabase("x"): "mysql", MyPostgresDatabase("x"): "postgres",
                 MyMySQLDatabase("x"): "mysql", pw.Database("x"): "other"}
        for db, expected in cases.items():
            with self.subTest(db=type(db).__name__):
                self.assertEqual(safety.backend_of(db), expected)

    def test_uninitialized_databases_are_refused(self):
        for db in (pw.SqliteDatabase(None), pw.PostgresqlDatabase(None), pw.DatabaseProxy().obj):
            if db is None:
                continue
            with self.subTest(db=type(db).__name__):
                self.assertIn("not initialized", safety.why_not_a_test_database(db) or "")

    def test_only_the_overriding_key_that_is_set_counts(self):
        db = pw.MySQLDatabase("shop_test", db="prod")
        db.connect_params["database"] = ""  # set but empty: not what the driver uses
        self.assertEqual(safety.name_override_key(db), "db")
        self.assertEqual(safety.target_name(db), "prod")
        sqlite = pw.SqliteDatabase("x_test.db")
        sqlite.connect_params["database"] = "prod"  # no meaning to SQLite's driver here
        self.assertIsNone(safety.name_override_key(sqlite))


class SchemaTests(unittest.TestCase):
    """A model's Meta.schema: on PostgreSQL a schema inside the test
    database (its name checked, its tables listed qualified); on
    MySQL/MariaDB another database, refused unless it is the test one."""

    def setUp(self):
        self.addCleanup(gc.collect)

    def model(self, db: pw.Database, name: str, schema: str | None) -> type[pw.Model]:
        meta = type("Meta", (), {"database": db, "table_name": name, "schema": schema})
        return type(name, (pw.Model,), {"Meta": meta, "__module__": __name__})

    def test_table_names_as_listed(self):
        pg, mysql = pw.PostgresqlDatabase("shop_test"), pw.MySQLDatabase("shop_test")
        self.assertEqual(safety.table_name(self.model(pg, "t1", "accounts")), "accounts.t1")
        self.assertEqual(safety.table_name(self.model(pg, "t2", None)), "t2")
        self.assertEqual(safety.table_name(self.model(pg, "t3", "public")), "t3")
        self.assertEqual(safety.table_name(self.model(pg, "a.b", None)), "public.a.b")
        self.assertEqual(safety.table_name(self.model(mysql, "t4", "shop_test")), "t4")
        self.assertEqual(safety.table_name(self.model(pw.DatabaseProxy(), "t5", "x")), "t5")
        self.assertEqual(safety.listed_table("s", "t", "mysql"), "t")
        self.assertEqual(safety.listed_table("s", "t", "postgres"), "s.t")

    def test_postgres_schema_names_are_checked(self):
        pg = pw.PostgresqlDatabase("shop_test")
        other = pw.PostgresqlDatabase("other_test")
        self.model(pg, "ok", "accounts-2_x")
        safety.check_schemas([pg])
        self.model(other, "bad_elsewhere", "a.b")
        safety.check_schemas([pg])  # not one of the databases checked
        self.model(pg, "bad", "acc.ounts")
        with self.assertRaisesRegex(UnsafeDatabaseError, r"model .*\.bad has Meta.schema = 'acc.ounts'.*"
                                    r"only letters, digits, '_' and '-'"):
            safety.check_schemas([pg])

    def test_mysql_schema_is_refused_unless_it_is_the_test_database(self):
        db = pw.MySQLDatabase("shop_test")
        self.model(db, "same", "shop_test")
        self.model(db, "none", None)
        safety.check_schemas([db])
        self.model(db, "prod", "shop_prod")
        with self.assertRaisesRegex(UnsafeDatabaseError, r"model .*\.prod has Meta.schema = 'shop_prod', "
                                    r"which on MySQL/MariaDB is another database .* 'shop_test'"):
            safety.check_schemas([db])
