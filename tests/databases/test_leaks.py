"""Leaks out of the test transaction are caught, named and contained: commits, rollbacks, lost
connections, DDL on MariaDB, writes from other threads or connections; and failing set-ups
and teardowns count once."""
import asyncio
import re
import tempfile
import threading
import unittest
from pathlib import Path

import peewee as pw

from proper_unittest import AsyncChannelTestCase, ProperTransactionTestCase

from tests.support.apps.notes.main import Note, User, db
from tests.support.apps.testdb import backend
from tests.support.inner import NotesCase as Notes, REPO, run_suite, run_inner
from tests.support.outcomes import committed_rows, errors_by_test, the_error
from tests.support.servers import server_database, worker_suffix
from tests.support.cases import WithClassData


class CleanAfterwards(Notes):
    """Runs after a leaking class: must not be blamed, must see no rows."""

    def test_starts_clean(self):
        self.assertEqual(Note.select().count(), 0)
        self.assertEqual(User.select().count(), 0)

    def test_can_write_and_roll_back(self):
        self.client.post("/notes", body={"title": "after"})
        with self.subTest("savepoints work"):
            Note.create(title="inside a sub-test")
        self.assertEqual([n.title for n in Note.select()], ["after"])


class CommitDetectionTests(unittest.TestCase):
    """A test that ends the transaction fails once, by name; the database is
    cleaned and the next tests (same class and another) run normally."""

    def run_committing(self, end_transaction, message):
        class Commits(Notes):
            @classmethod
            def load_fixtures(cls):
                Note.create(title="fixture")

            def test_1_commits(self):
                Note.create(title="committed")
                end_transaction(self)

            def test_2_same_class_is_clean(self):
                self.assertEqual([n.title for n in Note.select()], ["fixture"])

        result, output = run_inner(Commits, CleanAfterwards)
        self.assertEqual(result.testsRun, 4, output)
        errors = errors_by_test(result)
        self.assertEqual(list(errors), ["test_1_commits"], output)
        self.assertEqual(len(errors["test_1_commits"]), 1, output)
        text = errors["test_1_commits"][0]
        self.assertIn("Commits.test_1_commits", text)
        self.assertIn(message, text)
        self.assertEqual(committed_rows(Note), 0, "the committed rows were removed")
        self.assertFalse(db.in_transaction())
        return text

    def test_explicit_commit(self):
        text = self.run_committing(lambda test: db.commit(), "ended the transaction")
        self.assertIn("ProperTransactionTestCase", text)
        self.assertIn("Rows that had been committed (the class data included): 'note': 2", text)

    def test_commit_in_set_up_class_after_super(self):
        class CommitsAfterSuper(Notes):
            @classmethod
            def setUpClass(cls):
                super().setUpClass()
                Note.create(title="committed in setUpClass")
                db.commit()

            def test_1(self):
                pass

            def test_2_is_clean(self):
                self.assertEqual(Note.select().count(), 0)

        result, output = run_inner(CommitsAfterSuper, CleanAfterwards)
        self.assertEqual(result.testsRun, 4, output)
        self.assertEqual(list(errors_by_test(result)), ["test_1"], output)
        self.assertIn("setUpClass after super().setUpClass()", output)
        self.assertEqual(committed_rows(Note), 0)

    def test_explicit_rollback(self):
        text = self.run_committing(lambda test: db.rollback(), "ended the transaction")
        self.assertIn("No rows had been committed", text)

    def test_commit_then_begin(self):
        def commit_and_go_on(test):
            db.commit()
            db.begin()
            Note.create(title="in a new transaction")

        self.run_committing(commit_and_go_on, "ended the transaction")

    def test_commit_then_request(self):
        def commit_then_request(test):
            db.commit()
            test.assertStatus(test.client.post("/notes", body={"title": "posted after"}), 303)

        self.run_committing(commit_then_request, "ended the transaction")

    @unittest.skipUnless(backend() == "mysql", "implicit commits by DDL are MySQL/MariaDB behaviour")
    def test_ddl_commits_implicitly_on_mariadb(self):
        def ddl(test):
            db.execute_sql("CREATE TABLE pu_ddl_probe (id INTEGER)")
            test.addCleanup(db.execute_sql, "DROP TABLE IF EXISTS pu_ddl_probe")

        text = self.run_committing(ddl, "commits implicitly")
        self.assertIn("TRUNCATE", text)

    @unittest.skipUnless(backend() == "mysql", "implicit commits by TRUNCATE are MySQL/MariaDB behaviour")
    def test_truncate_commits_implicitly_on_mariadb(self):
        self.run_committing(lambda test: db.execute_sql("TRUNCATE TABLE session"), "commits implicitly")

    def test_lost_connection(self):
        def lose_connection(test):
            if backend() == "postgresql":
                killer = server_database(db.database)
                killer.connect()
                pid = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
                killer.execute_sql("SELECT pg_terminate_backend(%s)", (pid,))
                killer.close()
            elif backend() == "mysql":
                killer = server_database(db.database)
                killer.connect()
                connection_id = db.execute_sql("SELECT CONNECTION_ID()").fetchone()[0]
                killer.execute_sql(f"KILL {int(connection_id)}")
                killer.close()
            else:
                db.connection().close()

        text = self.run_committing(lose_connection, "lost its connection")
        self.assertIn("Do not close the database", text)

    def test_db_close_in_a_test_is_refused_by_peewee_and_closes_nothing(self):
        # README section 2: peewee refuses to close a connection with a
        # transaction open (the library's), so the test errors there.
        class ClosesTheDatabase(Notes):
            def test_1(self):
                Note.create(title="before close")
                with self.assertRaisesRegex(pw.OperationalError, "Attempting to close database while transaction"):
                    db.close()
                self.assertFalse(db.is_closed())
                self.assertEqual(Note.select().count(), 1)

        result, output = run_inner(ClosesTheDatabase, CleanAfterwards)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(committed_rows(Note), 0)

    def test_commit_in_set_up_test_data(self):
        class CommitsClassData(Notes):
            @classmethod
            def setUpTestData(cls):
                cls.user = User.create(name="committed in class data")
                db.commit()

            def test_never_runs(self):
                pass  # pragma: no cover

        result, output = run_inner(CommitsClassData, CleanAfterwards)
        self.assertEqual(result.testsRun, 2, output)
        self.assertEqual(len(result.errors), 1, output)
        fixture, text = result.errors[0]
        self.assertIn("setUpClass", str(fixture))
        self.assertIn("CommitsClassData.load_fixtures()/setUpTestData()", text)
        self.assertIn("ended the transaction", text)
        self.assertEqual(committed_rows(User), 0)
        self.assertNotIn("user", vars(CommitsClassData))

    def test_commit_in_a_static_set_up_test_data(self):
        # A hook that is not a classmethod is still the class's own hook.
        class CommitsInStaticHook(Notes):
            @staticmethod
            def setUpTestData():
                User.create(name="committed in a static hook")
                db.commit()

            def test_never_runs(self):
                pass  # pragma: no cover

        result, output = run_inner(CommitsInStaticHook, CleanAfterwards)
        self.assertEqual(len(result.errors), 1, output)
        self.assertIn("CommitsInStaticHook.load_fixtures()/setUpTestData()", result.errors[0][1])
        self.assertEqual(committed_rows(User), 0)

    def test_commit_in_a_sub_test(self):
        class CommitsInSubTest(Notes):
            def test_sub_tests(self):
                with self.subTest("first"):
                    Note.create(title="one")
                    db.commit()
                with self.subTest("second"):
                    Note.create(title="two")

        result, output = run_inner(CommitsInSubTest, CleanAfterwards)
        self.assertEqual(result.testsRun, 3, output)
        self.assertEqual(list(errors_by_test(result)), ["test_sub_tests"], output)
        self.assertEqual(committed_rows(Note), 0)


