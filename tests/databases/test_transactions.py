"""The test transaction: the per-test savepoint is established once per class and each test
starts from the class's data; what transaction control costs in round trips."""
import unittest
from collections import Counter
from contextlib import contextmanager

import peewee as pw

from proper_unittest import AsyncChannelTestCase, ProperTestCase

from tests.support.apps.notes.main import Note, db
from tests.support.apps.testdb import backend
from tests.support.inner import NotesCase, run_inner
from tests.support.outcomes import committed_rows, errors_by_test


def titles():
    return sorted(note.title for note in Note.select())


class KeptSavepointTests(unittest.TestCase):
    """Run from a plain TestCase: some inner tests end the transaction."""

    def test_every_test_starts_from_the_class_data_whatever_it_left_open(self):
        class Many(NotesCase):
            @classmethod
            def setUpClass(cls):
                super().setUpClass()
                Note.create(title="set up after super")  # kept for every test

            @classmethod
            def setUpTestData(cls):
                Note.create(title="class data")

            def check_and_write(self):
                self.assertEqual(titles(), ["class data", "set up after super"])
                Note.create(title=self._testMethodName)
                self.client.post("/notes", body={"title": f"{self._testMethodName} by request"})

            def test_1_app_atomic_nests_as_a_savepoint(self):
                self.check_and_write()
                with db.atomic() as outer:
                    self.assertIsInstance(outer, pw._savepoint)
                    Note.create(title="kept by the test")
                    with self.assertRaises(ZeroDivisionError), db.atomic():
                        Note.create(title="undone by atomic")
                        1 / 0
                self.assertIn("kept by the test", titles())
                self.assertNotIn("undone by atomic", titles())

            def test_2_leaves_an_atomic_block_open(self):
                self.check_and_write()
                db.atomic().__enter__()
                Note.create(title="inside the stray block")

            def test_3_leaves_a_failed_request_behind(self):
                self.check_and_write()
                self.client.post("/notes", body={"title": "dup"})
                self.assertEqual(self.client.post("/notes", body={"title": "dup"}).status, 500)

            def test_4_sub_tests(self):
                self.check_and_write()
                for n in range(3):
                    with self.subTest(n=n):
                        self.assertNotIn("sub-test", titles())
                        Note.create(title="sub-test")
                    Note.create(title=f"between {n}")  # the test's own rows stay
                self.assertEqual(
                    [t for t in titles() if t.startswith("between")], ["between 0", "between 1", "between 2"]
                )

            def test_5_reads(self):
                self.check_and_write()

        result, output = run_inner(Many)
        self.assertEqual(result.testsRun, 5, output)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(committed_rows(Note), 0, output)
        self.assertFalse(db.in_transaction())
        self.assertEqual(db.transaction_depth(), 0)

    def test_after_a_test_ends_the_transaction_the_next_ones_are_isolated_again(self):
        class Ends(NotesCase):
            @classmethod
            def setUpTestData(cls):
                Note.create(title="class data")

            def test_1_writes(self):
                Note.create(title="one")

            def test_2_commits(self):
                self.assertEqual(titles(), ["class data"])
                Note.create(title="committed")
                db.commit()

            def test_3_writes(self):
                self.assertEqual(titles(), ["class data"])  # reloaded, new savepoint
                Note.create(title="three")

            def test_4_reads(self):
                self.assertEqual(titles(), ["class data"])

        result, output = run_inner(Ends)
        self.assertEqual(result.testsRun, 4, output)
        errors = errors_by_test(result)
        self.assertEqual(list(errors), ["test_2_commits"], output)
        self.assertIn("ended the transaction", errors["test_2_commits"][0])
        self.assertEqual(result.failures, [], output)
        self.assertEqual(committed_rows(Note), 0, output)
        self.assertFalse(db.in_transaction())

    def test_async_tests_share_the_kept_savepoint(self):
        class Async(AsyncChannelTestCase):
            app = "tests.support.apps.notes.main:app"

            @classmethod
            def setUpTestData(cls):
                Note.create(title="class data")

            async def test_1_writes(self):
                self.assertEqual(titles(), ["class data"])
                await self.client.post("/notes", body={"title": "async one"})
                Note.create(title="direct")

            async def test_2_reads(self):
                self.assertEqual(titles(), ["class data"])

        result, output = run_inner(Async, NotesCase)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(result.testsRun, 2, output)
        self.assertEqual(committed_rows(Note), 0, output)


