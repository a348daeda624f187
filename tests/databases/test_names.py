"""Names read the way the server reads them (issue 16, cases 1, 2, 7, 8): quotes in database
names, long derived names. Each run-level test plants a sentinel that must survive."""
import hashlib
import tempfile
import unittest

import peewee as pw

from proper_unittest.databases import names as _names, provision as _provision
from proper_unittest.databases.safety import is_test_name, why_not_a_test_database

from tests.support.apps.testdb import backend, database_config
from tests.support.inner import run_suite
from tests.support.planted import Planted, inner_app
from tests.support.runner_projects import ProjectTestCase
from tests.support.servers import database_exists, drop_database, server_database, worker_suffix


server_only = unittest.skipIf(backend() == "sqlite", "server databases only")
sqlite_only = unittest.skipUnless(backend() == "sqlite", "SQLite files only")


class NameCharsetTests(unittest.TestCase):
    """A name the library creates or drops holds only letters, digits, _ - ."""

    def test_examples(self):
        for name in ("shop_test", "shop-test.v2", "TEST_shop", "a.b-c_test"):
            with self.subTest(name=name):
                self.assertIsNone(_names.why_not_a_safe_name(name))
                self.assertIsNone(why_not_a_test_database(pw.PostgresqlDatabase(name)))
        for name in ('shop"--_test', "shop`#_test", "shop'_test", "shop;_test", "shop\0_test", "shöp_test",
                     "shop\t_test"):
            with self.subTest(name=name):
                problem = why_not_a_test_database(pw.MySQLDatabase(name))
                self.assertIn("may hold only letters, digits, '_', '-' and '.'", problem or "")

    def test_names_longer_than_the_server_keeps_are_refused(self):
        self.assertIsNone(why_not_a_test_database(pw.PostgresqlDatabase("a" * 58 + "_test")))
        self.assertIn("keeps only 63", why_not_a_test_database(pw.PostgresqlDatabase("a" * 59 + "_test")))
        self.assertIsNone(why_not_a_test_database(pw.MySQLDatabase("a" * 59 + "_test")))
        self.assertIn("keeps only 64", why_not_a_test_database(pw.MySQLDatabase("a" * 60 + "_test")))

    def test_quoting_doubles_embedded_quotes(self):
        db = pw.SqliteDatabase(":memory:")
        self.addCleanup(db.close)
        for name in ('a"b', '""', 'x" --', "plain"):
            with self.subTest(name=name):
                db.execute_sql(f"CREATE TABLE {_names.quote_identifier(db, name)} (x)")
                self.assertEqual(db.get_tables(), [name])
                db.execute_sql(f"DROP TABLE {_names.quote_identifier(db, name)}")
        self.assertEqual(_names.quote_identifier(pw.MySQLDatabase("x"), "a`b"), "`a``b`")

        class Bracketed(pw.SqliteDatabase):
            quote = "[]"

        self.assertEqual(_names.quote_identifier(Bracketed(":memory:"), "a]b[c"), "[a]]b[c]")

    def test_table_names_are_quoted_as_listed(self):
        # On PostgreSQL the first dot of a listed name ends its schema.
        db = pw.PostgresqlDatabase("x")
        self.assertEqual(_names.quote_table(db, "accounts.user", postgres=True), '"accounts"."user"')
        self.assertEqual(_names.quote_table(db, "public.a.b", postgres=True), '"public"."a.b"')
        self.assertEqual(_names.quote_table(db, 'a"b', postgres=True), '"a""b"')
        self.assertEqual(_names.quote_table(db, 'x"y.z', postgres=True), '"x""y"."z"')
        self.assertEqual(_names.quote_table(pw.SqliteDatabase(":memory:"), "a.b", postgres=False), '"a.b"')
        self.assertEqual(_provision.quote_table(db, "s.t"), '"s"."t"')
        # On MySQL qualified with the database: a test's USE cannot move the library's statements.
        self.assertEqual(_provision.quote_table(pw.MySQLDatabase("x"), "s.t"), "`x`.`s.t`")

    def test_schema_names_the_library_creates(self):
        for name in ("accounts", "a-b_C9"):
            self.assertTrue(_names.SAFE_SCHEMA.fullmatch(name), name)
        for name in ("a.b", "a b", 'a"b', "", "ä"):
            self.assertFalse(_names.SAFE_SCHEMA.fullmatch(name), name)

    def test_the_message_names_the_characters(self):
        self.assertIn("""holds '"', ';'""", _names.why_not_a_safe_name('a;b"_test') or "")

    def test_an_empty_name_is_said_to_hold_nothing(self):
        self.assertIn("'' holds nothing", _names.why_not_a_safe_name("") or "")

    @server_only
    def test_quoting_doubles_embedded_quotes_on_the_server(self):
        # Quoting alone (the name rule aside) makes exactly the name given.
        name = f'pu_sn_q"`\'x{worker_suffix()}_test'
        db = server_database("postgres" if backend() == "postgresql" else "mysql")
        db.connect()
        try:
            db.execute_sql(f"CREATE DATABASE {_names.quote_identifier(db, name)}")
            try:
                self.assertTrue(database_exists(name))
                self.assertFalse(database_exists(f"pu_sn_q{worker_suffix()}"))
            finally:
                db.execute_sql(f"DROP DATABASE {_names.quote_identifier(db, name)}")
        finally:
            db.close()
        self.assertFalse(database_exists(name))