class StrayTransactionTests(unittest.TestCase):
    def test_transaction_entered_and_never_exited(self):
        class LeavesOneOpen(Notes):
            def test_leaves_a_transaction_on_the_stack(self):
                db.transaction().__enter__()
                Note.create(title="inside")

        result, output = run_inner(LeavesOneOpen, CleanAfterwards)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertFalse(db.in_transaction())


class AsyncCommitTests(unittest.TestCase):
    def test_commit_in_an_async_test(self):
        class AsyncCommits(AsyncChannelTestCase):
            app = "tests.support.apps.notes.main:app"

            async def test_commits(self):
                await self.client.post("/notes", body={"title": "posted"})
                db.commit()

            async def test_next_is_clean(self):
                self.assertEqual(Note.select().count(), 0)

        result, output = run_inner(AsyncCommits, CleanAfterwards)
        self.assertEqual(result.testsRun, 4, output)
        self.assertEqual(list(errors_by_test(result)), ["test_commits"], output)
        self.assertEqual(committed_rows(Note), 0)


class EscapedWritesTests(unittest.TestCase):
    """Rows committed by another connection are reported against the class
    (or, with the setting, the test), removed, and nobody else is blamed."""

    def setUp(self):
        if backend() == "sqlite":
            self.skipTest("in-memory SQLite: other connections see another database "
                          "(SubprocessEscapeTests covers a SQLite file)")

    def run_escaping(self, write, **attributes):
        class Escapes(Notes):
            def test_1_writes_elsewhere(self):
                write(self)

            def test_2_other(self):
                pass

        for name, value in attributes.items():
            setattr(Escapes, name, value)
        result, output = run_inner(Escapes, CleanAfterwards)
        self.assertEqual(result.testsRun, 4, output)
        self.assertEqual(result.failures, [], output)
        self.assertEqual(len(result.errors), 1, output)
        self.assertEqual(committed_rows(Note), 0, "the escaped rows were removed")
        return result.errors[0]

    def assertReportedOnClass(self, error):
        test, text = error
        self.assertIn("tearDownClass", str(test))
        self.assertIn("Escapes", text)
        self.assertIn("'note' (0 -> 1 rows)", text)
        self.assertIn("another connection", text)

    def test_thread(self):
        def write(test):
            thread = threading.Thread(target=lambda: (Note.create(title="from a thread"), db.close()))
            thread.start()
            thread.join()

        self.assertReportedOnClass(self.run_escaping(write))

    def test_asyncio_to_thread(self):
        def write(test):
            async def scenario():
                await asyncio.to_thread(lambda: (Note.create(title="to_thread"), db.close()))
            asyncio.run(scenario())

        self.assertReportedOnClass(self.run_escaping(write))

    def test_second_database_object(self):
        def write(test):
            other = server_database(db.database)
            other.connect()
            other.execute(Note.insert(title="second Database"))
            other.close()

        self.assertReportedOnClass(self.run_escaping(write))

    def test_per_test_setting_names_the_test(self):
        def write(test):
            other = server_database(db.database)
            other.connect()
            other.execute(Note.insert(title="second Database"))
            other.close()

        test, text = self.run_escaping(write, check_escaped_writes="test")
        self.assertEqual(test._testMethodName, "test_1_writes_elsewhere")
        self.assertIn("test_1_writes_elsewhere", text)


