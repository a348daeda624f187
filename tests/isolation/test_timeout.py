"""The per-test time limit: a hanging test (sync, or async in an await or
blocking the loop) fails with the stack of where it was, its rows are rolled
back and the run goes on; set on the class, by PROPER_UNITTEST_TIMEOUT for
unittest and pytest, and by the runner's --timeout."""
import asyncio
import time
import unittest

from proper_unittest import AsyncChannelTestCase, ProperTestCase
from tests.support.apps.notes.main import GATES, Gate, Note
from tests.support.inner import run_inner, run_suite
from tests.support.runner_projects import skip_unless_sqlite
from tests.support.outcomes import the_error

APP = "tests.support.apps.notes.main:app"
LIMIT = 0.3


def hanging_classes():
    """The hanging test classes (made here, so discovery never runs them)."""
    class SyncHang(ProperTestCase):
        app = APP
        timeout = LIMIT

        def test_1_hangs(self):
            Note.create(title="before the hang")
            time.sleep(30)

        def test_2_runs_after_it(self):
            self.assertEqual(Note.select().count(), 0)


    class AsyncHang(AsyncChannelTestCase):
        app = APP
        timeout = LIMIT

        async def test_1_awaits_forever(self):
            Note.create(title="before the await")
            await asyncio.Event().wait()

        async def test_2_blocks_the_loop(self):
            time.sleep(30)

        async def test_3_runs_after_them(self):
            self.assertEqual(Note.select().count(), 0)
            await asyncio.sleep(0)

    return SyncHang, AsyncHang


def channel_hanging_class(gates):
    """An async test class whose tests wait on channel code blocked in its
    worker thread (WorkerChannel.hold, each test at its own gate of `gates`)."""

    class ChannelHang(AsyncChannelTestCase):
        app = APP
        timeout = LIMIT

        async def hold(self, gate):
            """A connection and the frame that blocks its action at `gate`."""
            ws = await self.connect()
            await ws.subscribe("WorkerChannel")
            # Opened by the test's own cleanups, before the library's end.
            self.addCleanup(GATES[gate].opened.set)
            return ws, {"command": "message", "channel": "WorkerChannel", "action": "hold", "params": {},
                        "data": {"gate": gate, "title": "written by the held action"}}

        async def test_1_awaits_the_blocked_action(self):
            ws, hold = await self.hold(gates[0])
            await ws.send(hold, timeout=30)

        async def test_2_its_query_waits_for_the_blocked_action(self):
            ws, hold = await self.hold(gates[1])
            ws.client_send(hold)
            await asyncio.to_thread(GATES[gates[1]].entered.wait, 10)
            Note.select().count()  # the worker holds the shared connection

        async def test_3_runs_after_them(self):
            self.assertEqual(Note.select().count(), 0)
            await asyncio.sleep(0)

    return ChannelHang


class TimeLimitTests(unittest.TestCase):
    """Outside any test transaction: the inner tests run their own."""

    def run_hanging(self, test_class):
        started = time.monotonic()
        result, output = run_inner(test_class)
        self.assertLess(time.monotonic() - started, 20, "the limit did not stop the test")
        return result, output

    def test_a_hanging_sync_test_fails_with_where_it_was_and_the_run_goes_on(self):
        result, output = self.run_hanging(hanging_classes()[0])
        self.assertEqual((result.testsRun, len(result.failures), len(result.errors)), (2, 1, 0), output)
        test, report = result.failures[0]
        self.assertTrue(test.id().endswith(".SyncHang.test_1_hangs"), test.id())
        self.assertIn(f"The test {test.id()} ran longer than its time limit of 0.3s (SyncHang.timeout)", report)
        self.assertIn("Where it was (most recent call last):", report)
        self.assertIn("in test_1_hangs\n    time.sleep(30)", report)
        self.assertIn("TestTimeout", report)

    def test_a_hanging_async_test_fails_with_its_await_and_the_run_goes_on(self):
        result, output = self.run_hanging(hanging_classes()[1])
        self.assertEqual((result.testsRun, len(result.failures), len(result.errors)), (3, 2, 0), output)
        reports = {test.id().rsplit(".", 1)[1]: report for test, report in result.failures}
        self.assertEqual(sorted(reports), ["test_1_awaits_forever", "test_2_blocks_the_loop"])
        awaiting = reports["test_1_awaits_forever"]
        self.assertIn("ran longer than its time limit of 0.3s (AsyncHang.timeout)", awaiting)
        self.assertIn("in test_1_awaits_forever\n    await asyncio.Event().wait()", awaiting)
        self.assertIn("in wait", awaiting)  # the awaited coroutine's own frame
        self.assertIn("in test_2_blocks_the_loop\n    time.sleep(30)", reports["test_2_blocks_the_loop"])

    def test_a_test_stuck_on_channel_code_times_out_and_its_rows_are_rolled_back(self):
        gates = ("timeouts-1", "timeouts-2")
        for name in gates:
            GATES[name] = Gate()
            self.addCleanup(GATES.pop, name)
            self.addCleanup(GATES[name].opened.set)
        result, output = self.run_hanging(channel_hanging_class(gates))
        self.assertEqual((result.testsRun, len(result.failures), len(result.errors)), (3, 2, 0), output)
        reports = {test.id().rsplit(".", 1)[1]: report for test, report in result.failures}
        self.assertEqual(sorted(reports), ["test_1_awaits_the_blocked_action",
                                           "test_2_its_query_waits_for_the_blocked_action"])
        awaiting = reports["test_1_awaits_the_blocked_action"]
        self.assertIn("ran longer than its time limit of 0.3s (ChannelHang.timeout)", awaiting)
        self.assertIn("in test_1_awaits_the_blocked_action\n    await ws.send(hold, timeout=30)", awaiting)
        querying = reports["test_2_its_query_waits_for_the_blocked_action"]
        self.assertIn("in test_2_its_query_waits_for_the_blocked_action\n    Note.select().count()", querying)

    def test_no_limit_by_default(self):
        class Quick(ProperTestCase):
            app = APP

            def test_sleeps_a_little(self):
                time.sleep(LIMIT + 0.2)

        result, output = run_inner(Quick)
        self.assertTrue(result.wasSuccessful(), output)

    def test_a_bad_value_is_an_error_saying_what_is_wrong(self):
        class Bad(ProperTestCase):
            app = APP
            timeout = "soon"

            def test_x(self):
                pass  # pragma: no cover

        output = the_error(self, run_inner(Bad))
        self.assertIn("Bad.timeout must be a number of seconds (0 for no limit), not 'soon'.", output)


