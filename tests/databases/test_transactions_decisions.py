"""How the class transaction and the per-test savepoints end, in this
process, on a test database the library claimed (a SQLite file, and one
of its own on TEST_DATABASE_URL's server when that is PostgreSQL or MariaDB): what counts
as ended or lost, what a rollback undoes, what is emptied and reported
when a test committed."""

import tempfile
import unittest

import peewee as pw

from proper_unittest.databases import transactions as _transactions
from proper_unittest.recording.recorder import SqlLog
from proper_unittest.databases.transactions import ENDED, LOST, ClassTransaction
from proper_unittest.databases.transactions import TestSavepoint as Savepoint  # a name pytest does not collect
from tests.support.claimed import claimed_file, claimed_server_database


class Row(pw.Model):
    title = pw.CharField()

    class Meta:
        table_name = "pu_tx_row"


class SqliteMixin:
    def make_db(self) -> pw.Database:
        folder = self.enterContext(tempfile.TemporaryDirectory())
        return claimed_file(self, folder, "tx_test.sqlite3", [Row])


class ServerMixin:
    def make_db(self) -> pw.Database:
        return claimed_server_database(self, "tx", [Row])


class TransactionCases:
    """Run on each backend below."""

    def setUp(self):
        self.db = self.make_db()
        self.addCleanup(self.close)

    def close(self):
        while self.db.transaction_depth():
            self.db.pop_transaction()
        if not self.db.is_closed():
            self.db.rollback()
            self.db.close()

    def committed_rows(self) -> int:
        """Rows committed, seen from another connection."""
        params = {k: v for k, v in self.db.connect_params.items() if k not in ("database", "db")}
        other = type(self.db)(self.db.database, **params)
        try:
            return other.execute_sql("SELECT COUNT(*) FROM pu_tx_row").fetchone()[0]
        finally:
            other.close()

    def test_open_ended_and_lost(self):
        self.db.connect(reuse_if_open=True)
        self.assertEqual(_transactions.transaction_problem(self.db), ENDED, "connected, no transaction")
        self.assertFalse(_transactions.is_in_transaction(self.db))
        with self.db.atomic():
            Row.create(title="x")
            self.assertIsNone(_transactions.transaction_problem(self.db))
            self.assertTrue(_transactions.is_in_transaction(self.db))
        self.db.close()
        self.assertEqual(_transactions.transaction_problem(self.db), LOST)

    def test_the_class_transaction_rolls_back_everything(self):
        transaction = ClassTransaction([self.db]).begin()
        Row.create(title="class data")
        self.assertEqual(transaction.problems(), {})
        self.assertEqual(transaction.rollback(), {})
        self.assertEqual(self.db.transaction_depth(), 0)
        self.assertEqual(self.committed_rows(), 0)
        self.assertEqual(Row.select().count(), 0)
        self.assertEqual(transaction.committed, {})

    def test_a_class_inside_a_transaction_gets_a_savepoint(self):
        with self.db.atomic():
            Row.create(title="outer")
            transaction = ClassTransaction([self.db]).begin()
            Row.create(title="inner")
            self.assertEqual(transaction.rollback(), {})
            self.assertEqual([r.title for r in Row.select()], ["outer"])
            self.assertEqual(self.db.transaction_depth(), 1)
            self.assertIsNone(_transactions.transaction_problem(self.db), "the outer transaction goes on")

    def test_a_commit_in_the_class_is_found_reported_and_emptied(self):
        transaction = ClassTransaction([self.db]).begin()
        Row.create(title="committed")
        self.db.commit()
        found = transaction.rollback()
        self.assertEqual(found, {self.db: ENDED})
        self.assertEqual(transaction.committed, {self.db: {"pu_tx_row": 1}})
        self.assertEqual(self.committed_rows(), 0, "the library emptied its table")
        self.assertEqual(self.db.transaction_depth(), 0)

    def test_a_known_ending_is_cleaned_even_if_a_transaction_is_open_again(self):
        transaction = ClassTransaction([self.db]).begin()
        Row.create(title="committed")
        self.db.commit()
        self.db.begin()
        found = transaction.rollback(known={self.db: ENDED})
        self.assertEqual(found, {self.db: ENDED})
        self.assertEqual(self.committed_rows(), 0)

    def test_a_lost_connection_is_reopened_and_emptied(self):
        transaction = ClassTransaction([self.db]).begin()
        Row.create(title="gone with the connection")
        self.db.connection().close()
        found = transaction.rollback()
        self.assertEqual(found, {self.db: LOST})
        self.assertFalse(self.db.is_closed(), "reconnected")
        self.assertEqual(Row.select().count(), 0)
        self.assertEqual(transaction.committed, {self.db: {}})

    def test_savepoints_roll_back_each_test_and_a_kept_one_stays(self):
        transaction = ClassTransaction([self.db]).begin()
        Row.create(title="class data")
        kept = Savepoint([self.db], keep=True)
        self.assertEqual(kept.begin(), {})
        for title in ("first test", "second test"):
            Row.create(title=title)
            self.assertEqual(kept.rollback(), {})
            self.assertEqual([r.title for r in Row.select()], ["class data"])
            self.assertEqual(len(kept._open), 1, "kept for the next test")
        sub = Savepoint([self.db])
        sub.begin()
        Row.create(title="sub-test")
        self.assertEqual(sub.rollback(), {})
        self.assertEqual(sub._open, [])
        self.assertEqual(Row.select().count(), 1)
        self.assertEqual(transaction.rollback(), {})
        self.assertEqual(Row.select().count(), 0)

    def test_a_test_that_commits_is_found_by_its_savepoint(self):
        ClassTransaction([self.db]).begin()
        kept = Savepoint([self.db], keep=True)
        kept.begin()
        Row.create(title="committed by the test")
        self.db.commit()
        self.assertEqual(kept.rollback(), {self.db: ENDED})
        self.assertEqual(kept._open, [], "given up: the class transaction starts again")
        self.assertEqual(_transactions.reset_database(self.db), {"pu_tx_row": 1})
        self.assertEqual(self.committed_rows(), 0)

    def test_a_stray_transaction_is_forgotten(self):
        transaction = ClassTransaction([self.db]).begin()
        savepoint = Savepoint([self.db])
        savepoint.begin()
        self.db.transaction().__enter__()  # entered, never exited
        Row.create(title="x")
        self.assertEqual(savepoint.rollback(), {})
        self.assertEqual(Row.select().count(), 0)
        self.db.transaction().__enter__()
        self.assertEqual(transaction.rollback(), {})
        self.assertEqual(self.db.transaction_depth(), 0)

    def test_a_sub_test_savepoint_is_released(self):
        transaction = ClassTransaction([self.db]).begin()
        sub = Savepoint([self.db])
        sub.begin()
        (_, name, _), = sub._open
        self.assertEqual(sub.rollback(), {})
        with self.assertRaises(pw.DatabaseError):  # no such savepoint any more
            self.db.execute_sql(f"RELEASE SAVEPOINT {name}")
        transaction.rollback()

    def test_a_failed_statement_leaves_the_transaction_open(self):
        ClassTransaction([self.db]).begin()
        with self.assertRaises(pw.DatabaseError):
            self.db.execute_sql("SELECT * FROM no_such_table")
        self.assertIsNone(_transactions.transaction_problem(self.db))

    def test_a_savepoint_is_not_opened_once_the_transaction_ended(self):
        ClassTransaction([self.db]).begin()
        self.db.commit()
        savepoint = Savepoint([self.db])
        if isinstance(self.db, pw.MySQLDatabase):  # not checked there: the missing savepoint tells later
            self.assertEqual(savepoint.begin(), {})
            return
        self.assertEqual(savepoint.begin(), {self.db: ENDED})
        self.assertEqual(savepoint._open, [])

    def test_a_test_that_popped_the_transaction_stack_is_still_rolled_back(self):
        ClassTransaction([self.db]).begin()
        savepoint = Savepoint([self.db])
        savepoint.begin()
        Row.create(title="x")
        self.db.pop_transaction()  # the test's code misusing peewee's stack
        self.assertEqual(savepoint.rollback(), {})
        self.assertEqual(Row.select().count(), 0)

    def test_reset_rolls_back_what_is_open_and_reports_committed_rows_only(self):
        self.db.connect(reuse_if_open=True)
        Row.create(title="committed")
        self.db.atomic().__enter__()  # blocks left open
        Row.create(title="open")
        self.db.atomic().__enter__()
        self.assertEqual(_transactions.reset_database(self.db), {"pu_tx_row": 1})
        self.assertEqual(self.db.transaction_depth(), 0)
        self.assertEqual(self.committed_rows(), 0)
        self.assertEqual(_transactions.reset_database(self.db), {}, "tables with rows only")


