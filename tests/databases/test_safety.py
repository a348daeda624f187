"""The safety checks (databases/safety.py): no database is touched unless it is provably a
test database, and the library removes only what it created; the configuration checks in
this process, on real Proper apps."""
import gc
import os
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import peewee as pw
from playhouse.sqlite_ext import SqliteExtDatabase
from proper import App

from proper_unittest.databases import safety
from proper_unittest.errors import UnsafeDatabaseError
from proper_unittest.databases.safety import is_test_name, target_name, why_not_a_test_database

from tests.support.apps.testdb import backend, database_config
from tests.support.inner import REPO, run_suite
from tests.support.planted import Planted, inner_app
from tests.support.servers import database_exists, drop_database, server_database, worker_suffix


# Fault injection: the process is killed right after it created its
# database (or file), before the marker, when PU_KILL_AFTER_CREATE is set.
KILL_AFTER_CREATE = """
import signal
from proper_unittest.databases import provision as _provision

_connect_for_tests = _provision._connect_for_tests


def _killed_after_create(db):
    if os.environ.get("PU_KILL_AFTER_CREATE"):
        os.kill(os.getpid(), signal.SIGKILL)
    _connect_for_tests(db)


_provision._connect_for_tests = _killed_after_create
"""

# Fault injection: SIGINT arrives just as CREATE DATABASE returns.
INTERRUPT_AFTER_CREATE = """
import signal
from proper_unittest.databases import provision as _provision

_server_connection = _provision._server_connection


def _interrupting(db):
    server = _server_connection(db)
    run = server.execute_sql

    def execute_sql(sql, *args, **kwargs):
        cursor = run(sql, *args, **kwargs)
        if sql.startswith("CREATE DATABASE"):
            os.kill(os.getpid(), signal.SIGINT)
        return cursor

    server.execute_sql = execute_sql
    return server


_provision._server_connection = _interrupting
"""


def outside_model(config: dict, table_name: str = "invoice", tests: str = "") -> str:
    """Source of a model Invoice bound to its own Database object made from
    the DATABASES-style `config`, then `tests` (more source)."""
    db_class = "SqliteDatabase" if backend() == "sqlite" else type(server_database("x")).__name__
    params = {key: value for key, value in config.items() if key != "type"}
    return (
        f"outside_db = pw.{db_class}(**{params!r})\n\n"
        "class Invoice(pw.Model):\n    number = pw.CharField()\n\n"
        f"    class Meta:\n        database = outside_db\n        table_name = {table_name!r}\n\n"
        + tests
    )


class NameRuleTests(unittest.TestCase):
    """'test' must be a whole word of the name; for SQLite, of the file's name."""

    def test_names_that_pass(self):
        for name in ("myapp_test", "test_myapp", "myapp-tests", "myapp_testing", "test",
                     "TEST_shop", "myapp.test", "myapp_test_w3", "myapp_test_gw0", "a-b_test.c"):
            with self.subTest(name=name):
                self.assertTrue(is_test_name(name))
                self.assertIsNone(why_not_a_test_database(pw.PostgresqlDatabase(name)))
                self.assertIsNone(why_not_a_test_database(pw.MySQLDatabase(name)))

    def test_look_alike_names_are_refused(self):
        for name in ("latest", "contest", "attestation", "testimonials", "protest_db",
                     "shop_contest", "shop_latest", "myapp", "prod", "testdb", "mytest",
                     "test1", "tested", "", "shop__prod"):
            with self.subTest(name=name):
                self.assertFalse(is_test_name(name))
                self.assertIsNotNone(why_not_a_test_database(pw.PostgresqlDatabase(name or None)))
                self.assertIsNotNone(why_not_a_test_database(pw.MySQLDatabase(name or None)))

    def test_sqlite_file_name_alone_counts(self):
        cases = {
            ":memory:": True,
            "file:cache?mode=memory&cache=shared": True,
            "file:memdb1?cache=shared&mode=memory": True,
            "test.sqlite3": True,
            "myapp_test.db": True,
            "/srv/app/myapp_test.sqlite3": True,
            "file:/srv/app/myapp_test.db?cache=shared": True,
            "/srv/tests/production.sqlite3": False,
            "/srv/test/latest.sqlite3": False,
            "latest.sqlite3": False,
            "file:prod.db?mode=ro": False,
            "file:prod.db?x=mode=memory": False,
            "sqlite:///myapp_test.db": False,  # a URL, not a path
        }
        for name, allowed in cases.items():
            with self.subTest(name=name):
                problem = why_not_a_test_database(pw.SqliteDatabase(name))
                self.assertEqual(problem is None, allowed, problem)

    def test_urls_and_dsns_are_refused_with_how_to_configure(self):
        for name in ("postgresql://u@h:5432/shop_prod?application_name=test",
                     "postgresql://u@h/shop_test", "dbname=shop_test host=x", "shop_test?x=1",
                     "shop/test"):
            for db in (pw.PostgresqlDatabase(name), pw.MySQLDatabase(name)):
                with self.subTest(name=name, db=type(db).__name__):
                    problem = why_not_a_test_database(db)
                    self.assertIn("is a URL or a DSN", problem)
                    self.assertIn("playhouse.db_url", problem)

    def test_connect_params_that_override_the_name_are_what_counts(self):
        refused = [
            pw.PostgresqlDatabase("shop_test", dbname="shop_prod"),
            pw.MySQLDatabase("shop_test", db="shop_prod"),
            pw.PostgresqlDatabase("shop_test"),
            pw.MySQLDatabase("shop_test"),
        ]
        for db in refused[2:]:  # set after construction: the driver still gets it
            db.connect_params["database"] = "shop_prod"
        for db in refused:
            with self.subTest(params=db.connect_params):
                self.assertEqual(target_name(db), "shop_prod")
                self.assertIn("connect_params", why_not_a_test_database(db))
        allowed = pw.PostgresqlDatabase("shop", dbname="shop_test")
        self.assertEqual(target_name(allowed), "shop_test")
        self.assertIsNone(why_not_a_test_database(allowed))


