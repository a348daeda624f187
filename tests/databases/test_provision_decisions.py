"""What the library creates, claims and removes, in this process, on real
SQLite files: a file it made is removed at exit only if it is still that
file; a file it found keeps everything but the library's tables; open
transactions end before the tables go; the marker lists the tables before
they exist; two objects on one file share one claim; one failing clean-up
step does not stop the others; a database that is not a test database is
refused before anything is made."""

import os
import sqlite3
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import peewee as pw

from proper_unittest.databases import provision as _provision
from proper_unittest.errors import UnsafeDatabaseError
from tests.support.claimed import claimed_file, release


class Note(pw.Model):
    title = pw.CharField()

    class Meta:
        table_name = "pu_prov_note"


class Tag(pw.Model):
    name = pw.CharField()

    class Meta:
        table_name = "pu_prov_tag"


class Broken(pw.Model):
    """Its table cannot be created (a CHECK that is not SQL)."""

    name = pw.CharField(constraints=[pw.SQL("CHECK (")])

    class Meta:
        table_name = "pu_prov_broken"


def tables_in(path: str) -> list[str]:
    """The tables of the SQLite file at `path`, read without the library."""
    connection = sqlite3.connect(path)
    try:
        return sorted(row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
    finally:
        connection.close()


def marker_of(path: str) -> list[tuple[str, str]]:
    connection = sqlite3.connect(path)
    try:
        return sorted(connection.execute(f"SELECT kind, value FROM {_provision.MARKER_TABLE}").fetchall())
    finally:
        connection.close()


class ProvisionTestCase(unittest.TestCase):
    def setUp(self):
        self.folder = self.enterContext(tempfile.TemporaryDirectory())
        # The files are named as given, in a folder of this test's own, also
        # when the suite runs in parallel workers (which add "_wK" to names).
        self.enterContext(mock.patch.dict(os.environ))
        for name in _provision.WORKER_ENVS:
            os.environ.pop(name, None)

    def path(self, name: str) -> str:
        return str(Path(self.folder, name))

    def found_file(self, name: str, *sql: str) -> str:
        """A SQLite file someone else made (holding `sql`'s tables and rows)."""
        path = self.path(name)
        connection = sqlite3.connect(path)
        for statement in sql:
            connection.execute(statement)
        connection.commit()
        connection.close()
        return path


class CreatedFileTests(ProvisionTestCase):
    def test_a_file_it_made_is_marked_created_and_removed_at_exit(self):
        db = claimed_file(self, self.folder, "made_test.sqlite3", [Note])
        self.assertEqual(_provision.created_tables(db), ["pu_prov_note"])
        self.assertIn(("created", "1"), marker_of(db.database))
        self.assertIn(("table", "pu_prov_note"), marker_of(db.database))
        release(db)
        self.assertFalse(os.path.exists(db.database))

    def test_a_file_replaced_since_is_left_alone(self):
        db = claimed_file(self, self.folder, "replaced_test.sqlite3", [Note])
        db.close()
        os.unlink(db.database)
        Path(db.database).write_text("someone else's")
        release(db)
        self.assertEqual(Path(db.database).read_text(), "someone else's")

    def test_kept_with_keepdb(self):
        db = claimed_file(self, self.folder, "kept_test.sqlite3", [Note])
        with mock.patch.dict(os.environ, {_provision.KEEPDB_ENV: "1"}):
            release(db)
        self.assertTrue(db.is_closed())
        self.assertEqual(tables_in(db.database), [_provision.MARKER_TABLE, "pu_prov_note"])

    def test_a_relative_path_is_made_absolute_when_claimed(self):
        cwd = os.getcwd()
        os.chdir(self.folder)
        self.addCleanup(os.chdir, cwd)
        db = claimed_file(self, "", "relative_test.sqlite3", [Note])
        self.assertEqual(db.database, os.path.join(os.getcwd(), "relative_test.sqlite3"))
        os.chdir(cwd)
        release(db)
        self.assertFalse(os.path.exists(db.database))


class FoundFileTests(ProvisionTestCase):
    def test_only_the_librarys_tables_and_marker_go(self):
        path = self.found_file("found_test.sqlite3")
        db = claimed_file(self, self.folder, "found_test.sqlite3", [Note])
        self.assertIn(("created", "0"), marker_of(path))
        db.execute_sql("CREATE TABLE made_by_a_test (x)")
        release(db)
        self.assertTrue(os.path.exists(path))
        self.assertEqual(tables_in(path), ["made_by_a_test"])

    def test_open_transactions_end_before_the_tables_are_dropped(self):
        path = self.found_file("open_test.sqlite3")
        db = claimed_file(self, self.folder, "open_test.sqlite3", [Note])
        db.atomic().__enter__()  # a run stopped mid-test
        Note.create(title="uncommitted")
        db.atomic().__enter__()
        release(db)
        self.assertEqual(tables_in(path), [])

    def test_a_file_with_tables_and_no_marker_is_refused_untouched(self):
        path = self.found_file("prod_like_test.sqlite3", "CREATE TABLE customer (name)",
                               "INSERT INTO customer VALUES ('kept')")
        with self.assertRaises(UnsafeDatabaseError) as raised:
            claimed_file(self, self.folder, "prod_like_test.sqlite3", [Note])
        self.assertIn("holds tables (customer) but no 'proper_unittest_marker' table", str(raised.exception))
        self.assertEqual(tables_in(path), ["customer"])

    def test_a_clash_with_a_table_it_did_not_make_is_refused(self):
        path = self.found_file("clash_test.sqlite3")
        first = claimed_file(self, self.folder, "clash_test.sqlite3", [Note])
        release(first)
        connection = sqlite3.connect(path)
        connection.execute(f"CREATE TABLE {_provision.MARKER_TABLE} (kind, value)")
        connection.execute("CREATE TABLE pu_prov_tag (name)")
        connection.commit()
        connection.close()
        with self.assertRaises(UnsafeDatabaseError):
            claimed_file(self, self.folder, "clash_test.sqlite3", [Tag])
        self.assertEqual(tables_in(path), [_provision.MARKER_TABLE, "pu_prov_tag"])


class MarkerFirstTests(ProvisionTestCase):
    def test_the_marker_lists_the_tables_before_they_are_created(self):
        path = self.found_file("half_test.sqlite3")
        with self.assertRaises(pw.OperationalError):
            claimed_file(self, self.folder, "half_test.sqlite3", [Note, Broken])
        self.assertIn(("table", "pu_prov_broken"), marker_of(path))
        self.assertIn(("table", "pu_prov_note"), marker_of(path))


class SharedClaimTests(ProvisionTestCase):
    def test_two_objects_on_one_file_share_its_claim(self):
        db = claimed_file(self, self.folder, "shared_test.sqlite3", [Note])
        twin = claimed_file(self, self.folder, "shared_test.sqlite3", [Tag])
        self.assertEqual(_provision.created_tables(twin), ["pu_prov_note", "pu_prov_tag"])
        self.assertEqual(tables_in(db.database), [_provision.MARKER_TABLE, "pu_prov_note", "pu_prov_tag"])
        self.assertIn(("created", "1"), marker_of(db.database))
        claims = [_provision._claims.pop(id(d)) for d in (db, twin)]
        _provision._release(claims)
        self.assertFalse(os.path.exists(db.database))


class ReleaseTests(ProvisionTestCase):
    def test_a_failing_step_does_not_stop_the_others(self):
        broken_folder = Path(self.folder, "gone")
        broken_folder.mkdir()
        self.found_file("gone/a_test.sqlite3")
        first = claimed_file(self, str(broken_folder), "a_test.sqlite3", [Note])
        second_path = self.found_file("b_test.sqlite3")
        second = claimed_file(self, self.folder, "b_test.sqlite3", [Tag])
        first.close()
        for name in os.listdir(broken_folder):
            os.unlink(broken_folder / name)
        broken_folder.rmdir()  # its clean-up cannot even connect
        claims = [_provision._claims.pop(id(d)) for d in (first, second)]
        _provision._release(claims)
        self.assertEqual(tables_in(second_path), [])
        self.assertTrue(second.is_closed())
