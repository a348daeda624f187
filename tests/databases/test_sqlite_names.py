"""SQLite names read the way SQLite reads them (issue 16, case 6): URIs, relative paths and
chdir()."""
import sqlite3
import tempfile
import unittest
from pathlib import Path

import peewee as pw

from proper_unittest.databases.sqlite_names import read_name, with_path
from proper_unittest.databases.safety import why_not_a_test_database

from tests.support.apps.testdb import backend
from tests.support.inner import run_suite
from tests.support.planted import Planted


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
        return run_suite(None, "-m", "unittest", "test_inner_case", folder=self.home, timeout=60,
                         env={"PU_ELSEWHERE": str(self.elsewhere), "PU_HOME": str(self.home), **env})

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