class DerivedNameTests(unittest.TestCase):
    """Worker, rerun and bisect databases keep within the server's limit."""

    def setUp(self):
        self.folder = self.enterContext(tempfile.TemporaryDirectory())

    def test_long_bases_get_distinct_names_within_the_limit(self):
        for backend_name, limit in _names.NAME_LIMITS.items():
            base = "s" * (limit - 7) + "_test"  # fits alone; not with a suffix
            names = {_names.derived_name(base, suffix, backend_name) for suffix in ("w1", "w2", "w10", "rerun")}
            self.assertEqual(len(names), 4)
            for name in names:
                self.assertLessEqual(len(name.encode()), limit, name)
                self.assertTrue(is_test_name(name), name)
            other = "s" * (limit - 8) + "x_test"  # same cut-short head, another base
            self.assertNotEqual(_names.derived_name(other, "w1", backend_name),
                                _names.derived_name(base, "w1", backend_name))

    def test_short_names_are_unchanged(self):
        self.assertEqual(_names.derived_name("shop_test", "w1", "postgres"), "shop_test_w1")
        self.assertEqual(_names.derived_name("x" * 100, "w1", "other"), "x" * 100 + "_w1")
        exact = "a" * (63 - len("_test_w1")) + "_test"  # 63 with its suffix: fits
        self.assertEqual(_names.derived_name(exact, "w1", "postgres"), exact + "_w1")
        limit = _names.NAME_LIMITS["mysql"]
        self.assertEqual(_names.derived_name("a" * (limit - 8) + "_t", "w1", "mysql"), "a" * (limit - 8) + "_t_w1")

    def test_a_suffix_too_long_to_fit_is_refused(self):
        with self.assertRaisesRegex(Exception, "keeps only 63"):
            _names.derived_name("shop_test", "x" * 60, "postgres")

    def test_the_cut_keeps_the_last_test_word_and_the_hash_of_the_whole_base(self):
        base = "test_shop_" + "x" * 60 + "_tests"
        digest = hashlib.sha256(base.encode()).hexdigest()[:8]
        name = _names.derived_name(base, "w1", "postgres")
        self.assertEqual(name, base[:63 - len(f"_{digest}_tests_w1")] + f"_{digest}_tests_w1")
        self.assertEqual(len(name), 63)

    def test_the_longest_suffix_that_fits_leaves_one_character_of_the_base(self):
        base = "shop_test"
        suffix = "s" * (63 - len("_12345678_test_") - 1)
        self.assertTrue(_names.derived_name(base * 8, suffix, "postgres").startswith("s_"))
        with self.assertRaisesRegex(Exception, "keeps only 63"):
            _names.derived_name(base * 8, suffix + "s", "postgres")

    def test_lock_names_are_hashes_of_the_whole_name(self):
        head = "s" * 60
        self.assertNotEqual(_names.lock_name(head + "_a_test"), _names.lock_name(head + "_b_test"))
        # Two runs (of any version) must agree on it: the form is fixed.
        digest = hashlib.sha256(b"x" * 200).hexdigest()
        self.assertEqual(_names.lock_name("x" * 200), f"proper_unittest:{digest[:40]}")

    @server_only
    def test_parallel_workers_on_a_long_name_each_get_their_own_database(self):
        limit = _names.NAME_LIMITS["postgres" if backend() == "postgresql" else "mysql"]
        base = f"pu_sn_long{worker_suffix()}_"
        base += "x" * (limit - len(base) - 7) + "_test"
        # Where the old cut-short names pointed: someone's database, kept.
        planted = Planted(self, (base + "_w1")[:limit], tables=("note",))
        derived = [_names.derived_name(base, f"w{k}", _provision.safety.backend_of(server_database("x")))
                   for k in (1, 2)]
        for k, name in zip((1, 2), derived, strict=True):
            drop_database(server_database(name))
            done = run_suite(inner_app(database_config(base)), env={"PROPER_UNITTEST_WORKER": str(k)})
            self.assertEqual(done.returncode, 0, done.stderr)
            self.assertFalse(database_exists(name), "the worker removed the database it made")
        planted.assert_untouched()