HANGING_MODULE = """
import time
from proper_unittest import ProperTestCase
from tests.support.apps.notes.main import Note

class Hangs(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_1_hangs(self):
        Note.create(title="x")
        time.sleep(30)

    def test_2_passes(self):
        self.assertEqual(Note.select().count(), 0)
"""


# The child processes' own notes database: this process may hold the notes
# app's (a child run's exit hook would then end this process's connection).
CHILD_DATABASE = {"NOTES_DB_NAME": "notes_timeouts_test"}


class EnvironmentAndRunnerTests(unittest.TestCase):
    def test_the_environment_variable_under_python_m_unittest(self):
        proc = run_suite(HANGING_MODULE, env={"PROPER_UNITTEST_TIMEOUT": "0.5", **CHILD_DATABASE})
        self.assertIn("ran longer than its time limit of 0.5s (PROPER_UNITTEST_TIMEOUT)", proc.stderr)
        self.assertIn("time.sleep(30)", proc.stderr)
        self.assertIn("FAILED (failures=1)", proc.stderr)
        self.assertIn("test_2_passes (test_inner_case.Hangs.test_2_passes) ... ok", proc.stderr)

    def run_tool(self, *command, env=None):
        return run_suite({"test_hangs.py": HANGING_MODULE}, *command, env={**CHILD_DATABASE, **(env or {})})

    def test_the_environment_variable_under_pytest(self):
        proc = self.run_tool("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_hangs.py",
                             env={"PROPER_UNITTEST_TIMEOUT": "0.5"})
        self.assertIn("ran longer than its time limit of 0.5s (PROPER_UNITTEST_TIMEOUT)", proc.stdout)
        self.assertIn("1 failed, 1 passed", proc.stdout)

    def test_the_runner_option(self):
        proc = self.run_tool("-m", "proper_unittest", "--timeout", "0.5", "--no-rerun-failures", "test_hangs.py")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("ran longer than its time limit of 0.5s (PROPER_UNITTEST_TIMEOUT)", proc.stderr)
        self.assertEqual(proc.stdout.strip().splitlines()[-1], "1 passed, 1 failed")

    def test_a_bad_runner_option_is_a_usage_error(self):
        proc = self.run_tool("-m", "proper_unittest", "--timeout", "soon", "test_hangs.py")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--timeout", proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)


STUCK_MODULE = """
import signal
import threading
import time
import unittest
from proper_unittest import ProperTestCase

class Stuck(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_1_blocks_the_alarm(self):
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        while True:
            time.sleep(0.01)

    def test_2_after_it(self):
        pass
"""

PLAIN_STUCK_CLASS = """

class PlainStuck(unittest.TestCase):
    def test_waits_forever(self):  # a plain TestCase: no alarm of its own
        threading.Event().wait()


class Fine(unittest.TestCase):
    def test_1(self):
        pass

    def test_2(self):
        pass
"""


class OverdueTests(unittest.TestCase):
    """A test its time limit's alarm cannot stop (SIGALRM blocked, or a
    plain TestCase, which has no alarm) is killed with its process twice
    its limit and 5 s after it started; the run reports it and ends."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        skip_unless_sqlite()  # the runner's behaviour, the same on every backend

    def run_tool(self, source, *args):
        return run_suite({"test_stuck.py": source}, "-m", "proper_unittest", "--timeout", "0.5", *args,
                         "test_stuck.py", env=CHILD_DATABASE)

    def test_a_serial_run_reports_the_stuck_test_and_ends(self):
        proc = self.run_tool(STUCK_MODULE, "--no-rerun-failures")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("TestTimedOut: test_stuck.Stuck.test_1_blocks_the_alarm ran past its time limit of "
                      "0.5 s and the limit's alarm could not stop it", proc.stderr)
        self.assertRegex(proc.stderr, r"its process was killed [67] s after the test started")
        self.assertEqual(proc.stdout.strip().splitlines()[-1], "0 passed, 1 failed, 1 not run")

    def test_a_parallel_run_goes_on_in_new_workers_and_reruns_end_too(self):
        proc = self.run_tool(STUCK_MODULE + PLAIN_STUCK_CLASS, "--parallel", "2")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        for test in ("Stuck.test_1_blocks_the_alarm", "PlainStuck.test_waits_forever"):
            with self.subTest(test):
                self.assertRegex(proc.stderr, rf"worker \d was killed for running past its test's time limit "
                                              rf"while running test_stuck\.{test}\n")
                # Run alone again: killed the same way, so the run ends.
                self.assertIn(f"Rerunning test_stuck.{test} alone: the child process exited with status -9",
                              proc.stderr)
        self.assertEqual(proc.stdout.strip().splitlines()[-1], "3 passed, 2 failed")
