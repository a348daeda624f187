"""The flight recorder: what a failing test's report says it did, the reproducer line (which
reruns exactly that test), the cap and the switch."""
import gc
import os
import re
import tempfile
import textwrap
import unittest
import weakref
from pathlib import Path

from proper_unittest import AsyncChannelTestCase, ProperTestCase
from proper_unittest.recording.flight_recorder import MAX_CHARS

from tests.support import flight_cases
from tests.support.apps.journal.main import Entry
from tests.support.inner import run_inner, run_suite
from tests.support.outcomes import failure_text


APP = "tests.support.apps.journal.main:app"


class LibrarySqlTests(unittest.TestCase):
    """Outside any test transaction: the inner test ends its own."""

    def test_the_librarys_clean_up_after_a_commit_is_not_listed(self):
        class Inner(ProperTestCase):
            app = APP

            def test_commits(self):
                Entry.create(text="committed")
                Entry._meta.database.commit()

        result, _ = run_inner(Inner)
        text = failure_text(result)
        self.assertIn("ended the transaction the library runs it in", text)
        self.assertRegex(text, r'INSERT INTO [`"]entry[`"]')
        self.assertNotIn("DELETE FROM", text)
        self.assertNotIn("COUNT(*)", text)

    def test_nor_after_a_lost_connection(self):
        class Inner(ProperTestCase):
            app = APP

            def test_closes(self):
                Entry.create(text="lost")
                Entry._meta.database.connection().close()

        result, _ = run_inner(Inner)
        text = failure_text(result)
        self.assertEqual(len(result.errors), 1, text)
        self.assertIn("lost its connection", text)
        self.assertRegex(text, r'INSERT INTO [`"]entry[`"]')
        self.assertNotIn("DELETE FROM", text)
        self.assertNotIn("COUNT(*)", text)
        self.assertNotIn("CREATE TABLE", text)


class AppendixContentTests(ProperTestCase):
    app = APP

    def test_a_failure_lists_requests_sql_emails_tasks_broadcasts_and_the_reproducer(self):
        result, _ = run_inner(flight_cases.BusyFailingTest)
        text = failure_text(result)
        self.assertEqual(len(result.failures), 1)
        self.assertIn("AssertionError: 3 != 99 : the count", text)
        self.assertIn("---- Flight recorder: what this test did ----", text)
        # Requests, with the redirect followed.
        self.assertIn("Requests (5):", text)
        first_id = re.search(r"POST /entries -> 303 \(Location: /entries/(\d+)\)", text).group(1)
        self.assertIn(
            f"  POST /entries -> 303 (Location: /entries/{first_id})\n  GET /entries/{first_id} -> 200", text
        )
        self.assertIn("GET /entries -> 200", text)
        # SQL grouped, the N+1 of GET /entries counted.
        self.assertRegex(text, r"SQL \(\d+ statements, \d+ distinct, \d+ repeated\):")
        self.assertRegex(text, r'3x SELECT COUNT\(1\) FROM \(SELECT 1 FROM [`"]tag[`"]')
        self.assertNotIn("SAVEPOINT", text)
        # Emails, tasks, broadcasts.
        self.assertIn("Emails (1):\n  To: ann@example.com; Subject: New entry", text)
        self.assertIn("Tasks (3):", text)
        self.assertRegex(text, r"index_entry\(\d+\) \[ran\]")
        self.assertIn("Broadcasts (3):", text)
        self.assertRegex(text, r"entries: \{'id': \d+, 'text': 'three'\}")
        # How to rerun it.
        self.assertIn("Rerun just this test:", text)
        self.assertIn(
            "python -m proper_unittest tests.support.flight_cases.BusyFailingTest.test_busy_then_fails", text
        )
        self.assertIn("pytest 'tests/support/flight_cases.py::BusyFailingTest::test_busy_then_fails'", text)

    def test_an_error_gets_the_appendix_too_and_a_pass_gets_nothing(self):
        class Inner(ProperTestCase):
            app = APP

            def test_1_errors(self):
                self.client.get("/entries")
                raise KeyError("missing")

            def test_2_passes(self):
                self.client.get("/entries")

        result, output = run_inner(Inner)
        self.assertEqual((len(result.errors), len(result.failures)), (1, 0))
        self.assertIn("KeyError: 'missing'", failure_text(result))
        self.assertIn("GET /entries -> 200", failure_text(result))
        self.assertEqual(output.count("Flight recorder"), 1)

    def test_a_test_that_did_nothing_says_so(self):
        class Inner(ProperTestCase):
            app = APP

            def test_fails(self):
                self.fail("bare")

        text = failure_text(run_inner(Inner)[0])
        self.assertIn("(no requests, SQL, emails, tasks or broadcasts)", text)
        self.assertIn("Rerun just this test:", text)

    def test_a_failing_subtest_gets_it(self):
        class Inner(ProperTestCase):
            app = APP

            def test_sub(self):
                with self.subTest(n=1):
                    self.client.get("/now")
                    self.fail("inside the subtest")

        text = failure_text(run_inner(Inner)[0])
        self.assertIn("inside the subtest", text)
        self.assertIn("GET /now -> 200", text)

    def test_the_appendix_is_capped(self):
        class Inner(ProperTestCase):
            app = APP

            def test_many(self):
                for number in range(1, 41):
                    Entry.create(text=f"entry {number} " + "x" * 200)
                    self.client.get(f"/entries/{number}?page={number}")
                self.fail("many")

        text = failure_text(run_inner(Inner)[0])
        appendix = text[text.index("---- Flight recorder"):]
        self.assertLess(len(appendix), MAX_CHARS + 500)
        self.assertIn("Requests (40):\n  ... and 28 earlier", appendix)
        self.assertIn("GET /entries/40 ->", appendix)
        self.assertNotIn("GET /entries/1 ->", appendix)
        self.assertTrue(all(len(line) <= 170 for line in appendix.splitlines()))

    def test_an_async_test_gets_it(self):
        class Inner(AsyncChannelTestCase):
            app = APP

            async def test_fails(self):
                await self.client.post("/entries", body={"text": "async"})
                self.fail("async failure")

        text = failure_text(run_inner(Inner)[0])
        self.assertIn("POST /entries -> 303", text)
        self.assertIn("Broadcasts (1):", text)