APP = "tests.support.apps.notes.main:app"
CONTROL_KEYWORDS = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT", "START TRANSACTION")
# MySQL/MariaDB's per-session statement counters, and the statement each counts.
MYSQL_COUNTERS = {
    "Com_savepoint": "SAVEPOINT",
    "Com_rollback_to_savepoint": "ROLLBACK TO SAVEPOINT",
    "Com_release_savepoint": "RELEASE SAVEPOINT",
    "Com_begin": "BEGIN",
    "Com_rollback": "ROLLBACK",
    "Com_commit": "COMMIT",
}


def control_statement(sql) -> str | None:
    """The transaction-control statement `sql` is ("ROLLBACK TO SAVEPOINT",
    "SAVEPOINT", "BEGIN"...) without its savepoint name, or None."""
    words = str(sql).strip().rstrip(";").upper().split()
    if not words or not str(sql).strip().upper().startswith(CONTROL_KEYWORDS):
        return None
    if words[0] == "ROLLBACK" and len(words) > 1 and words[1] == "TO":
        return "ROLLBACK TO SAVEPOINT"
    return " ".join(words[:2]) if words[0] == "RELEASE" else words[0]


@contextmanager
def sqlite_control_statements():
    """Every transaction-control statement SQLite ran on this thread's
    connection inside the block (sqlite3's trace callback sees them all,
    the library's own and peewee's BEGIN included)."""
    statements = []

    def trace(sql):
        if control_statement(sql):
            statements.append(control_statement(sql))

    connection = db.connection()
    connection.set_trace_callback(trace)
    try:
        yield statements
    finally:
        connection.set_trace_callback(None)


@contextmanager
def mysql_control_statements():
    """The transaction-control statements the MySQL/MariaDB server ran for
    this thread's connection inside the block, from its own per-session
    counters (in MYSQL_COUNTERS' order: the server does not keep the order)."""
    def counters():
        rows = db.execute_sql("SHOW SESSION STATUS WHERE Variable_name IN (%s)"
                              % ", ".join(["%s"] * len(MYSQL_COUNTERS)), list(MYSQL_COUNTERS))
        return {name: int(value) for name, value in rows.fetchall()}

    statements = []
    before = counters()
    try:
        yield statements
    finally:
        after = counters()
        for name, statement in MYSQL_COUNTERS.items():
            statements.extend([statement] * (after[name] - before[name]))


@contextmanager
def postgresql_control_statements():
    """Every transaction-control statement sent on this thread's PostgreSQL
    connection inside the block (BEGIN included, which peewee sends without
    logging): the connection makes counting cursors. One that went in the
    same round trip as a statement of the app's is named RIDES_ALONG."""
    import psycopg2.extensions

    statements = []

    class CountingCursor(psycopg2.extensions.cursor):
        def execute(self, query, vars=None):
            control = control_statement(query)
            if control:
                alone = len([part for part in str(query).split(";") if part.strip()]) == 1
                statements.append(control if alone else control + RIDES_ALONG)
            return super().execute(query, vars)

    connection = db.connection()
    saved = connection.cursor_factory
    connection.cursor_factory = CountingCursor
    try:
        yield statements
    finally:
        connection.cursor_factory = saved


# Marks a control statement sent in the same round trip as a statement.
RIDES_ALONG = " (with a statement)"


