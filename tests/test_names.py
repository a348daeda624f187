"""Names read the way the server reads them (issue 16, cases 1, 2, 6, 7, 8):
quotes in database names, SQLite URIs, relative paths and chdir(), long
derived names. Each run-level test plants a sentinel that must survive."""
import hashlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

import peewee as pw

from proper_unittest import _names, _provision
from proper_unittest._sqlite_names import read_name, with_path
from proper_unittest.safety import is_test_name, why_not_a_test_database
from tests.apps.testdb import backend, database_config
from tests.inner import REPO, run_in_subprocess
from tests.servers import database_exists, drop_database, server_database, worker_suffix
from tests.test_runner_project import ProjectTestCase
from tests.test_safety import Planted, inner_app

server_only = unittest.skipIf(backend() == "sqlite", "server databases only")
sqlite_only = unittest.skipUnless(backend() == "sqlite", "SQLite files only")


class UriTests(unittest.TestCase):
    """SQLite itself is the oracle: what it really opens (PRAGMA
    database_list) is what the library reads, or the name is refused."""

    def setUp(self):
        self.folder = self.enterContext(tempfile.TemporaryDirectory())

    def opened_by_sqlite(self, uri: str) -> str | None:
        """The file SQLite opens for `uri` ("" in memory), None if it refuses."""
        try:
            connection = sqlite3.connect(uri, uri=True)
        except sqlite3.Error:
            return None
        try:
            connection.execute("CREATE TABLE IF NOT EXISTS probe (x)")
            return connection.execute("PRAGMA database_list").fetchall()[0][2]
        except sqlite3.Error:
            return None
        finally:
            connection.close()

    def test_the_library_reads_what_sqlite_opens(self):
        d = self.folder
        uris = [
            f"file:{d}/a.db", f"file:{d}/a.db#?mode=memory", f"file:{d}/a.db?mode=memory&mode=rw",
            f"file:{d}/b.db?mode=rw&mode=memory", f"file:{d}/p.sqlite3%00_test.db", f"file:{d}/p%2Esqlite3",
            f"file:{d}/q.db?%00mode=memory", f"file:{d}/q.db?mode=mem%00ory", f"file:{d}/q.db?mode%00=memory",
            f"file:{d}/q.db?=memory&mode=memory", f"file:{d}/q.db?&mode=memory", f"file:{d}/q.db?mode&x=1",
            f"file:{d}/q.db?x=1&&mode=memory", "file::memory:?cache=shared", "file:x?mode=memory&cache=shared",
            f"file://localhost{d}/l.db", f"file://evil{d}/l.db", f"file:{d}/v.db?mode=MEMORY",
            f"file:{d}/w%23x.db", f"file:{d}/w%3Fx.db?mode=memory", f"file:{d}/y.db?mode=memory%00",
            f"file:{d}/z.db?mode=memo%72y", f"file:{d}/z.db?mode=memory#&mode=rw", "file:",
            f"file:{d}/%zz.db", f"file:{d}/%4.db", f"file:{d}/k.db?mode=memory&%00=rw",
            f"file:{d}/k.db?mode=memory&mode%00x=rwc", f"file:{d}/h.db?mode=memory&mode=rwc%00x",
            f"file:{d}/%C3%A9.db", f"file:{d}/n.db?cache=shared&mode=ro&mode=rwc", f"file:{d}/o.db?mode=rw&mode=memory&mode=rwc",
            f"file:{d}/o.db?mode=rwc&mode=ro", f"file:{d}/a.db?mode=memory&mode=ro",
        ]
        for uri in uris:
            with self.subTest(uri=uri.replace(d, "D")):
                read = read_name(uri, uri=True)
                opened = self.opened_by_sqlite(uri)
                if opened is None:
                    self.assertIsNotNone(read.problem, "SQLite refuses it: so must the library")
                    continue
                self.assertIsNone(read.problem)
                self.assertEqual(read.in_memory, opened == "")
                self.assertEqual(read.path, opened)

    def test_what_cannot_be_vouched_for_is_refused(self):
        for uri in (f"file:{self.folder}/r_test.db?vfs=unix", "file:x_test.db?mode=bogus",
                    "file://example.com/x_test.db", "file:%FF_test.db"):
            with self.subTest(uri=uri):
                problem = why_not_a_test_database(pw.SqliteDatabase(uri, uri=True))
                self.assertIn("cannot be read for sure", problem or "")

    def test_cases_of_the_issue(self):
        refused = ["file:/data/prod.sqlite3#?mode=memory", "file:/data/prod.sqlite3?mode=memory&mode=rw",
                   "file:prod.sqlite3%00_test.db", "/srv/tests/prod.sqlite3", "shop'--_test.sqlite3",
                   "my app_test.db", "file:notes%20_test.db"]
        accepted = ["file::memory:?cache=shared", "file:shared?mode=memory&cache=shared", ":memory:",
                    "file:/srv/app/notes_test.db?mode=rw", "/srv/my folder/notes_test.sqlite3",
                    "file:/srv/my%20folder/notes_test.sqlite3"]
        for name in refused + accepted:
            with self.subTest(name=name):
                problem = why_not_a_test_database(pw.SqliteDatabase(name, uri=True))
                self.assertEqual(problem is None, name in accepted, problem)

    def test_with_path_keeps_the_options_and_quotes_the_path(self):
        read = read_name("file:rel_test.db?mode=rwc&cache=shared#x", uri=True)
        name = with_path(read, "/srv/a #?%/rel_test.db")
        again = read_name(name, uri=True)
        self.assertEqual((again.path, again.query), ("/srv/a #?%/rel_test.db", "mode=rwc&cache=shared"))
        self.assertEqual(with_path(read_name("plain_test.db", uri=False), "/x/plain_test.db"), "/x/plain_test.db")


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
        self.assertEqual(_provision.quote_table(pw.MySQLDatabase("x"), "s.t"), "`s.t`")

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
            done = run_in_subprocess(inner_app(database_config(base)), env={"PROPER_UNITTEST_WORKER": str(k)})
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
        done = run_in_subprocess(inner_app(database_config(f"{shop}{quote}_test")))
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
            "from proper_unittest import ProperTestCase, _provision\n_provision._exists = lambda db: False",
        )
        done = run_in_subprocess(source)
        self.assertNotEqual(done.returncode, 0, done.stderr)
        expected = "already exists and holds tables" if backend() == "sqlite" else "creating it failed"
        self.assertIn(expected, done.stderr)
        self.assertNotIn("Traceback", done.stderr)
        planted.assert_untouched()


