"""What the library creates, claims and removes, in this process, on real
SQLite files: a file it made is removed at exit only if it is still that
file; a file it found keeps everything but the library's tables; open
transactions end before the tables go; the marker lists the tables before
they exist; two objects on one file share one claim; one failing clean-up
step does not stop the others; a database that is not a test database is
refused before anything is made. Then what mutation testing asked for:
--keepdb reuse and rebuild, clashes when two objects share a file, the
refusal's table list, links, what a dead process noted, and on the servers
foreign keys, views, PostgreSQL schemas, sessions and invalid databases."""

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import warnings
import sqlite3
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import peewee as pw
from playhouse.sqlite_ext import AutoIncrementField

from proper_unittest.databases import creations, provision as _provision, run_lock
from proper_unittest.errors import ConfigurationError, UnsafeDatabaseError
from tests.support.claimed import claimed, claimed_file, claimed_server_database, own_name, release
from tests.support.apps.testdb import backend
from tests.support.servers import database_exists, drop_database, scratch_database, server_database


class Note(pw.Model):
    title = pw.CharField()

    class Meta:
        table_name = "pu_prov_note"


class Tag(pw.Model):
    name = pw.CharField()

    class Meta:
        table_name = "pu_prov_tag"


class Reply(pw.Model):
    """Refers to Note: its table must go first, or foreign key checks be off."""

    note = pw.ForeignKeyField(Note)

    class Meta:
        table_name = "pu_prov_reply"


class UniqueNote(pw.Model):
    """Note's table with a unique title: the same columns, another schema."""

    title = pw.CharField(unique=True)

    class Meta:
        table_name = "pu_prov_note"


class Counted(pw.Model):
    """Ids from SQLite's sqlite_sequence (AUTOINCREMENT)."""

    id = AutoIncrementField()

    class Meta:
        table_name = "pu_prov_counted"


class Dotted(pw.Model):
    """A table whose name holds a dot (one name, no schema)."""

    name = pw.CharField()

    class Meta:
        table_name = "pu_prov.dotted"


class InSchema(pw.Model):
    """A table in a PostgreSQL schema of its own (which the library makes)."""

    name = pw.CharField()

    class Meta:
        table_name = "pu_prov_in_schema"
        schema = "pu_prov_schema"


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
        umask = os.umask(0)
        os.umask(umask)
        self.assertEqual(os.stat(db.database).st_mode & 0o777, 0o644 & ~umask)
        release(db)
        self.assertFalse(os.path.exists(db.database))

    def test_a_file_replaced_since_is_left_alone(self):
        db = claimed_file(self, self.folder, "replaced_test.sqlite3", [Note])
        db.close()
        os.unlink(db.database)
        Path(db.database).write_text("someone else's")
        release(db)
        self.assertEqual(Path(db.database).read_text(), "someone else's")

    def test_a_file_moved_in_is_left_alone_whatever_its_inode(self):
        # Identities are compared for equality: a file numbered below the
        # file made and one above are both someone else's.
        made_before = [self.spare(f"before_{n}") for n in range(20)]
        for side in ("below", "above"):
            with self.subTest(side=side):
                db = claimed_file(self, self.folder, f"moved_{side}_test.sqlite3", [Note])
                db.close()
                made = os.stat(db.database).st_ino
                if side == "below":
                    moved = min(made_before, key=lambda path: os.stat(path).st_ino)
                else:
                    moved = next(path for path in (self.spare(f"after_{n}") for n in range(1000))
                                 if os.stat(path).st_ino > made)
                self.assertEqual(os.stat(moved).st_ino < made, side == "below", "no such file to move in")
                os.replace(moved, db.database)
                release(db)
                self.assertEqual(Path(db.database).read_text(), f"someone else's {Path(moved).name}")

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

    def spare(self, name: str) -> str:
        Path(self.path(name)).write_text(f"someone else's {name}")
        return self.path(name)