class SqliteTransactionTests(SqliteMixin, TransactionCases, unittest.TestCase):
    pass


class ServerTransactionTests(ServerMixin, TransactionCases, unittest.TestCase):
    """On TEST_DATABASE_URL's server (skipped on SQLite)."""


class MessageTests(unittest.TestCase):
    def test_each_ending_is_explained_with_what_had_been_committed(self):
        sqlite, mysql = pw.SqliteDatabase("a_test.sqlite3"), pw.MySQLDatabase("b_test")
        text = _transactions.explain("the test T.test_x", {sqlite: ENDED, mysql: LOST},
                                     committed={sqlite: {"note": 2}})
        self.assertIn("the test T.test_x ended the transaction the library runs it in, on database "
                      "'a_test.sqlite3' (SqliteDatabase)", text)
        self.assertNotIn("commits implicitly", text.split("\n")[0])
        self.assertIn("Rows that had been committed (the class data included): 'note': 2.", text)
        self.assertIn("the test T.test_x lost its connection to database 'b_test' (MySQLDatabase)", text)
        self.assertNotIn("No rows had been committed", text)
        self.assertTrue(text.endswith(_transactions._RECOVERED))
        text = _transactions.explain("x", {mysql: ENDED}, after="AFTER")
        self.assertIn("a statement MySQL/MariaDB commits implicitly", text)
        self.assertIn("No rows had been committed: it rolled back (or committed nothing).", text)
        self.assertTrue(text.endswith("AFTER"))
        self.assertEqual(_transactions.describe(sqlite), "'a_test.sqlite3' (SqliteDatabase)")


class LibrarySqlTests(SqliteMixin, unittest.TestCase):
    def test_a_reset_is_not_in_the_tests_sql_log(self):
        db = self.make_db()
        log = SqlLog([db])
        log.install()
        self.addCleanup(log.uninstall)
        Row.create(title="committed")
        db.connection().close()  # lost: the reset reconnects and makes sure its tables are there
        del log.statements[:]
        self.assertEqual(_transactions.reset_database(db), {"pu_tx_row": 1})
        self.assertEqual(log.statements, [])