ESCAPE_SOURCE = '''
import asyncio
import threading

from proper_unittest import ProperTestCase
from tests.support.apps.notes.main import Note, db


class Escapes(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_thread(self):
        thread = threading.Thread(target=lambda: (Note.create(title="thread"), db.close()))
        thread.start()
        thread.join()

    def test_to_thread(self):
        async def scenario():
            await asyncio.to_thread(lambda: (Note.create(title="to_thread"), db.close()))
        asyncio.run(scenario())


class Later(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_clean(self):
        self.assertEqual(Note.select().count(), 0)
'''


class SubprocessEscapeTests(unittest.TestCase):
    """The same in a fresh interpreter, on a SQLite file (or a server
    database of its own), where other threads do see the tables."""

    def run_source(self, extra_env=None):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        name = "notes_escape_test" + worker_suffix()
        if backend() == "sqlite":
            name = str(Path(folder, name + ".sqlite3"))
        return run_suite(ESCAPE_SOURCE, env={"NOTES_DB_NAME": name, **(extra_env or {})})

    def test_reported_on_the_class(self):
        done = self.run_source()
        self.assertIn("Ran 3 tests", done.stderr)
        self.assertIn("FAILED (errors=1)", done.stderr)
        self.assertIn("ERROR: tearDownClass (test_inner_case.Escapes)", done.stderr)
        self.assertIn("'note' (0 -> 2 rows)", done.stderr)
        self.assertRegex(done.stderr, r"test_clean \(test_inner_case\.Later\.test_clean\) \.\.\. ok")

    def test_reported_on_each_test(self):
        done = self.run_source({"PROPER_UNITTEST_CHECK_WRITES": "test"})
        self.assertIn("Ran 3 tests", done.stderr)
        self.assertIn("FAILED (errors=2)", done.stderr)
        self.assertIn("ERROR: test_thread (test_inner_case.Escapes.test_thread)", done.stderr)
        self.assertIn("ERROR: test_to_thread (test_inner_case.Escapes.test_to_thread)", done.stderr)
        self.assertRegex(done.stderr, r"test_clean \(test_inner_case\.Later\.test_clean\) \.\.\. ok")