class RefusalTests(unittest.TestCase):
    """Each test plants a sentinel table and row in a database, runs a
    ProperTestCase that would use it in a fresh interpreter, and checks the
    run was refused and the database is exactly as it was."""

    def setUp(self):
        self.folder = self.enterContext(tempfile.TemporaryDirectory())

    def name(self, base: str) -> str:
        suffix = worker_suffix()
        return f"{base}{suffix}.sqlite3" if backend() == "sqlite" else f"{base}{suffix}"

    def run_refused(self, source: str, env=None):
        done = run_suite(source, env=env)
        self.assertNotEqual(done.returncode, 0, done.stderr)
        self.assertIn("UnsafeDatabaseError", done.stderr)
        self.assertNotIn("Traceback", done.stderr, "a refusal is a message, not a traceback")
        return done

    def test_look_alike_names_are_refused(self):
        for base in ("pu_shop_contest", "pu_shop_latest", "pu_attestation"):
            with self.subTest(name=base):
                planted = Planted(self, self.name(base))
                done = self.run_refused(inner_app(planted.config()))
                self.assertIn("does not have 'test' as a whole word", done.stderr)
                self.assertIn("No database was touched", done.stderr)
                planted.assert_untouched()

    def test_app_env_other_than_test_is_refused(self):
        planted = Planted(self, self.name("pu_guard_test"))
        done = self.run_refused(inner_app(planted.config()), env={"APP_ENV": "production"})
        self.assertIn("APP_ENV is 'production'", done.stderr)
        planted.assert_untouched()

    @unittest.skipIf(backend() == "sqlite", "server databases only")
    def test_url_as_a_name_is_refused_and_no_junk_database_is_made(self):
        planted = Planted(self, self.name("pu_shop_prod"))
        config = database_config(planted.name)
        url = (f"postgresql://{config.get('user', 'postgres')}@{config['host']}:{config['port']}/"
               f"{planted.name}?application_name=test")
        done = self.run_refused(inner_app({**config, "database": url}))
        self.assertIn("is a URL or a DSN", done.stderr)
        planted.assert_untouched()
        self.assertFalse(database_exists(url), "no database named after the URL")

    @unittest.skipIf(backend() == "sqlite", "server databases only")
    def test_connect_params_override_is_checked(self):
        planted = Planted(self, self.name("pu_shop_prod"))
        key = "dbname" if backend() == "postgresql" else "db"
        config = database_config(self.name("pu_decoy_test"))
        done = self.run_refused(inner_app({**config, key: planted.name}))
        self.assertIn(f"connect_params[{key!r}]", done.stderr)
        planted.assert_untouched()
        self.assertFalse(database_exists(self.name("pu_decoy_test")))

    def test_model_bound_to_an_outside_database_is_refused(self):
        planted = Planted(self, self.name("pu_legacy"))
        main = Planted(self, self.name("pu_main_test"), tables=())
        extra = outside_model(planted.config(), table_name="note")
        done = self.run_refused(inner_app(main.config(), extra=extra))
        self.assertIn("model test_inner_case.Invoice", done.stderr)
        planted.assert_untouched()
        main.assert_untouched()

    def test_existing_unmarked_test_database_with_tables_is_refused(self):
        planted = Planted(self, self.name("pu_shared_test"), tables=("note", "audit"))
        done = self.run_refused(inner_app(planted.config()))
        self.assertIn("already exists and holds tables (audit, note)", done.stderr)
        self.assertIn("PROPER_UNITTEST_ADOPT=", done.stderr)
        planted.assert_untouched()

    def test_refusal_is_said_once_then_referenced(self):
        planted = Planted(self, self.name("pu_shop_latest"))
        done = self.run_refused(inner_app(planted.config(), more_classes=True))
        self.assertEqual(done.stderr.count("does not have 'test' as a whole word"), 1, done.stderr)
        self.assertEqual(done.stderr.count("Refused, as for "), 2, done.stderr)
        self.assertEqual(done.stderr.count("UnsafeDatabaseError"), 3, "one error per class")
        planted.assert_untouched()


