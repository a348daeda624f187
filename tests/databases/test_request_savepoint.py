"""On PostgreSQL through psycopg2, the savepoint a request (or an
assertRaises block) runs under goes with its first statement: every way a
statement can be sent still leaves a savepoint to recover to, and the
connection is left as it was."""
import unittest

import peewee as pw

from proper_unittest import ProperTestCase
from proper_unittest.databases.app import recover_aborted_transactions

from tests.databases.test_transactions import RIDES_ALONG, control_statements
from tests.support.apps.notes.main import Note, db
from tests.support.apps.testdb import backend


APP = "tests.support.apps.notes.main:app"


def note_titles():
    return sorted(note.title for note in Note.select())


@unittest.skipUnless(backend() == "postgresql", "the aborted-transaction problem is PostgreSQL's")
class DeferredSavepointTests(ProperTestCase):
    app = APP

    def setUp(self):
        Note.create(title="before")
        self.connection = db.connection()

    def recovered_after(self, failing_work):
        """Run `failing_work` (which must fail in the database) in a
        recovered block; return the control statements sent."""
        import psycopg2

        failed = None
        with control_statements() as statements:
            with recover_aborted_transactions([db]):
                try:
                    failing_work()
                except (pw.DatabaseError, psycopg2.Error) as error:  # through peewee, or the driver's own
                    failed = error
        self.assertIsNotNone(failed, "the work did not fail")
        self.assertEqual(note_titles(), ["before"])  # the transaction goes on
        return statements

    def test_a_failing_first_statement_is_recovered_from(self):
        statements = self.recovered_after(lambda: Note.create(title="before"))
        self.assertEqual(statements, ["SAVEPOINT" + RIDES_ALONG, "ROLLBACK TO SAVEPOINT"])

    def test_writes_before_the_failure_inside_the_block_are_undone_and_earlier_ones_kept(self):
        def work():
            Note.create(title="inside")
            Note.create(title="inside")
        self.recovered_after(work)

    def test_a_block_that_sends_nothing_costs_nothing_and_puts_the_factory_back(self):
        factory = self.connection.cursor_factory
        with control_statements() as statements:
            with recover_aborted_transactions([db]):
                pass
        self.assertEqual(statements, [])
        self.assertIs(self.connection.cursor_factory, factory)

    def test_the_factory_is_put_back_after_a_statement_and_after_an_exception(self):
        factory = self.connection.cursor_factory
        with recover_aborted_transactions([db]):
            Note.select().count()
            self.assertIs(self.connection.cursor_factory, factory)
        with self.assertRaises(KeyError):
            with recover_aborted_transactions([db]):
                raise KeyError("no statement")
        self.assertIs(self.connection.cursor_factory, factory)

    def test_executemany_gets_the_savepoint_first(self):
        def work():
            cursor = self.connection.cursor()
            cursor.executemany("INSERT INTO note (title) VALUES (%s)", [("many 1",), ("many 2",)])
            Note.create(title="before")
        statements = self.recovered_after(work)
        self.assertEqual(statements[0], "SAVEPOINT")

    def test_bytes_and_composed_queries_carry_it(self):
        from psycopg2 import sql

        for query in (b"INSERT INTO note (title) VALUES ('before')",
                      sql.SQL("INSERT INTO {} (title) VALUES ('before')").format(sql.Identifier("note"))):
            with self.subTest(type(query).__name__):
                cursors = []

                def work(query=query):
                    cursors.append(self.connection.cursor())
                    cursors[0].execute(query)
                statements = self.recovered_after(work)
                cursor = cursors[0]
                self.assertEqual(statements, ["ROLLBACK TO SAVEPOINT"])  # the counter reads only str queries
                # What psycopg2 sent, in one round trip:
                self.assertEqual(cursor.query, b"SAVEPOINT proper_unittest_request; INSERT INTO "
                                 + (b'"note"' if isinstance(query, sql.Composable) else b"note")
                                 + b" (title) VALUES ('before')")

    def test_a_cursor_factory_of_the_app_keeps_working_inside_and_after(self):
        from psycopg2.extras import RealDictCursor

        saved = self.connection.cursor_factory
        self.connection.cursor_factory = RealDictCursor
        self.addCleanup(setattr, self.connection, "cursor_factory", saved)
        with recover_aborted_transactions([db]):
            cursor = self.connection.cursor()
            cursor.execute("SELECT title FROM note")
            self.assertEqual(cursor.fetchall(), [{"title": "before"}])
        self.assertIs(self.connection.cursor_factory, RealDictCursor)

    def test_nested_blocks_each_recover_to_their_own_start(self):
        with recover_aborted_transactions([db]):
            Note.create(title="outer")
            with self.assertRaises(pw.IntegrityError):
                with recover_aborted_transactions([db]):
                    Note.create(title="outer")
            Note.create(title="after the inner")
        self.assertEqual(note_titles(), ["after the inner", "before", "outer"])

    def test_a_request_that_runs_no_sql_sends_no_savepoint(self):
        with control_statements() as statements:
            self.assertEqual(self.client.get("/no-such-page").status, 404)
        self.assertEqual(statements, [])


@unittest.skipUnless(backend() == "postgresql", "psycopg2 is the PostgreSQL driver")
class NamedCursorTests(unittest.TestCase):
    """A named (server-side) cursor runs DECLARE ... FOR its query, which
    nothing may go in front of: the savepoint goes first, alone. (peewee's
    connections are in autocommit mode, where psycopg2 refuses named
    cursors, so this needs a connection of its own.)"""

    def test_the_savepoint_goes_alone_before_a_named_cursor(self):
        import psycopg2

        from proper_unittest.databases.request_savepoint import PendingSavepoint

        connection = psycopg2.connect(host=db.connect_params.get("host"), port=db.connect_params.get("port"),
                                      user=db.connect_params.get("user"), dbname=db.database)
        self.addCleanup(connection.close)
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE numbers (n integer PRIMARY KEY)")
            cursor.execute("INSERT INTO numbers VALUES (1)")
        pending = PendingSavepoint(connection, "named_first")
        with connection.cursor(name="proper_unittest_named") as named:
            named.execute("SELECT n FROM numbers")
            self.assertEqual(named.fetchall(), [(1,)])
        self.assertTrue(pending.finish())
        with connection.cursor() as cursor:
            with self.assertRaises(psycopg2.IntegrityError):
                cursor.execute("INSERT INTO numbers VALUES (1)")
        with connection.cursor() as cursor:
            cursor.execute("ROLLBACK TO SAVEPOINT named_first")  # it exists: sent before the DECLARE
            cursor.execute("SELECT n FROM numbers")
            self.assertEqual(cursor.fetchall(), [(1,)])
