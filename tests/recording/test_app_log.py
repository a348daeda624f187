"""The app-log capture costs nothing on the passing path (no record below the captured level,
the level put back after the class); huey's log of a failing task is shown only in the
report of a failing test."""
import logging
import unittest
from contextlib import contextmanager

from proper.helpers import logger as proper_logger

from proper_unittest import ProperTestCase

from tests.support.inner import NotesCase, run_suite, run_inner


APP = "tests.support.apps.notes.main:app"


@contextmanager
def records_built(logger_name="proper"):
    """Every LogRecord created for `logger_name` (or its children) inside the
    block, by level name: counted where records are made, so a record the
    logger's level stops is never counted."""
    built = []
    make_record = logging.getLogRecordFactory()

    def counting_factory(name, *args, **kwargs):
        record = make_record(name, *args, **kwargs)
        if name == logger_name or name.startswith(logger_name + "."):
            built.append(record.levelname)
        return record

    logging.setLogRecordFactory(counting_factory)
    try:
        yield built
    finally:
        logging.setLogRecordFactory(make_record)


def log_in_requests(test, *messages):
    """At the end of each request of `test`, log `messages` (level, text)
    on the "proper" logger. Removed when the test ends."""
    app = test.app

    def hook():
        for level, text in messages:
            proper_logger.log(level, "%s", text)

    saved = app._on_teardown
    app.on_teardown(hook)
    test.addCleanup(setattr, app, "_on_teardown", saved)


class CountingFormatter(logging.Formatter):
    """A formatter that counts its calls."""

    calls = 0

    def format(self, record):
        CountingFormatter.calls += 1
        return super().format(record)


class NoRecordsBuiltTests(ProperTestCase):
    app = APP

    def make_requests(self):
        self.client.post("/notes", body={"title": "logged?"})
        self.client.get("/notes")
        self.client.get("/boom")

    def test_proper_builds_no_debug_record_during_a_test(self):
        with records_built() as built:
            self.make_requests()
        self.assertNotIn("DEBUG", built)

    def test_the_same_requests_do_build_debug_records_at_debug_level(self):
        # The check above can fail: at DEBUG, Proper logs these requests.
        level = proper_logger.level
        self.addCleanup(proper_logger.setLevel, level)
        proper_logger.setLevel(logging.DEBUG)
        with records_built() as built:
            self.make_requests()
        self.assertIn("DEBUG", built)

    def test_kept_records_are_formatted_only_when_read(self):
        log_in_requests(self, (logging.INFO, "kept"), (logging.DEBUG, "never built"))
        formatter = self._app_log.formatter
        self.addCleanup(self._app_log.setFormatter, formatter)
        self._app_log.setFormatter(CountingFormatter("[%(levelname)s] %(message)s"))
        CountingFormatter.calls = 0
        with records_built() as built:
            response = self.client.get("/cookies")
            self.client.get("/cookies")
        self.assertEqual(built, ["INFO", "INFO"])
        self.assertEqual(CountingFormatter.calls, 0)
        self.assertEqual(len(response.app_log), 1)
        self.assertEqual(response.app_log, ["[INFO] kept"])
        self.assertEqual(CountingFormatter.calls, 1)

    def test_a_failure_message_still_shows_what_the_app_logged(self):
        log_in_requests(self, (logging.WARNING, "the app warned about this"))
        response = self.client.get("/notes/12345")
        with self.assertRaises(AssertionError) as caught:
            self.assertStatus(response, 200)
        self.assertIn("The app logged:\n[WARNING] the app warned about this", str(caught.exception))


class LevelRestoredTests(unittest.TestCase):
    """Outside any ProperTestCase: the logger's level before and after."""

    def run_inner_class_seeing_the_level(self):
        seen = []

        class Inner(NotesCase):
            def test_level(self):
                seen.append(proper_logger.getEffectiveLevel())

        result, output = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), output)
        return seen[0]

    def set_level(self, level):
        self.addCleanup(proper_logger.setLevel, proper_logger.level)
        proper_logger.setLevel(level)

    def test_raised_to_the_captured_level_during_the_class_and_put_back_after(self):
        self.set_level(logging.DEBUG)  # as Proper leaves it
        self.assertEqual(self.run_inner_class_seeing_the_level(), logging.INFO)
        self.assertEqual(proper_logger.level, logging.DEBUG)

    def test_a_higher_level_is_never_lowered(self):
        self.set_level(logging.WARNING)
        self.assertEqual(self.run_inner_class_seeing_the_level(), logging.WARNING)
        self.assertEqual(proper_logger.level, logging.WARNING)

    def test_an_unset_level_is_put_back_unset(self):
        self.set_level(logging.NOTSET)
        self.run_inner_class_seeing_the_level()
        self.assertEqual(proper_logger.level, logging.NOTSET)

    def test_nested_classes_keep_the_level_until_the_outer_one_ends(self):
        self.set_level(logging.DEBUG)
        levels = []

        class Outer(NotesCase):
            def test_runs_an_inner_class(self):
                result, output = run_inner(Inner)
                self.assertTrue(result.wasSuccessful(), output)
                levels.append(proper_logger.getEffectiveLevel())

        class Inner(NotesCase):
            def test_level(self):
                levels.append(proper_logger.getEffectiveLevel())

        result, output = run_inner(Outer)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(levels, [logging.INFO, logging.INFO])
        self.assertEqual(proper_logger.level, logging.DEBUG)


UNHANDLED = "Unhandled exception in task"

TEST_MODULE = '''
import unittest
from huey.exceptions import TaskException
from proper_unittest import AsyncChannelTestCase, ProperTestCase
from tests.support.apps.notes.main import Note, refuse_note


class TaskErrors(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

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
    app = "tests.support.apps.notes.main:app"

    async def test_5_passing_async_test_is_quiet(self):
        result = await self.client.post("/notes", body={"title": "quiet-async", "refuse": "1"})
        self.assertStatus(result, 303)

    async def test_6_failing_async_test_shows_the_task_log(self):
        await self.client.post("/notes", body={"title": "shown-async", "refuse": "1"})
        self.fail("async failure")
'''


class TaskLogTests(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_hidden_for_passing_tests_and_shown_for_failing_ones(self):
        # Its own database: this class holds notes_test open meanwhile.
        process = run_suite(TEST_MODULE, env={"NOTES_DB_NAME": "notes_tasklog_test"})
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
        from tests.support.apps.notes.main import refuse_note

        refuse_note("in process")
        self.assertIn(UNHANDLED, "\n".join(self._app_log.lines))
