"""huey's log of a failing task: kept out of the output of a passing test,
shown in the report of a failing one."""
import unittest

from proper_unittest import ProperTestCase
from tests.inner import run_in_subprocess


UNHANDLED = "Unhandled exception in task"

TEST_MODULE = '''
import unittest
from huey.exceptions import TaskException
from proper_unittest import AsyncChannelTestCase, ProperTestCase
from tests.apps.notes.main import Note, refuse_note


class TaskErrors(ProperTestCase):
    app = "tests.apps.notes.main:app"

    def test_1_expected_task_error_passes_quietly(self):
        with self.assertRaises(TaskException):
            refuse_note("quiet-direct").get()

    def test_2_expected_task_error_inside_a_request_passes_quietly(self):
        self.assertStatus(self.client.post("/notes", body={"title": "quiet-request", "refuse": "1"}), 303)

    def test_3_failing_test_shows_the_task_log(self):
        refuse_note("shown-sync")
        self.assertEqual(Note.select().count(), 1, "one note expected")

    def test_4_error_in_the_test_shows_it_too(self):
        self.client.post("/notes", body={"title": "shown-request", "refuse": "1"})
        raise RuntimeError("the test itself broke")


class AsyncTaskErrors(AsyncChannelTestCase):
    app = "tests.apps.notes.main:app"

    async def test_5_passing_async_test_is_quiet(self):
        result = await self.client.post("/notes", body={"title": "quiet-async", "refuse": "1"})
        self.assertStatus(result, 303)

    async def test_6_failing_async_test_shows_the_task_log(self):
        await self.client.post("/notes", body={"title": "shown-async", "refuse": "1"})
        self.fail("async failure")
'''


class TaskLogTests(ProperTestCase):
    app = "tests.apps.notes.main:app"

    def test_hidden_for_passing_tests_and_shown_for_failing_ones(self):
        # Its own database: this class holds notes_test open meanwhile.
        process = run_in_subprocess(TEST_MODULE, env={"NOTES_DB_NAME": "notes_tasklog_test"})
        output = process.stderr
        self.assertIn("FAILED (failures=2, errors=1)", output, output)
        # Three reports carry the task's log, each once; nothing else does.
        self.assertEqual(output.count(UNHANDLED), 3, output)
        for title in ("quiet-direct", "quiet-request", "quiet-async"):
            self.assertNotIn(title, output)
        reports = output.split("=" * 70)[1:]
        for name, title in (("test_3_", "shown-sync"), ("test_4_", "shown-request"),
                            ("test_6_", "shown-async")):
            report = next(text for text in reports if name in text.strip().splitlines()[0])
            self.assertIn("Logged during this test (proper, huey):", report)
            self.assertIn(f"[ERROR] huey: {UNHANDLED}", report)
            self.assertIn(f"ValueError: refused note '{title}'", report)
            self.assertEqual(report.count(UNHANDLED), 1, report)
            self.assertNotIn("applog.py", report)  # the user's frames, not the library's
        self.assertIn('in test_3_failing_test_shows_the_task_log\n    self.assertEqual(Note', output)

    def test_the_task_log_is_captured_in_this_process(self):
        from tests.apps.notes.main import refuse_note

        refuse_note("in process")
        self.assertIn(UNHANDLED, "\n".join(self._app_log.lines))


if __name__ == "__main__":
    unittest.main()
