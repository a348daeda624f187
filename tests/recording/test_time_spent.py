"""--durations says where the slowest tests' time went (SQL, password
hashing, requests, templates, emails, tasks), measured only when asked."""
import io
import itertools
import os
import unittest
from unittest import mock

from proper_unittest.recording import time_spent as _time_spent
from proper_unittest.recording.time_spent import HASHING, REQUESTS, SQL, TimeSpent, describe
from proper_unittest.runner.records import RecordingResult
from proper_unittest.runner.results import CountingRunner
from tests.support.apps.notes.main import Note
from tests.support.inner import NotesCase


class Calls:
    """Something with an outer method calling an inner one."""

    def outer(self) -> str:
        return self.inner()

    def inner(self) -> str:
        return "done"


class ExclusiveTimes(unittest.TestCase):
    def test_a_part_inside_another_counts_only_as_itself(self):
        ticks = itertools.count()
        spent = TimeSpent(clock=lambda: float(next(ticks)))
        calls = Calls()
        spent._wrap(calls, "outer", REQUESTS)
        spent._wrap(calls, "inner", SQL)
        # Clock reads: enter outer 0, enter inner 1, leave inner 2, leave outer 3.
        self.assertEqual(calls.outer(), "done")
        self.assertEqual(spent.seconds[SQL], 1.0)
        self.assertEqual(spent.seconds[REQUESTS], 2.0)
        spent.uninstall()
        self.assertNotIn("outer", vars(calls))
        self.assertNotIn("inner", vars(calls))

    def test_the_line_shows_each_part_and_the_rest(self):
        line = describe({SQL: 0.010, HASHING: 0.005}, 0.020)
        self.assertEqual(line, "SQL 10.0 ms (50%), password hashing 5.0 ms (25%), test code and set-up 5.0 ms (25%)")


class SlowestTestsReport(unittest.TestCase):
    def run_with_durations(self, *test_classes, measure=True):
        env = {_time_spent.ENV_VAR: "1"} if measure else {}
        stream = io.StringIO()
        suite = unittest.TestSuite(unittest.defaultTestLoader.loadTestsFromTestCase(c) for c in test_classes)
        with mock.patch.dict(os.environ, env):
            if not measure:
                os.environ.pop(_time_spent.ENV_VAR, None)
            result = CountingRunner(stream=stream, resultclass=RecordingResult, durations=0, verbosity=2).run(suite)
        self.assertTrue(result.wasSuccessful(), stream.getvalue())
        return stream.getvalue()

    def test_the_report_names_sql_hashing_and_requests(self):
        seen = {}

        class Busy(NotesCase):
            def test_busy(self):
                seen["installed"] = self._time_spent is not None
                self.app.auth.hash_password("password123")
                Note.create(title="x", body="y")
                self.client.get("/notes")

        output = self.run_with_durations(Busy)
        self.assertTrue(seen["installed"])
        report = output.split("Slowest test durations")[1]
        line = report.splitlines()[3]
        for part in ("SQL ", "password hashing ", "requests (app code) ", "test code and set-up "):
            self.assertIn(part, line)

    def test_nothing_is_measured_unless_asked(self):
        seen = {}

        class Quiet(NotesCase):
            def test_quiet(self):
                seen["installed"] = self._time_spent is not None
                seen["execute_sql"] = "execute_sql" in vars(self.app.db["main"])

        output = self.run_with_durations(Quiet, measure=False)
        self.assertFalse(seen["installed"])
        self.assertNotIn("SQL", output.split("Slowest test durations")[1])