class SwitchTests(ProperTestCase):
    app = APP

    def test_the_class_attribute_turns_it_off(self):
        class Inner(ProperTestCase):
            app = APP
            flight_recorder = False

            def test_fails(self):
                self.client.get("/entries")
                self.fail("quiet")

        text = failure_text(run_inner(Inner)[0])
        self.assertIn("quiet", text)
        self.assertNotIn("Flight recorder", text)

    def test_the_environment_variable_turns_it_off(self):
        os.environ["PROPER_UNITTEST_FLIGHT_RECORDER"] = "0"
        self.addCleanup(os.environ.pop, "PROPER_UNITTEST_FLIGHT_RECORDER")
        text = failure_text(run_inner(flight_cases.BusyFailingTest)[0])
        self.assertIn("3 != 99", text)
        self.assertNotIn("Flight recorder", text)

    def test_a_finished_test_keeps_no_response(self):
        # A runner may keep every test object until the run ends: what the
        # recording kept for the appendix must not stay with it.
        responses = []

        class Inner(ProperTestCase):
            app = APP

            def test_requests(self):
                response = self.client.get("/entries")
                responses.append(weakref.ref(response))

        test = Inner("test_requests")  # kept here, as such a runner would
        result = unittest.TestResult()
        unittest.TestSuite([test]).run(result)
        self.assertTrue(result.wasSuccessful(), failure_text(result))
        gc.collect()
        self.assertIsNone(responses[0](), "the response outlived its test")

    def test_assertions_still_work_when_it_is_off(self):
        class Inner(ProperTestCase):
            app = APP
            flight_recorder = False

            def test_records(self):
                self.client.post("/entries", body={"text": "x"})
                self.assertBroadcasts("entries", 1)
                self.assertEnqueued("index_entry", count=1)

        result, _ = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), failure_text(result))


REPRO_MODULE = '''
from proper_unittest import ProperTestCase


class FirstTests(ProperTestCase):
    app = "tests.support.apps.journal.main:app"

    def test_a_passes(self):
        self.assertStatus(self.client.get("/now"), 200)

    def test_b_fails(self):
        self.client.get("/entries")
        self.fail("repro failure")


class SecondTests(ProperTestCase):
    app = "tests.support.apps.journal.main:app"

    def test_c_passes(self):
        pass
'''


class ReproducerTests(ProperTestCase):
    """Running the printed reproducer reruns exactly the failing test."""

    app = APP

    def run_in_project(self, *args, folder):
        # Its own database: the child drops its tables at exit.
        return run_suite(None, *args, folder=folder, env={"JOURNAL_DB_NAME": "journal_repro_test"},
                         drop=("PROPER_UNITTEST_SHUFFLE_SEED", "PYTEST_CURRENT_TEST"))

    def make_project(self) -> str:
        folder = tempfile.mkdtemp()
        self.addCleanup(__import__("shutil").rmtree, folder, True)
        Path(folder, "checks").mkdir()
        Path(folder, "checks", "__init__.py").write_text("")
        Path(folder, "checks", "test_repro.py").write_text(textwrap.dedent(REPRO_MODULE))
        return folder

    def test_the_runner_line_with_the_shuffle_seed_reruns_only_that_test(self):
        folder = self.make_project()
        first = self.run_in_project(
            "-m", "proper_unittest", "checks/test_repro.py", "--shuffle=7", folder=folder
        )
        output = first.stdout + first.stderr
        self.assertIn("repro failure", output)
        self.assertIn("2 passed, 1 failed", output)
        line = re.search(r"^  (python -m proper_unittest .*)$", output, re.M).group(1)
        self.assertEqual(
            line, "python -m proper_unittest checks.test_repro.FirstTests.test_b_fails --shuffle=7"
        )
        again = self.run_in_project(*line.split()[1:], folder=folder)
        rerun = again.stdout + again.stderr
        self.assertIn("0 passed, 1 failed", rerun)
        self.assertIn("test_b_fails", rerun)
        self.assertIn("repro failure", rerun)

    def test_the_pytest_line_reruns_only_that_test(self):
        folder = self.make_project()
        first = self.run_in_project("-m", "pytest", "-p", "no:cacheprovider", "checks", folder=folder)
        self.assertIn("Flight recorder", first.stdout)
        node = re.search(r"pytest '([^']+)'", first.stdout).group(1)
        self.assertEqual(node, "checks/test_repro.py::FirstTests::test_b_fails")
        again = self.run_in_project("-m", "pytest", "-p", "no:cacheprovider", node, folder=folder)
        self.assertIn("1 failed", again.stdout)
        self.assertNotIn("passed", again.stdout.splitlines()[-1])