RELATIVE_APP = '''
import os
import peewee as pw
from proper import App
from proper_unittest import ProperTestCase

app = App(__name__, config={"SECRET_KEYS": ["s" * 64],
                            "DATABASES": {"main": {"type": "peewee.SqliteDatabase", "database": "notes_test.sqlite3"}}})


class Note(pw.Model):
    title = pw.CharField()

    class Meta:
        database = app.db["main"]
        table_name = "pu_note"


class ChdirTests(ProperTestCase):
    app = app

    def test_1_goes_elsewhere(self):
        Note.create(title="x")
        os.chdir(os.environ["PU_ELSEWHERE"])
        if os.environ.get("PU_REPLACE"):  # the library's file replaced by someone's
            own = os.path.join(os.environ["PU_HOME"], "notes_test.sqlite3")
            os.remove(own)
            import sqlite3
            connection = sqlite3.connect(own)
            connection.execute("CREATE TABLE note (id INTEGER PRIMARY KEY, title VARCHAR(50))")
            connection.execute("INSERT INTO note VALUES (1, 'production data')")
            connection.commit()
            connection.close()

    def test_2_still_the_same_database(self):
        self.assertEqual(Note.select().count(), 0)
'''


class RelativePathTests(unittest.TestCase):
    """Case 6: a relative SQLite path, and a test that chdir()s away."""

    def setUp(self):
        self.folder = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.home = self.folder / "home"
        self.elsewhere = self.folder / "elsewhere"
        self.home.mkdir()
        self.elsewhere.mkdir()
        (self.home / "test_inner_case.py").write_text(RELATIVE_APP)
        self.planted = Planted(self, str(self.elsewhere / "notes_test.sqlite3")) if backend() == "sqlite" else None

    def run_home(self, **env):
        child_env = {**os.environ, "PYTHONPATH": str(REPO), "PU_ELSEWHERE": str(self.elsewhere),
                     "PU_HOME": str(self.home), **env}
        child_env.pop("PROPER_UNITTEST_WORKER", None)
        return subprocess.run([sys.executable, "-m", "unittest", "test_inner_case"], cwd=self.home,
                              env=child_env, capture_output=True, text=True, timeout=60)

    @sqlite_only
    def test_its_own_file_is_removed_and_the_other_folders_is_kept(self):
        done = self.run_home()
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertFalse((self.home / "notes_test.sqlite3").exists(), "its own file, removed")
        self.planted.assert_untouched()

    @sqlite_only
    def test_a_file_that_replaced_its_own_is_kept(self):
        done = self.run_home(PU_REPLACE="1")
        replaced = sqlite3.connect(self.home / "notes_test.sqlite3")
        self.addCleanup(replaced.close)
        self.assertEqual(replaced.execute("SELECT id, title FROM note").fetchall(), [(1, "production data")])
        self.planted.assert_untouched()
        self.assertIn("Ran 2 tests", done.stderr)


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