def control_statements():
    """The control statements sent in the block, counted on the connection
    or by the server (the library sends its own past peewee's log)."""
    return {
        "postgresql": postgresql_control_statements,
        "sqlite": sqlite_control_statements,
        "mysql": mysql_control_statements,
    }[backend()]()


class RequestRoundTripTests(ProperTestCase):
    app = APP

    def expected_per_request(self):
        return ["SAVEPOINT" + RIDES_ALONG] if backend() == "postgresql" else []

    def test_a_request_costs_no_round_trip_its_savepoint_goes_with_its_first_statement(self):
        with control_statements() as statements:
            self.client.post("/notes", body={"title": "counted"})
        self.assertEqual(statements, self.expected_per_request())
        with control_statements() as statements:
            self.client.get("/notes")
        self.assertEqual(statements, self.expected_per_request())

    def test_a_failed_request_adds_one_rollback_on_postgresql(self):
        Note.create(title="dup")
        with control_statements() as statements:
            result = self.client.post("/notes", body={"title": "dup"})
        self.assertEqual(result.status, 500)
        expected = ["SAVEPOINT" + RIDES_ALONG, "ROLLBACK TO SAVEPOINT"] if backend() == "postgresql" else []
        self.assertEqual(statements, expected)
        self.assertEqual(Note.select().count(), 1)  # the test goes on querying

    def test_the_latest_request_savepoint_is_the_one_rolled_back_to(self):
        # Request savepoints are never released: each new one shadows the
        # last, and the test's own rollback discards them all.
        self.client.post("/notes", body={"title": "first"})
        Note.create(title="between")
        self.assertEqual(self.client.post("/notes", body={"title": "first"}).status, 500)
        titles = sorted(note.title for note in Note.select())
        self.assertEqual(titles, ["between", "first"])

    def test_nothing_of_a_test_survives_its_requests_savepoints(self):
        class Inner(NotesCase):
            def test_writes(self):
                self.client.post("/notes", body={"title": "left behind?"})
                self.client.post("/notes", body={"title": "left behind?"})  # fails

            def test_reads(self):
                self.assertEqual(Note.select().count(), 0)

        result, output = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(Note.select().count(), 0)


class RoundTripsPerTestTests(ProperTestCase):
    app = APP

    #: What one test costs in transaction-control round trips, per backend
    #: (its requests' savepoints go with their first statements on
    #: PostgreSQL, so they cost none). Lower it when the library needs
    #: fewer (see the README's "Benchmark"); never raise it.
    PER_TEST_LIMIT = {"postgresql": 1, "sqlite": 1, "mysql": 1}

    def statements_of_a_run(self, test_count):
        def a_test(self):
            response = self.client.post("/notes", body={"title": f"{self._testMethodName}"})
            self.assertEqual(self.client.get(response.location).status, 200)

        tests = {f"test_{n}": a_test for n in range(test_count)}
        Inner = type("Inner", (NotesCase,), tests)
        with control_statements() as statements:
            result, output = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), output)
        return Counter(statements)

    def test_round_trips_of_one_test_with_two_requests(self):
        one, three = self.statements_of_a_run(1), self.statements_of_a_run(3)
        two_tests = three - one
        self.assertEqual(one - three, Counter(), f"{one} / {three}")
        self.assertTrue(all(count % 2 == 0 for count in two_tests.values()), f"{one} / {three}")
        per_test = Counter({statement: count // 2 for statement, count in two_tests.items()})
        requests = Counter({"SAVEPOINT" + RIDES_ALONG: 2}) if backend() == "postgresql" else Counter()
        self.assertEqual(per_test & requests, requests, f"a test with two requests sends {dict(per_test)}")
        round_trips = per_test - requests
        self.assertLessEqual(
            round_trips.total(), self.PER_TEST_LIMIT[backend()],
            f"a test with two requests sends {dict(per_test)} (with its requests' statements: {dict(requests)})",
        )