class OwnershipTests(unittest.TestCase):
    """Test databases the library may use, and what it leaves behind."""

    def setUp(self):
        self.folder = self.enterContext(tempfile.TemporaryDirectory())

    def name(self, base: str) -> str:
        suffix = worker_suffix()
        return f"{base}{suffix}.sqlite3" if backend() == "sqlite" else f"{base}{suffix}"

    def config(self, name: str) -> dict:
        if backend() == "sqlite":
            return {"type": "peewee.SqliteDatabase", "database": str(Path(self.folder, name))}
        return database_config(name)

    def handle(self, name: str) -> pw.Database:
        if backend() == "sqlite":
            return pw.SqliteDatabase(str(Path(self.folder, name)))
        return server_database(name)

    def exists(self, name: str) -> bool:
        if backend() == "sqlite":
            return Path(self.folder, name).exists()
        return database_exists(name)

    def tables_of(self, name: str) -> list[str]:
        db = self.handle(name)
        db.connect()
        try:
            return sorted(db.get_tables())
        finally:
            db.close()

    def run_ok(self, name: str, env=None):
        done = run_suite(inner_app(self.config(name)), env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Ran 1 test", done.stderr)
        return done

    def test_a_database_it_creates_is_removed_at_exit(self):
        name = self.name("pu_fresh_test")
        drop_database(self.handle(name))
        self.run_ok(name)
        self.assertFalse(self.exists(name), "created by the run, so removed by it")

    def test_an_empty_database_is_adopted_and_left_empty(self):
        planted = Planted(self, self.name("pu_empty_test"), tables=())
        self.run_ok(planted.name)
        self.assertTrue(self.exists(planted.name), "not created by the run: kept")
        self.assertEqual(self.tables_of(planted.name), [])

    def test_a_marked_database_is_adopted_again(self):
        # A run killed half way leaves its tables and marker behind...
        name = self.name("pu_crashed_test")
        drop_database(self.handle(name))
        done = run_suite(inner_app(self.config(name)), env={"PU_CRASH": "1"})
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(self.tables_of(name), ["proper_unittest_marker", "pu_item"])
        # ...the next run knows them for its own, and removes the database it made.
        self.run_ok(name)
        self.assertFalse(self.exists(name))

    def test_never_drops_a_table_it_did_not_create(self):
        planted = Planted(self, self.name("pu_mixed_test"), tables=())
        crashed = run_suite(inner_app(self.config(planted.name)), env={"PU_CRASH": "1"})
        self.assertEqual(crashed.returncode, 0, crashed.stderr)  # leaves marker and pu_item
        db = planted.db
        db.connect()
        db.execute_sql("CREATE TABLE audit (id INTEGER PRIMARY KEY, title VARCHAR(50))")
        db.execute_sql("INSERT INTO audit (id, title) VALUES (1, 'production data')")
        db.close()
        self.run_ok(planted.name)
        planted.tables = ("audit",)
        planted.assert_untouched()

    def test_adopting_replaces_clashing_tables_only(self):
        planted = Planted(self, self.name("pu_adopt_test"), tables=("pu_item", "audit"))
        self.run_ok(planted.name, env={"PROPER_UNITTEST_ADOPT": Path(planted.name).name})
        planted.tables = ("audit",)
        planted.assert_untouched()

    def test_model_bound_to_an_outside_test_database_gets_the_test_transaction(self):
        outside = Planted(self, self.name("pu_legacy_test"), tables=())
        extra = outside_model(outside.config(), tests=(
            "class InvoiceTests(ProperTestCase):\n    app = app\n\n"
            "    def test_1_write(self):\n        Invoice.create(number='A-1')\n"
            "        self.assertEqual(Invoice.select().count(), 1)\n\n"
            "    def test_2_rolled_back(self):\n        self.assertEqual(Invoice.select().count(), 0)\n"
        ))
        main = self.name("pu_main_test")
        drop_database(self.handle(main))
        done = run_suite(inner_app(self.config(main), extra=extra))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Ran 3 tests", done.stderr)
        self.assertEqual(self.tables_of(outside.name), [], "adopted empty, left empty")

    def test_two_database_objects_on_one_database_share_the_claim(self):
        name = self.name("pu_twice_test")
        drop_database(self.handle(name))
        extra = outside_model(self.config(name), tests=(
            "class BothTests(ProperTestCase):\n    app = app\n\n"
            "    def test_both_tables_exist(self):\n"
            "        self.assertEqual(Item.select().count(), 0)\n"
            "        self.assertEqual(Invoice.select().count(), 0)\n"
        ))
        done = run_suite(inner_app(self.config(name), extra=extra))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Ran 2 tests", done.stderr)
        self.assertFalse(self.exists(name))

    def test_a_database_another_run_is_using_is_refused(self):
        # The first run (python -m unittest) holds its database for its whole
        # life: here it waits in a class of a second app, after the first
        # app's class ended and its connection was closed (as when a test
        # class of another app starts, or a connection is lost).
        import os
        import subprocess
        import sys
        import time

        name = self.name("pu_busy_test")
        drop_database(self.handle(name))
        hold = Path(self.folder, "hold")
        hold.mkdir()
        module = Path(self.folder, "first")
        module.mkdir()
        other_app = (
            "other = App(__name__, config={'SECRET_KEYS': ['o' * 64], 'DATABASES': {'main': "
            "{'type': 'peewee.SqliteDatabase', 'database': ':memory:'}}})\n\n\n"
            "class OtherAppTests(ProperTestCase):\n    app = other\n\n"
            "    def test_holds(self):\n"
            "        self.assertTrue(db.is_closed(), 'the first app\\'s connection should be closed by now')\n"
            "        hold_until_told()\n\n\n"
        )
        first_source = inner_app(self.config(name), extra=other_app).replace(
            "        if os.environ.get(\"PU_HOLD_DIR\"):", "        if os.environ.get(\"PU_HOLD_HERE\"):")
        Path(module, "test_inner_case.py").write_text(first_source)
        env = {**os.environ, "PYTHONPATH": str(REPO),
               "PU_HOLD_DIR": str(hold)}
        env.pop("PROPER_UNITTEST_WORKER", None)
        first = subprocess.Popen([sys.executable, "-m", "unittest", "test_inner_case"], cwd=module, env=env,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.addCleanup(first.kill)
        for _ in range(600):
            if Path(hold, "ready").exists() or first.poll() is not None:
                break
            time.sleep(0.05)
        self.assertTrue(Path(hold, "ready").exists(), first.poll() is not None and first.communicate()[0])
        second = run_suite(inner_app(self.config(name)))
        Path(hold, "go").touch()
        output, _ = first.communicate(timeout=60)
        self.assertEqual(first.returncode, 0, output)
        self.assertNotEqual(second.returncode, 0, second.stderr)
        self.assertIn("another test run (another process) is using it", second.stderr)
        self.assertFalse(self.exists(name), "the first run removed the database it made")

    def test_a_run_killed_between_create_and_marker_leaves_it_to_the_next(self):
        # Killed (SIGKILL: no exit hook) after CREATE DATABASE, before its
        # marker: the database is left empty; the next run, finding the
        # record that a run now gone created it, owns it and removes it.
        name = self.name("pu_killed_test")
        drop_database(self.handle(name))
        sentinel = Planted(self, self.name("pu_killed_other_test"))
        env = {"PROPER_UNITTEST_STATE_DIR": str(Path(self.folder, "state"))}
        source = inner_app(self.config(name), extra=KILL_AFTER_CREATE)
        killed = run_suite(source, env={**env, "PU_KILL_AFTER_CREATE": "1"})
        self.assertEqual(killed.returncode, -9, killed.stderr)
        self.assertTrue(self.exists(name), "left behind by the killed run")
        self.assertEqual(self.tables_of(name), [], "killed before anything was made in it")
        done = run_suite(source, env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("was created by a test run that was stopped before it could prepare it", done.stderr)
        self.assertFalse(self.exists(name), "the next run removed it")
        self.assertEqual(list(Path(self.folder, "state").rglob("*.json")), [], "no record left")
        sentinel.assert_untouched()

    def test_an_interrupt_right_after_create_database_still_removes_it(self):
        if backend() == "sqlite":
            self.skipTest("the interrupt is sent by the server connection's CREATE DATABASE")
        name = self.name("pu_interrupted_test")
        drop_database(self.handle(name))
        sentinel = Planted(self, self.name("pu_interrupted_other_test"))
        env = {"PROPER_UNITTEST_STATE_DIR": str(Path(self.folder, "state"))}
        done = run_suite(inner_app(self.config(name), extra=INTERRUPT_AFTER_CREATE), env=env)
        self.assertNotEqual(done.returncode, 0, done.stderr)
        self.assertIn("KeyboardInterrupt", done.stderr)
        self.assertFalse(self.exists(name), "the exit hook removed what the run created")
        self.assertEqual(list(Path(self.folder, "state").rglob("*.json")), [], "no record left")
        sentinel.assert_untouched()

    def test_keepdb_keeps_and_reuses_the_schema(self):
        name = self.name("pu_kept_test")
        drop_database(self.handle(name))
        self.addCleanup(lambda: drop_database(self.handle(name)))
        keep = {"PROPER_UNITTEST_KEEPDB": "1"}
        self.run_ok(name, env=keep)
        self.assertEqual(self.tables_of(name), ["proper_unittest_marker", "pu_item"])
        db = self.handle(name)
        db.connect()
        db.execute_sql("INSERT INTO pu_item (title) VALUES ('left over')")
        db.close()
        self.run_ok(name, env=keep)  # reused, emptied: the test counts one row
        self.run_ok(name)  # without --keepdb the run cleans up what it owns
        self.assertFalse(self.exists(name))


SCHEMA_MODEL = '''
class Account(pw.Model):
    login = pw.CharField()

    class Meta:
        database = db
        table_name = "pu_account"
        schema = "pu_accounts"


def schemas_here():
    rows = db.execute_sql("SELECT nspname FROM pg_namespace WHERE nspname = 'pu_accounts'").fetchall()
    return len(rows)


class SchemaTests(ProperTestCase):
    app = app

    def test_1_write(self):
        Account.create(login="ann")
        self.assertEqual(Account.select().count(), 1)
        self.assertEqual(schemas_here(), 1)

    def test_2_rolled_back(self):
        self.assertEqual(Account.select().count(), 0)


class SchemaCommitTests(ProperTransactionTestCase):
    app = app

    def test_commits(self):
        Account.create(login="bob")
        self.assertEqual(Account.select().count(), 1)
'''


class PostgresSchemaTests(unittest.TestCase):
    """On PostgreSQL a model's Meta.schema lives inside the test database:
    the library creates it there, and nowhere else, and removes it."""

    def setUp(self):
        self.folder = self.enterContext(tempfile.TemporaryDirectory())

    def schemas_in(self, name: str) -> list[str]:
        db = server_database(name)
        db.connect()
        try:
            return [row[0] for row in db.execute_sql(
                "SELECT nspname FROM pg_namespace WHERE nspname = 'pu_accounts'").fetchall()]
        finally:
            db.close()

    def test_a_schema_is_made_inside_the_test_database_only(self):
        if backend() != "postgresql":
            self.skipTest("on PostgreSQL a schema lives inside the database")
        sentinel = Planted(self, f"pu_schema_prod{worker_suffix()}")
        # An empty test database is adopted: at exit the run drops the
        # schema it made there (and its tables), and keeps the database.
        adopted = Planted(self, f"pu_schema{worker_suffix()}_test", tables=())
        source = inner_app(adopted.config(), extra=SCHEMA_MODEL).replace(
            "import ProperTestCase", "import ProperTestCase, ProperTransactionTestCase")
        done = run_suite(source)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Ran 4 tests", done.stderr)
        self.assertEqual(self.schemas_in(adopted.name), [], "the schema it made is dropped at exit")
        adopted.assert_untouched()
        for name in (sentinel.name, "postgres"):
            self.assertEqual(self.schemas_in(name), [], f"no schema made in {name}")
        sentinel.assert_untouched()


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
        model = type(name, (pw.Model,), {"Meta": meta, "__module__": __name__})
        # Held for the test: only weak references (pw.Model.__subclasses__())
        # would point at it, and a garbage collection in the middle of the
        # test would take it away before the check looks for it. Unbound
        # afterwards: until it is collected, every later class's checks
        # would find it (a model's database is one tests may write to).
        vars(self).setdefault("models", []).append(model)
        self.addCleanup(model._meta.set_database, None)
        return model

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
