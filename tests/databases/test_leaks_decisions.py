"""The escaped-write decisions of ``databases.leaks`` and the table utilities of
``databases.tables``, in this process, on real
SQLite files: which databases can let a write escape, when writes are looked
for, how the library's tables are counted and emptied (children first, with
foreign keys enforced), and what a change since the class started is."""

import os
import tempfile
import unittest
from pathlib import Path
from unittest import mock

import peewee as pw

from proper_unittest.databases import leaks as _leaks, tables
from proper_unittest.recording.recorder import SqlLog
from proper_unittest.errors import ConfigurationError
from tests.support.claimed import claimed_file


class Parent(pw.Model):
    name = pw.CharField()

    class Meta:
        table_name = "pu_leaks_parent"


class Child(pw.Model):
    parent = pw.ForeignKeyField(Parent)

    class Meta:
        table_name = "pu_leaks_child"


class FileTestCase(unittest.TestCase):
    def setUp(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        # Foreign keys enforced, as on the servers.
        self.db = pw.SqliteDatabase(str(Path(folder, "leaks_test.sqlite3")), pragmas={"foreign_keys": 1})
        self.enterContext(self.db.bind_ctx([Parent, Child]))
        self.db.create_tables([Parent, Child])
        self.addCleanup(self.db.close)
        parent = Parent.create(name="p")
        Child.create(parent=parent)
        Child.create(parent=parent)


class TableTests(FileTestCase):
    def test_children_are_emptied_before_their_parents(self):
        for models in ([Parent, Child], [Child, Parent]):
            with self.subTest(order=[m.__name__ for m in models]):
                parent = Parent.create(name="again")
                Child.create(parent=parent)
                tables.empty_tables(self.db, models)
                self.assertEqual((Parent.select().count(), Child.select().count()), (0, 0))

    def test_only_the_models_given_are_emptied_and_none_is_nothing_to_do(self):
        tables.empty_tables(self.db, [])
        self.assertEqual(Child.select().count(), 2)
        tables.empty_tables(self.db, [Child])
        self.assertEqual((Parent.select().count(), Child.select().count()), (1, 0))

    def test_row_counts_in_one_query(self):
        self.assertEqual(tables.row_counts(self.db, [Parent, Child]), {"pu_leaks_parent": 1, "pu_leaks_child": 2})
        self.assertEqual(tables.row_counts(self.db, [Child]), {"pu_leaks_child": 2})
        self.assertEqual(tables.row_counts(self.db, []), {})

    def test_without_models_only_the_tables_the_library_created_count(self):
        # This database was not prepared by the library: none is its own.
        self.assertEqual(tables.row_counts(self.db), {})
        tables.empty_tables(self.db)
        self.assertEqual(Child.select().count(), 2)


class EscapeTests(unittest.TestCase):
    def test_only_in_memory_sqlite_cannot_let_a_write_escape(self):
        cases = [
            (pw.SqliteDatabase(":memory:"), False),
            (pw.SqliteDatabase("file:x?mode=memory&cache=shared", uri=True), False),
            (pw.SqliteDatabase("/tmp/x_test.sqlite3"), True),
            (pw.SqliteDatabase("file:/tmp/x_test.sqlite3?mode=rw", uri=True), True),
            (pw.PostgresqlDatabase("memory_test"), True),
            (pw.PostgresqlDatabase(":memory:"), True),
        ]
        for db, escapes in cases:
            with self.subTest(db=db.database, kind=type(db).__name__):
                self.assertIs(_leaks.can_escape(db), escapes)

    def test_the_watch_leaves_in_memory_databases_out(self):
        memory = pw.SqliteDatabase(":memory:")
        watch = _leaks.WriteWatch([memory])
        self.assertEqual(watch.databases, [])
        self.assertEqual(watch.changes(), {})


class CheckSettingTests(unittest.TestCase):
    def setting(self, attribute=None, env=None) -> str:
        attrs = {} if attribute is None else {"check_escaped_writes": attribute}
        case = type("SomeTests", (unittest.TestCase,), attrs)
        environ = {} if env is None else {_leaks.CHECK_ENV: env}
        with mock.patch.dict(os.environ, environ):
            if env is None:
                os.environ.pop(_leaks.CHECK_ENV, None)
            return _leaks.check_setting(case)

    def test_default_attribute_and_environment(self):
        self.assertEqual(self.setting(), "class")
        self.assertEqual(self.setting(env="test"), "test")
        self.assertEqual(self.setting(attribute=" Test "), "test")
        self.assertEqual(self.setting(attribute="class", env="test"), "class", "the class attribute wins")
        self.assertEqual(self.setting(attribute="", env="test"), "test")

    def test_a_bad_value_names_the_class_and_the_value(self):
        with self.assertRaises(ConfigurationError) as raised:
            self.setting(attribute="always")
        message = str(raised.exception)
        self.assertIn("SomeTests: check_escaped_writes / PROPER_UNITTEST_CHECK_WRITES is 'always'", message)
        self.assertIn("use 'class'", message)
        self.assertIn("or 'test'", message)


class WatchTests(FileTestCase):
    """WriteWatch, with the models given: counts of committed rows, each
    change reported once, and whether anything changed since the start."""

    def watch(self) -> _leaks.WriteWatch:
        watch = _leaks.WriteWatch([self.db])
        watch.baseline = {id(self.db): tables.row_counts(self.db, [Parent, Child])}
        watch.start = dict(watch.baseline)
        self.addCleanup(watch.close)
        return watch

    def test_the_message_names_each_table_with_its_counts(self):
        found = {self.db: {"pu_leaks_child": (2, 3), "pu_leaks_parent": (0, 1)}}
        message = _leaks.explain_escaped("the test T.test_x", found)
        self.assertTrue(message.startswith("Rows were committed outside the test transaction during the test T.test_x:"))
        self.assertIn(f"database {self.db.database!r} (SqliteDatabase): 'pu_leaks_child' (2 -> 3 rows), "
                      "'pu_leaks_parent' (0 -> 1 rows)", message)
        self.assertIn("ProperTransactionTestCase", message)


class Note(pw.Model):
    title = pw.CharField()

    class Meta:
        table_name = "pu_leaks_note"


class ClaimedWatchTests(unittest.TestCase):
    """WriteWatch on a database the library prepared: rows committed through
    another connection are found, each change once, counted from outside
    the class's open transaction."""

    def setUp(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        self.db = claimed_file(self, folder, "watch_test.sqlite3", [Note])
        self.watch = _leaks.WriteWatch([self.db])
        self.addCleanup(self.watch.close)

    def commit_elsewhere(self, count: int = 1) -> None:
        other = pw.SqliteDatabase(self.db.database)
        for _ in range(count):
            other.execute_sql("INSERT INTO pu_leaks_note (title) VALUES ('escaped')")
        other.close()

    def test_each_change_is_reported_once_and_the_start_is_remembered(self):
        self.assertEqual(self.watch.changes(), {})
        self.assertEqual(self.watch.changed_since_start(), [])
        self.commit_elsewhere(2)
        self.assertEqual(self.watch.changes(), {self.db: {"pu_leaks_note": (0, 2)}})
        self.assertEqual(self.watch.changes(), {}, "reported once")
        self.assertEqual(self.watch.changed_since_start(), [self.db])
        self.commit_elsewhere()
        self.assertEqual(self.watch.changes(), {self.db: {"pu_leaks_note": (2, 3)}})

    def test_the_class_own_uncommitted_rows_do_not_count(self):
        self.commit_elsewhere()
        with self.db.atomic():
            Note.create(title="the class's own")
            Note.create(title="the class's own")
            self.assertEqual(self.watch.changes(), {self.db: {"pu_leaks_note": (0, 1)}})
            self.assertEqual(len(self.watch._observers), 1, "a second connection counted")
        self.watch.close()
        self.assertEqual(self.watch._observers, {})

    def test_only_the_librarys_tables_are_emptied_and_counted(self):
        self.db.execute_sql("CREATE TABLE found_there (x)")
        self.db.execute_sql("INSERT INTO found_there VALUES (1)")
        Note.create(title="x")
        self.assertEqual(tables.row_counts(self.db), {"pu_leaks_note": 1})
        tables.empty_tables(self.db)
        self.assertEqual(Note.select().count(), 0)
        self.assertEqual(self.db.execute_sql("SELECT COUNT(*) FROM found_there").fetchone()[0], 1)


class LibrarySqlTests(FileTestCase):
    """Counting and emptying are the library's SQL: a test's SQL log
    (what the flight recorder lists) does not show them."""

    def test_not_in_the_tests_sql_log(self):
        log = SqlLog([self.db])
        log.install()
        self.addCleanup(log.uninstall)
        tables.row_counts(self.db, [Parent, Child])
        tables.empty_tables(self.db, [Parent, Child])
        self.assertEqual(log.statements, [])
        self.db.execute_sql("SELECT 1")
        self.assertEqual(log.statements, ["SELECT 1"])