class LeftByAKilledRunTests(ProvisionTestCase):
    """A file a run created and was stopped before it could mark: the next
    run takes it over (marks it, notes it, removes it at exit)."""

    def setUp(self):
        super().setUp()
        os.environ[creations.STATE_DIR_ENV] = self.path("state")
        self.notes = self.path("created.jsonl")
        _provision.note_created_in(self.notes)
        self.addCleanup(_provision.note_created_in, None)

    def created_by_a_process_that_ended(self, name: str) -> str:
        """What a run does first with a file it does not find, in a
        process that ends right after (before any marker)."""
        path = self.path(name)
        code = ("import sys, peewee as pw; from proper_unittest.databases import provision as p; "
                "db = pw.SqliteDatabase(sys.argv[1]); p._create_file(db, p.Claim(db))")
        subprocess.run([sys.executable, "-c", code, path], check=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
        return path

    def test_it_is_taken_over_and_removed_at_exit(self):
        path = self.created_by_a_process_that_ended("left_test.sqlite3")
        self.assertEqual(tables_in(path), [])
        with contextlib.redirect_stderr(io.StringIO()) as said:
            db = claimed_file(self, self.folder, "left_test.sqlite3", [Note])
        self.assertIn("'left_test.sqlite3' was created by a test run that was stopped before it could "
                      "prepare it: it is this run's to remove.", said.getvalue())
        self.assertIn(("created", "1"), marker_of(path))
        self.assertEqual(_provision.noted_created_databases(self.notes), ["left_test.sqlite3"])
        self.assertEqual(os.listdir(self.path("state")), [], "the record goes once the marker says it")
        release(db)
        self.assertFalse(os.path.exists(path))

    def test_a_file_put_in_its_place_is_not_taken_over(self):
        path = self.created_by_a_process_that_ended("put_test.sqlite3")
        os.rename(path, f"{path}.kept")  # (its inode is not free for the next file)
        sqlite3.connect(path).close()  # someone else's empty file, same name
        with contextlib.redirect_stderr(io.StringIO()) as said:
            release(claimed_file(self, self.folder, "put_test.sqlite3", [Note]))
        self.assertEqual(said.getvalue(), "")
        self.assertEqual(tables_in(path), [])


class TwoFilesTests(ProvisionTestCase):
    def test_one_already_prepared_does_not_stop_the_next(self):
        first = claimed_file(self, self.folder, "first_test.sqlite3", [Note])
        second = pw.SqliteDatabase(self.path("second_test.sqlite3"))
        self.addCleanup(release, second)
        _provision.prepare_databases([first, second])
        self.assertTrue(os.path.exists(second.database))

    def test_an_unreachable_server_is_said(self):
        db = pw.PostgresqlDatabase("unreachable_test", host="127.0.0.1", port=1)
        with self.assertRaises(ConfigurationError) as raised:
            _provision.prepare_databases([db])
        self.assertIn("Cannot reach the database server for 'unreachable_test'", str(raised.exception))

    def test_each_file_has_its_own_claim(self):
        first = claimed_file(self, self.folder, "a_test.sqlite3", [Note])
        second = claimed_file(self, self.folder, "b_test.sqlite3", [Tag])
        self.assertEqual(_provision.created_tables(second), ["pu_prov_tag"])
        release(first)
        release(second)
        self.assertEqual(os.listdir(self.folder), [])

    def test_a_dangling_link_is_not_taken_for_a_file_it_made(self):
        os.symlink(self.path("target_test.sqlite3"), self.path("link_test.sqlite3"))
        db = claimed_file(self, self.folder, "link_test.sqlite3", [Note])
        self.assertIn(("created", "0"), marker_of(db.database))
        release(db)
        self.assertTrue(os.path.islink(self.path("link_test.sqlite3")))
        self.assertEqual(tables_in(self.path("target_test.sqlite3")), [])


class FoundFileTests(ProvisionTestCase):
    def test_only_the_librarys_tables_and_marker_go(self):
        path = self.found_file("found_test.sqlite3")
        db = claimed_file(self, self.folder, "found_test.sqlite3", [Note])
        self.assertIn(("created", "0"), marker_of(path))
        db.execute_sql("CREATE TABLE made_by_a_test (x)")
        release(db)
        self.assertTrue(os.path.exists(path))
        self.assertEqual(tables_in(path), ["made_by_a_test"])

    def test_a_table_whose_name_holds_a_dot_goes_too(self):
        path = self.found_file("dotted_test.sqlite3")
        release(claimed_file(self, self.folder, "dotted_test.sqlite3", [Dotted]))
        self.assertEqual(tables_in(path), [])

    def test_a_test_name_linked_to_a_file_that_is_not_a_test_files_is_refused(self):
        target = self.found_file("production.sqlite3")
        os.symlink(target, self.path("linked_test.sqlite3"))
        with self.assertRaises(UnsafeDatabaseError):
            claimed_file(self, self.folder, "linked_test.sqlite3", [Note])
        self.assertEqual(tables_in(target), [])

    def test_open_transactions_end_before_the_tables_are_dropped(self):
        path = self.found_file("open_test.sqlite3")
        db = claimed_file(self, self.folder, "open_test.sqlite3", [Note])
        db.atomic().__enter__()  # a run stopped mid-test
        Note.create(title="uncommitted")
        db.atomic().__enter__()
        release(db)
        self.assertEqual(tables_in(path), [])
        self.assertTrue(db.is_closed())

    def test_an_adopted_file_keeps_its_tables_but_the_clashing_ones(self):
        path = self.found_file("adopted_test.sqlite3", "CREATE TABLE customer (name)",
                               "INSERT INTO customer VALUES ('kept')", "CREATE TABLE pu_prov_note (old)")
        with mock.patch.dict(os.environ, {_provision.ADOPT_ENV: "other_test.db, adopted_test.sqlite3"}):
            db = claimed_file(self, self.folder, "adopted_test.sqlite3", [Note])
        self.assertEqual([c.name for c in db.get_columns("pu_prov_note")], ["id", "title"])
        release(db)
        self.assertEqual(tables_in(path), ["customer"])

    def test_an_in_memory_database_is_claimed_and_used(self):
        db = claimed(self, pw.SqliteDatabase(":memory:"), [Note])
        Note.create(title="kept in memory")
        self.assertEqual(Note.select().count(), 1)
        self.assertEqual(_provision.created_tables(db), ["pu_prov_note"])

    def test_an_in_memory_database_connected_before_keeps_its_connection(self):
        # (A new connection would be a new, empty database.)
        db = pw.SqliteDatabase(":memory:")
        db.connect()
        db.execute_sql("CREATE TABLE made_before (x)")
        claimed(self, db, [Note])
        self.assertEqual(db.get_tables(), ["made_before", "pu_prov_note"])

    def test_the_plain_connection_of_a_pooled_database_is_not_pooled(self):
        from playhouse.pool import PooledSqliteDatabase  # noqa: PLC0415 - only here

        plain = _provision.plain_connection(PooledSqliteDatabase(self.path("pooled_test.sqlite3")))
        self.assertIs(type(plain), pw.SqliteDatabase)
        self.assertEqual(plain.database, self.path("pooled_test.sqlite3"))

    def test_a_marker_without_its_created_row_proves_nothing_made(self):
        path = self.found_file("unsaid_test.sqlite3", f"CREATE TABLE {_provision.MARKER_TABLE} (kind, value)",
                               f"INSERT INTO {_provision.MARKER_TABLE} VALUES ('table', 'pu_prov_note')")
        release(claimed_file(self, self.folder, "unsaid_test.sqlite3", [Note]))
        self.assertTrue(os.path.exists(path))
        self.assertEqual(tables_in(path), [])

    def test_its_connection_may_be_used_from_another_thread(self):
        db = claimed_file(self, self.folder, "threads_test.sqlite3", [Note])
        connection = db.connection()
        answers = []
        thread = threading.Thread(target=lambda: answers.append(connection.execute("SELECT 1").fetchone()))
        thread.start()
        thread.join()
        self.assertEqual(answers, [(1,)])

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


class FoundAndKeptTests(ProvisionTestCase):
    def test_a_file_it_found_and_kept_is_still_not_its_own_the_next_time(self):
        path = self.found_file("found_kept_test.sqlite3", "CREATE TABLE customer (name)",
                               "INSERT INTO customer VALUES ('kept')")
        with mock.patch.dict(os.environ, {_provision.KEEPDB_ENV: "1", _provision.ADOPT_ENV: "found_kept_test.sqlite3"}):
            release(claimed_file(self, self.folder, "found_kept_test.sqlite3", [Note]))
        self.assertIn(("created", "0"), marker_of(path))
        release(claimed_file(self, self.folder, "found_kept_test.sqlite3", [Note]))
        self.assertEqual(tables_in(path), ["customer"])


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


class MarkedTablesTests(ProvisionTestCase):
    def test_tables_its_marker_lists_are_not_clashes(self):
        # An earlier run's marker lists both tables; only one was made before it stopped.
        path = self.found_file("earlier_test.sqlite3", "CREATE TABLE pu_prov_note (title)",
                               f"CREATE TABLE {_provision.MARKER_TABLE} (kind, value)",
                               f"INSERT INTO {_provision.MARKER_TABLE} VALUES ('created', '0'), "
                               "('table', 'pu_prov_note'), ('table', 'pu_prov_tag')")
        db = claimed_file(self, self.folder, "earlier_test.sqlite3", [Note, Tag])
        self.assertEqual(_provision.created_tables(db), ["pu_prov_note", "pu_prov_tag"])
        self.assertEqual(tables_in(path), [_provision.MARKER_TABLE, "pu_prov_note", "pu_prov_tag"])

    def test_a_second_object_may_share_a_model_with_the_first(self):
        db = claimed_file(self, self.folder, "twins_test.sqlite3", [Note])
        twin = claimed_file(self, self.folder, "twins_test.sqlite3", [Note, Tag])
        self.assertEqual(_provision.created_tables(twin), ["pu_prov_note", "pu_prov_tag"])
        self.assertEqual(tables_in(db.database), [_provision.MARKER_TABLE, "pu_prov_note", "pu_prov_tag"])

    def test_a_second_object_is_refused_a_table_made_by_someone_else(self):
        db = claimed_file(self, self.folder, "twin_clash_test.sqlite3", [Note])
        db.execute_sql("CREATE TABLE pu_prov_tag (name)")
        db.execute_sql("INSERT INTO pu_prov_tag VALUES ('kept')")
        with self.assertRaises(UnsafeDatabaseError) as raised:
            claimed_file(self, self.folder, "twin_clash_test.sqlite3", [Tag])
        self.assertIn("holds table(s) pu_prov_tag that the models need", str(raised.exception))
        self.assertEqual(db.execute_sql("SELECT name FROM pu_prov_tag").fetchall(), [("kept",)])


class RefusalMessageTests(ProvisionTestCase):
    def test_five_tables_are_named_and_more_are_counted(self):
        for count, listed in ((5, "t0, t1, t2, t3, t4"), (6, "t0, t1, t2, t3, t4 and 1 more"),
                              (12, "t0, t1, t10, t11, t2 and 7 more")):
            name = f"many{count}_test.sqlite3"
            self.found_file(name, *(f"CREATE TABLE t{i} (x)" for i in range(count)))
            with self.assertRaises(UnsafeDatabaseError) as raised:
                claimed_file(self, self.folder, name, [Note])
            self.assertIn(f"holds tables ({listed}) but no", str(raised.exception))


class KeptFileTests(ProvisionTestCase):
    """--keepdb: kept tables are reused (emptied) while the schema matches."""

    def kept_file(self, name: str) -> str:
        os.environ[_provision.KEEPDB_ENV] = "1"
        db = claimed_file(self, self.folder, name, [Note])
        Note.create(title="from the last run")
        db.execute_sql("CREATE INDEX pu_prov_by_hand ON pu_prov_note (title)")
        release(db)
        return db.database

    def indexes_of(self, path: str) -> list[str]:
        connection = sqlite3.connect(path)
        try:
            return [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'")]
        finally:
            connection.close()

    def test_the_same_schema_is_reused_and_emptied(self):
        path = self.kept_file("reused_test.sqlite3")
        claimed_file(self, self.folder, "reused_test.sqlite3", [Note])
        self.assertEqual(Note.select().count(), 0)
        self.assertEqual(self.indexes_of(path), ["pu_prov_by_hand"])

    def test_a_file_an_earlier_run_made_is_removed_by_the_next_run_without_keepdb(self):
        # The marker's "created" row is read back past its "schema" row.
        path = self.kept_file("earlier_test.sqlite3")
        self.assertIn(("created", "1"), marker_of(path))
        os.environ.pop(_provision.KEEPDB_ENV)
        release(claimed_file(self, self.folder, "earlier_test.sqlite3", [Note]))
        self.assertFalse(os.path.exists(path))

    def test_ids_start_again(self):
        os.environ[_provision.KEEPDB_ENV] = "1"
        db = claimed_file(self, self.folder, "counted_test.sqlite3", [Counted])
        Counted.create()
        Counted.create()
        release(db)
        claimed_file(self, self.folder, "counted_test.sqlite3", [Counted])
        self.assertEqual(Counted.create().id, 1)

    def test_a_table_changed_by_hand_is_rebuilt_and_said(self):
        path = self.kept_file("changed_test.sqlite3")
        connection = sqlite3.connect(path)
        connection.execute("DROP INDEX pu_prov_by_hand")
        connection.execute("ALTER TABLE pu_prov_note ADD COLUMN added_by_hand")
        connection.execute("ALTER TABLE pu_prov_note DROP COLUMN title")
        connection.commit()
        connection.close()
        with contextlib.redirect_stderr(io.StringIO()) as said:
            claimed_file(self, self.folder, "changed_test.sqlite3", [Note])
        self.assertIn("'changed_test.sqlite3' no longer match the models (table pu_prov_note: "
                      "extra column(s) added_by_hand; missing column(s) title): rebuilding them.", said.getvalue())
        self.assertEqual([c.name for c in Note._meta.database.get_columns("pu_prov_note")], ["id", "title"])

    def test_a_kept_table_dropped_by_hand_is_made_again(self):
        path = self.kept_file("dropped_test.sqlite3")
        connection = sqlite3.connect(path)
        connection.execute("DROP TABLE pu_prov_note")
        connection.close()
        with contextlib.redirect_stderr(io.StringIO()) as said:
            claimed_file(self, self.folder, "dropped_test.sqlite3", [Note])
        self.assertEqual(Note.select().count(), 0)
        self.assertEqual(said.getvalue(), "")  # not taken for a table changed by hand

    def test_a_model_with_a_new_index_is_rebuilt(self):
        path = self.kept_file("indexed_test.sqlite3")
        claimed_file(self, self.folder, "indexed_test.sqlite3", [UniqueNote])
        self.assertEqual(self.indexes_of(path), ["uniquenote_title"])

    def test_another_schema_is_rebuilt(self):
        path = self.kept_file("rebuilt_test.sqlite3")
        connection = sqlite3.connect(path)
        connection.execute(f"UPDATE {_provision.MARKER_TABLE} SET value = 'older' WHERE kind = 'schema'")
        connection.commit()
        connection.close()
        claimed_file(self, self.folder, "rebuilt_test.sqlite3", [Note])
        self.assertEqual(Note.select().count(), 0)
        self.assertEqual(self.indexes_of(path), [])


class ServerDropTests(unittest.TestCase):
    """On TEST_DATABASE_URL's server (skipped on SQLite)."""

    def test_a_dead_runs_database_is_dropped_only_if_empty_or_marked_as_made(self):
        # What a run that died noted as made: someone else's now (tables
        # and no marker, or a marker saying it was found) is kept; an empty
        # one is dropped.
        if backend() == "sqlite":
            self.skipTest("TEST_DATABASE_URL is SQLite")
        notes = os.path.join(self.enterContext(tempfile.TemporaryDirectory()), "created.jsonl")
        marker = _provision.MARKER_TABLE
        for purpose, sql in (("prov_noted_full", ["CREATE TABLE pu_prov_sentinel (x INT)"]),
                             ("prov_noted_found", [f"CREATE TABLE {marker} (kind VARCHAR(20), value VARCHAR(255))",
                                                   f"INSERT INTO {marker} VALUES ('created', '0')"]),
                             ("prov_noted_empty", [])):
            with self.subTest(purpose=purpose):
                found = scratch_database(own_name(purpose))
                self.addCleanup(drop_database, server_database(found.database))
                for statement in sql:
                    found.execute_sql(statement)
                found.close()
                plain = _provision.plain_connection(found)
                entry = {"class": f"peewee:{type(plain).__name__}", "created": True, "database": plain.database,
                         "params": plain.connect_params, "file": None}
                Path(notes).write_text(json.dumps(entry) + "\n", encoding="utf-8")
                _provision.drop_created_databases(notes)
                self.assertEqual(database_exists(found.database), bool(sql))

    def test_a_database_another_run_holds_is_kept(self):
        db = claimed_server_database(self, "prov_held", [Note])
        self.addCleanup(drop_database, server_database(db.database))
        db.close()
        run_lock.let_go(db)
        other_run = _provision.plain_connection(db)
        other_run.connect()
        self.assertTrue(run_lock.try_lock(other_run, db.database))
        release(db)
        self.assertTrue(database_exists(db.database))
        other_run.close()

    def test_its_run_lock_is_held_from_the_claim(self):
        db = claimed_server_database(self, "prov_locked", [Note])
        probe = _provision.plain_connection(db)
        probe.connect()
        self.addCleanup(probe.close)
        self.assertFalse(run_lock.try_lock(probe, db.database))

    def test_a_database_it_made_is_dropped_while_another_session_is_open(self):
        db = claimed_server_database(self, "prov_drop", [Note])
        self.addCleanup(drop_database, server_database(db.database))
        other = server_database(db.database)
        other.connect()
        self.addCleanup(other.close)
        release(db)
        self.assertFalse(database_exists(db.database))


class MissingFolderTests(ProvisionTestCase):
    def test_a_file_that_cannot_be_made_is_refused(self):
        with self.assertRaises(UnsafeDatabaseError) as raised:
            claimed_file(self, self.path("no_such_folder"), "nowhere_test.sqlite3", [Note])
        self.assertIn("'nowhere_test.sqlite3': its file cannot be created (No such file or directory: ",
                      str(raised.exception))
        self.assertEqual(os.listdir(self.folder), [])


class NotedTests(ProvisionTestCase):
    """What a process notes for the runner, and what the runner drops from it."""

    def setUp(self):
        super().setUp()
        self.notes = self.path("created.jsonl")
        _provision.note_created_in(self.notes)
        self.addCleanup(_provision.note_created_in, None)

    def test_only_what_it_made_is_dropped_after_it_died(self):
        made = claimed_file(self, self.folder, "made_test.sqlite3", [Note])
        found_path = self.found_file("found_test.sqlite3")
        claimed_file(self, self.folder, "found_test.sqlite3", [Tag])
        _provision.note_created_in(None)
        Path(self.notes).write_text("not json\n{}\n" + Path(self.notes).read_text(), encoding="utf-8")
        noted = [json.loads(line) for line in Path(self.notes).read_text().splitlines()[2:]]
        self.assertEqual([(Path(n["database"]).name, n["created"]) for n in noted],
                         [("made_test.sqlite3", True), ("found_test.sqlite3", False)])
        self.assertEqual(_provision.noted_created_databases(self.notes), ["made_test.sqlite3"])
        made.close()
        _provision.cancel_noted_queries(self.notes)  # nothing to cancel on SQLite
        _provision.drop_created_databases(self.notes)
        self.assertFalse(os.path.exists(made.database))
        self.assertEqual(tables_in(found_path), [_provision.MARKER_TABLE, "pu_prov_tag"])

    def test_a_file_replaced_since_is_not_dropped(self):
        made = claimed_file(self, self.folder, "replaced_test.sqlite3", [Note])
        made.close()
        os.unlink(made.database)
        Path(made.database).write_text("someone else's")
        _provision.drop_created_databases(self.notes)
        self.assertEqual(Path(made.database).read_text(), "someone else's")

    def test_a_server_it_cannot_reach_is_passed_over(self):
        entry = {"class": "peewee:PostgresqlDatabase", "created": False, "database": "gone_test",
                 "params": {"host": "127.0.0.1", "port": 1, "application_name": "pu_prov_gone"}, "file": None}
        Path(self.notes).write_text(json.dumps(entry) + "\n", encoding="utf-8")
        _provision.cancel_noted_queries(self.notes)
        _provision.drop_created_databases(self.notes)

    def test_no_notes_no_names(self):
        self.assertEqual(_provision.noted_created_databases(self.path("none.jsonl")), [])


class ServerTablesTests(unittest.TestCase):
    """On TEST_DATABASE_URL's server (skipped on SQLite): tables that refer
    to each other are emptied and dropped; what is not the library's stays."""

    def setUp(self):
        if backend() == "sqlite":
            self.skipTest("TEST_DATABASE_URL is SQLite")

    def test_kept_tables_are_emptied_and_their_ids_start_again(self):
        name = own_name("prov_kept")
        self.addCleanup(drop_database, server_database(name))
        with mock.patch.dict(os.environ, {_provision.KEEPDB_ENV: "1"}):
            db = claimed_server_database(self, "prov_kept", [Note, Reply])
            Reply.create(note=Note.create(title="from the last run"))
            release(db)
            claimed_server_database(self, "prov_kept", [Note, Reply])
            self.assertEqual((Note.select().count(), Reply.select().count()), (0, 0))
            self.assertEqual(Note.create(title="first").id, 1)

    def test_kept_tables_are_rebuilt_without_keepdb(self):
        name = own_name("prov_rebuilt")
        self.addCleanup(drop_database, server_database(name))
        with mock.patch.dict(os.environ, {_provision.KEEPDB_ENV: "1"}):
            db = claimed_server_database(self, "prov_rebuilt", [Note, Reply])
            Reply.create(note=Note.create(title="from the last run"))
            release(db)
        claimed_server_database(self, "prov_rebuilt", [Note, Reply])
        self.assertEqual((Note.select().count(), Reply.select().count()), (0, 0))
        with self.assertRaises(pw.IntegrityError):  # MySQL's foreign key checks are on again
            Reply.create(note=12345)

    def test_a_table_referring_to_its_tables_does_not_stop_a_rebuild(self):
        name = own_name("prov_referred")
        self.addCleanup(drop_database, server_database(name))
        with mock.patch.dict(os.environ, {_provision.KEEPDB_ENV: "1"}):
            db = claimed_server_database(self, "prov_referred", [Note])
            db.execute_sql("CREATE TABLE pu_prov_users_ref (note_id INT REFERENCES pu_prov_note (id))")
            release(db)
        claimed_server_database(self, "prov_referred", [UniqueNote])
        self.assertEqual(UniqueNote.select().count(), 0)

    def test_a_database_holding_only_a_view_is_refused_untouched(self):
        found = scratch_database(own_name("prov_view"))
        self.addCleanup(drop_database, server_database(found.database))
        found.execute_sql("CREATE VIEW pu_prov_users_view AS SELECT 1 AS x")
        found.close()
        with self.assertRaises(UnsafeDatabaseError) as raised:
            claimed(self, server_database(found.database), [Note])
        self.assertIn("holds tables (pu_prov_users_view) but no", str(raised.exception))
        self.assertEqual(list(found.execute_sql("SELECT x FROM pu_prov_users_view").fetchall()), [(1,)])
        found.close()

    def test_pymysql_is_given_the_database_as_database(self):
        if backend() != "mysql":
            self.skipTest("PyMySQL's argument")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            db = claimed_server_database(self, "prov_warned", [Note])
            release(db)
        self.assertEqual([str(w.message) for w in caught if "deprecated" in str(w.message)], [])

    def test_a_connection_switched_to_another_test_database_is_refused(self):
        if backend() != "mysql":
            self.skipTest("MySQL's init_command")
        # Named before and after the server's information_schema and the
        # database checked.
        for name in ("a" + own_name("prov_other"), own_name("prov_a_other"), own_name("prov_z_other")):
            with self.subTest(other=name):
                db = server_database(own_name("prov_switched"))
                self.assertIn(f"landed on {name!r}", self.refusal_switching_to(name, db))
                self.assertFalse(database_exists(db.database), "nothing is created")

    def refusal_switching_to(self, other_name: str, db: pw.Database) -> str:
        """Claiming `db`, with options that switch to a new, empty database
        `other_name`, is refused and leaves that one empty: the message."""
        other = scratch_database(other_name)
        self.addCleanup(drop_database, server_database(other.database))
        other.close()
        self.addCleanup(drop_database, server_database(db.database))
        db.connect_params["init_command"] = f"USE {other.database}"
        with self.assertRaises(UnsafeDatabaseError) as raised:
            claimed(self, db, [Note])
        self.assertEqual(list(other.execute_sql("SHOW TABLES").fetchall()), [])
        other.close()
        return str(raised.exception)

    def test_a_connection_switched_on_a_database_that_exists_is_refused(self):
        # It is found, not created: the connection to it is the one checked.
        if backend() != "mysql":
            self.skipTest("MySQL's init_command")
        for name in (own_name("prov_a_other"), own_name("prov_z_other")):
            with self.subTest(other=name):
                db = scratch_database(own_name("prov_switched"))
                db.close()
                self.assertIn(f"connected to database {name!r}", self.refusal_switching_to(name, db))
                self.assertTrue(database_exists(db.database))

    def test_a_database_is_dropped_only_if_the_connection_checking_it_is_on_it(self):
        # A dead run's note names a database it made (someone else's now)
        # and connection options that switch to another, empty one.
        if backend() != "mysql":
            self.skipTest("MySQL's init_command")
        notes = os.path.join(self.enterContext(tempfile.TemporaryDirectory()), "created.jsonl")
        for purpose in ("prov_a_empty", "prov_z_empty"):
            with self.subTest(switched_to=purpose):
                empty = scratch_database(own_name(purpose))
                self.addCleanup(drop_database, server_database(empty.database))
                empty.close()
                victim = scratch_database(own_name("prov_victim"))
                self.addCleanup(drop_database, server_database(victim.database))
                victim.execute_sql("CREATE TABLE pu_prov_sentinel (x INT)")
                victim.execute_sql("INSERT INTO pu_prov_sentinel VALUES (1)")
                victim.close()
                plain = _provision.plain_connection(victim)
                params = {**plain.connect_params, "init_command": f"USE {empty.database}"}
                entry = {"class": "peewee:MySQLDatabase", "created": True, "database": victim.database,
                         "params": params, "file": None}
                Path(notes).write_text(json.dumps(entry) + "\n", encoding="utf-8")
                _provision.drop_created_databases(notes)
                self.assertTrue(database_exists(victim.database))
                self.assertEqual(list(victim.execute_sql("SELECT x FROM pu_prov_sentinel").fetchall()), [(1,)])
                victim.close()

    def test_only_its_tables_go_from_a_database_it_found(self):
        found = scratch_database(own_name("prov_found"))
        self.addCleanup(drop_database, server_database(found.database))
        self.addCleanup(run_lock.let_go, found)  # the run's lock, held until its exit otherwise
        claimed(self, found, [Note, Reply, Dotted])
        Reply.create(note=Note.create(title="dropped"))
        Dotted.create(name="dropped")
        found.execute_sql("CREATE TABLE pu_prov_users_own (x INT)")
        release(found)
        self.assertTrue(database_exists(found.database))
        kept = server_database(found.database)
        self.addCleanup(kept.close)
        self.assertEqual(kept.get_tables(), ["pu_prov_users_own"])


@unittest.skipUnless(backend() == "postgresql", "PostgreSQL's schemas, sessions and invalid databases")
class PostgresTests(unittest.TestCase):
    def own_database(self, purpose: str, **params) -> pw.Database:
        db = server_database(own_name(purpose))
        db.connect_params.update(params)
        self.addCleanup(drop_database, server_database(db.database))
        return db

    def schemas_of(self, name: str) -> list[str]:
        db = server_database(name)
        try:
            return [row[0] for row in db.execute_sql(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'pu_prov%%'").fetchall()]
        finally:
            db.close()

    def test_a_schema_it_made_in_a_database_it_found_goes_at_exit(self):
        found = scratch_database(own_name("prov_schema"))
        self.addCleanup(drop_database, server_database(found.database))
        self.addCleanup(run_lock.let_go, found)
        claimed(self, found, [Note, InSchema])
        self.assertEqual(self.schemas_of(found.database), ["pu_prov_schema"])
        self.assertIn(("pg_schema", "pu_prov_schema"), found.execute_sql(
            f"SELECT kind, value FROM {_provision.MARKER_TABLE}").fetchall())
        release(found)
        self.assertEqual(self.schemas_of(found.database), [])

    def test_a_schema_it_made_in_a_database_it_found_and_kept_goes_at_the_next_exit(self):
        # The next run learns of the schema from the marker alone.
        found = scratch_database(own_name("prov_kept_found"))
        self.addCleanup(drop_database, server_database(found.database))
        self.addCleanup(run_lock.let_go, found)
        with mock.patch.dict(os.environ, {_provision.KEEPDB_ENV: "1"}):
            release(claimed(self, found, [InSchema]))
        self.assertEqual(self.schemas_of(found.database), ["pu_prov_schema"])
        again = server_database(found.database)
        self.addCleanup(run_lock.let_go, again)
        release(claimed(self, again, [InSchema]))
        self.assertEqual(self.schemas_of(found.database), [])
        self.assertTrue(database_exists(found.database))

    def test_kept_tables_in_a_schema_are_reused_as_they_are(self):
        db = self.own_database("prov_kept_schema")
        with mock.patch.dict(os.environ, {_provision.KEEPDB_ENV: "1"}):
            claimed(self, db, [InSchema])
            InSchema.create(name="from the last run")
            release(db)
            with contextlib.redirect_stderr(io.StringIO()) as said:
                claimed(self, server_database(db.database), [InSchema])
        self.assertEqual(said.getvalue(), "")
        self.assertEqual(InSchema.select().count(), 0)

    def test_what_a_process_that_died_made_is_dropped_its_queries_cancelled_first(self):
        notes = Path(self.enterContext(tempfile.TemporaryDirectory()), "created.jsonl")
        _provision.note_created_in(notes)
        self.addCleanup(_provision.note_created_in, None)
        session = f"pu_prov_noted_{os.getpid()}"
        db = self.own_database("prov_noted", application_name=session)
        notes.write_text(json.dumps({"class": "peewee:SqliteDatabase", "created": False, "database": "x_test.db",
                                     "params": {}, "file": None}) + "\n")  # not a server's: passed over
        claimed(self, db, [Note])
        _provision.note_created_in(None)
        busy = _provision.plain_connection(db)
        outcome = []

        def sleep_in_the_database():
            started = time.monotonic()
            try:
                busy.execute_sql("SELECT pg_sleep(20)")
            except Exception as error:  # noqa: BLE001 - psycopg2's QueryCanceled, unwrapped
                outcome.append(str(error).splitlines()[0])
            outcome.append(time.monotonic() - started)
            busy.close()

        sleeper = threading.Thread(target=sleep_in_the_database)
        sleeper.start()
        time.sleep(0.5)
        _provision.cancel_noted_queries(notes)
        sleeper.join(10)
        self.assertEqual(outcome[0], "canceling statement due to user request")
        self.assertLess(outcome[1], 10)
        _provision._claims.pop(id(db))
        db.close()
        _provision.drop_created_databases(notes)
        self.assertFalse(database_exists(db.database))

    def test_a_database_it_cannot_connect_to_is_not_dropped_unseen(self):
        db = self.own_database("prov_closed")
        claimed(self, db, [Note])
        db.close()
        run_lock.let_go(db)
        server = server_database("postgres")
        server.execute_sql(f"ALTER DATABASE {db.database} WITH ALLOW_CONNECTIONS false")
        server.close()
        release(db)
        self.assertTrue(database_exists(db.database))

    def test_a_database_whose_drop_was_cut_short_is_dropped(self):
        db = self.own_database("prov_invalid")
        claimed(self, db, [Note])
        db.close()
        run_lock.let_go(db)
        server = server_database("postgres")
        server.execute_sql("UPDATE pg_database SET datconnlimit = -2 WHERE datname = %s", (db.database,))
        server.close()
        release(db)
        self.assertFalse(database_exists(db.database))


class WorkerFileTests(ProvisionTestCase):
    def test_a_worker_gets_its_own_file_even_when_connected_before(self):
        os.environ["PROPER_UNITTEST_WORKER"] = "3"
        db = pw.SqliteDatabase(self.path("worker_test.sqlite3"))
        db.connect()
        claimed(self, db, [Note])
        self.assertEqual(db.database, self.path("worker_test_w3.sqlite3"))
        self.assertEqual(tables_in(self.path("worker_test.sqlite3")), [])
        self.assertIn("pu_prov_note", tables_in(db.database))


class SignalsIgnoredTests(unittest.TestCase):
    """While the databases are removed at exit, SIGTERM and SIGINT wait
    (main thread only, when there is something to remove)."""

    def setUp(self):
        for signum, handler in ((signal.SIGTERM, signal.SIG_DFL), (signal.SIGINT, signal.default_int_handler)):
            self.addCleanup(signal.signal, signum, signal.signal(signum, handler))

    def handlers(self) -> list[object]:
        return [signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)]

    def test_ignored_in_the_block_then_put_back(self):
        with _provision._signals_ignored(True):
            self.assertEqual(self.handlers(), [signal.SIG_IGN, signal.SIG_IGN])
        self.assertEqual(self.handlers(), [signal.SIG_DFL, signal.default_int_handler])

    def test_left_alone_with_nothing_to_remove_or_off_the_main_thread(self):
        with _provision._signals_ignored(False):
            self.assertEqual(self.handlers(), [signal.SIG_DFL, signal.default_int_handler])
        seen = []

        def in_a_thread():
            with _provision._signals_ignored(True):
                seen.append(self.handlers())

        thread = threading.Thread(target=in_a_thread)
        thread.start()
        thread.join()
        self.assertEqual(seen, [[signal.SIG_DFL, signal.default_int_handler]])