class CountingTests(unittest.TestCase):
    """A failing set-up, teardown or cleanup is an error of the same test,
    and the test counts once."""

    def test_failing_fixtures_count_once(self):
        class Failing(Notes):
            def test_set_up(self):
                pass

            def test_tear_down(self):
                pass

            def test_cleanup(self):
                self.addCleanup(lambda: 1 / 0)

            def test_fails_and_tear_down_fails(self):
                self.fail("on purpose")

            def test_commits(self):
                db.commit()

            def setUp(self):
                super().setUp()
                if self._testMethodName == "test_set_up":
                    raise RuntimeError("setUp broke")

            def tearDown(self):
                if self._testMethodName in ("test_tear_down", "test_fails_and_tear_down_fails"):
                    raise RuntimeError("tearDown broke")

        result, output = run_inner(Failing, CleanAfterwards)
        self.assertEqual(result.testsRun, 7, output)
        errors = errors_by_test(result)
        self.assertEqual(sorted(errors), sorted([
            "test_set_up", "test_tear_down", "test_cleanup", "test_fails_and_tear_down_fails", "test_commits",
        ]), output)
        for name in ("test_set_up", "test_tear_down", "test_cleanup", "test_commits"):
            self.assertEqual(len(errors[name]), 1, name)

    def test_async_failing_fixtures_count_once(self):
        class AsyncFailing(AsyncChannelTestCase):
            app = "tests.support.apps.notes.main:app"

            async def asyncSetUp(self):
                if self._testMethodName == "test_set_up":
                    raise RuntimeError("asyncSetUp broke")

            async def asyncTearDown(self):
                if self._testMethodName == "test_tear_down":
                    raise RuntimeError("asyncTearDown broke")

            async def test_set_up(self):
                pass

            async def test_tear_down(self):
                pass

            async def test_commits(self):
                db.commit()

            async def test_passes(self):
                pass

        result, output = run_inner(AsyncFailing)
        self.assertEqual(result.testsRun, 4, output)
        errors = errors_by_test(result)
        self.assertEqual(sorted(errors), ["test_commits", "test_set_up", "test_tear_down"], output)
        self.assertTrue(all(len(texts) == 1 for texts in errors.values()), output)

    def test_runtests_summary_line(self):
        source = '''
from proper_unittest import ProperTestCase
from tests.support.apps.notes.main import db


class Failing(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def tearDown(self):
        if self._testMethodName == "test_tear_down":
            raise RuntimeError("tearDown broke")

    def test_cleanup(self):
        self.addCleanup(lambda: 1 / 0)

    def test_commits(self):
        db.commit()

    def test_passes(self):
        pass

    def test_tear_down(self):
        pass
'''
        folder = self.enterContext(tempfile.TemporaryDirectory())
        name = "notes_counting_test" + worker_suffix()
        database = str(Path(folder, name + ".sqlite3")) if backend() == "sqlite" else name
        done = run_suite({"test_failing.py": source}, REPO / "runtests.py", Path(folder, "test_failing.py"),
                         folder=folder, env={"NOTES_DB_NAME": database})
        output = done.stdout + done.stderr
        self.assertIn("Ran 4 tests", output)
        self.assertIn("FAILED (errors=3)", output)
        self.assertRegex(output, re.compile(r"^1 passed, 3 failed$", re.M))
        self.assertEqual(done.returncode, 1, output)


class SettingTests(unittest.TestCase):
    def test_bad_check_setting_is_a_clear_error(self):
        class BadSetting(Notes):
            check_escaped_writes = "sometimes"

            def test_anything(self):
                pass  # pragma: no cover

        output = the_error(self, run_inner(BadSetting))
        self.assertIn("check_escaped_writes / PROPER_UNITTEST_CHECK_WRITES is 'sometimes'", output)


class SubTestTests(unittest.TestCase):
    def test_each_sub_test_starts_from_the_test_rows(self):
        class SubTests(Notes):
            def test_rows(self):
                Note.create(title="test row")
                for n in range(3):
                    with self.subTest(n=n):
                        self.assertEqual([x.title for x in Note.select()], ["test row"])
                        Note.create(title=f"sub {n}")
                        self.client.post("/notes", body={"title": f"posted {n}"})
                        if n == 1:
                            self.fail("a failing sub-test is rolled back too")
                self.assertEqual(Note.select().count(), 1)

        result, output = run_inner(SubTests)
        self.assertEqual(result.testsRun, 1, output)
        self.assertEqual(len(result.failures), 1, output)
        self.assertIn("a failing sub-test", output)


class TransactionTestCaseTests(unittest.TestCase):
    def test_commits_are_real_and_tables_emptied(self):
        seen = {}

        class Committing(WithClassData, ProperTransactionTestCase):
            app = "tests.support.apps.notes.main:app"

            def test_1_commits(self):
                self.assertFalse(db.in_transaction())
                with db.atomic():
                    Note.create(title="committed")
                seen["during"] = committed_rows(Note)
                self.alice.name = "changed"
                self.client.post("/notes", body={"title": "posted"})

            def test_2_starts_empty_but_for_class_data(self):
                self.assertEqual([n.title for n in Note.select()], ["fixture"])
                self.assertEqual(self.alice.name, "alice")
                self.assertEqual(User.select().count(), 1)

        result, output = run_inner(Committing, CleanAfterwards)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(seen["during"], 2, "the commit was real: another connection saw it")
        self.assertEqual(committed_rows(Note) + committed_rows(User), 0)
        self.assertNotIn("alice", vars(Committing))