class QuotedNameRunTests(unittest.TestCase):
    """Case 1: a name with a quote in it is refused, and `shop` is kept."""

    def setUp(self):
        self.folder = self.enterContext(tempfile.TemporaryDirectory())

    @server_only
    def test_quote_in_the_name_is_refused_and_shop_is_intact(self):
        shop = f"pu_sn_shop{worker_suffix()}"
        planted = Planted(self, shop)
        quote = '"--' if backend() == "postgresql" else "`#"
        done = run_suite(inner_app(database_config(f"{shop}{quote}_test")))
        self.assertNotEqual(done.returncode, 0, done.stderr)
        self.assertIn("may hold only letters, digits", done.stderr)
        self.assertNotIn("Traceback", done.stderr)
        planted.assert_untouched()

    def test_create_database_failing_drops_nothing(self):
        # Someone makes the database between the check and CREATE DATABASE
        # (the check is made to miss it): the run must not take it for its own.
        name = f"pu_sn_race{worker_suffix()}_test" + (".sqlite3" if backend() == "sqlite" else "")
        planted = Planted(self, name)
        source = inner_app(planted.config()).replace(
            "from proper_unittest import ProperTestCase",
            "from proper_unittest import ProperTestCase\n"
            "from proper_unittest.databases import provision as _provision\n"
            "_provision._exists = lambda db: False",
        )
        done = run_suite(source)
        self.assertNotEqual(done.returncode, 0, done.stderr)
        expected = "already exists and holds tables" if backend() == "sqlite" else "creating it failed"
        self.assertIn(expected, done.stderr)
        self.assertNotIn("Traceback", done.stderr)
        planted.assert_untouched()


@sqlite_only
class RunnerRefusalTests(ProjectTestCase):
    """Under the runner, each of these is one message, exit status 2, nothing touched."""

    def test_uri_and_name_refusals(self):
        prod = self.someones_database("prod.sqlite3")
        for name in (f"file:{prod}#?mode=memory", f"file:{prod}?mode=memory&mode=rw",
                     f"file:{prod}%00_test.db", str(prod.with_name("prod'_test.sqlite3"))):
            with self.subTest(name=name):
                (self.app_project / "tests/__init__.py").write_text(f"import os\nos.environ['APP_DB'] = {name!r}\n")
                proc = self.run_in_project()
                self.assertUsageError(proc, "Refusing to run tests on DATABASES['main']")
                self.assertUntouched(prod)
                self.assertEqual(sorted(p.name for p in self.app_project.glob("prod*")), ["prod.sqlite3"])

    def test_shared_memory_uri_runs(self):
        (self.app_project / "tests/__init__.py").write_text(
            "import os\nos.environ['APP_DB'] = 'file::memory:?cache=shared'\n")
        proc = self.run_in_project()
        self.assertEqual(proc.returncode, 0, proc.stderr)
