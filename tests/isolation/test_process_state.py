"""What a test changes in the process (environment, working directory,
sys.path, loggers, signal handlers) is put back after it and the test is
named; threads it leaves running are named."""
import contextlib
import io
import logging
import os
import signal
import sys
import tempfile
import socket
import threading
import time
import unittest
import warnings

from parameterized import parameterized

from proper_unittest import ProcessStateChanged
from proper_unittest.environment import pytest_runs_the_test
from proper_unittest.isolation.process_state import ProcessState, report
from tests.support.inner import NotesCase, run_inner, run_suite


def change_environ(test):
    os.environ["PU_LEAKED"] = "1"


def change_cwd(test):
    os.chdir(tempfile.gettempdir())


def change_path(test):
    sys.path.insert(0, "/nowhere/leaked")


def change_level(test):
    logging.getLogger("pu.leak").setLevel(logging.CRITICAL)


def change_handlers(test):
    logging.getLogger("pu.leak").addHandler(logging.NullHandler())


def change_disabled(test):
    logging.getLogger("pu.leak").disabled = True


def change_signal(test):
    signal.signal(signal.SIGUSR1, lambda *args: None)


def change_signal_mask(test):
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGALRM])


def start_timer(test):
    signal.signal(signal.SIGALRM, lambda *args: None)  # put back too; the timer would fire in the next test
    signal.setitimer(signal.ITIMER_REAL, 30)


def change_umask(test):
    os.umask(0o077)


def change_recursion_limit(test):
    sys.setrecursionlimit(sys.getrecursionlimit() + 7)


def change_socket_timeout(test):
    socket.setdefaulttimeout(3.5)


def change_warnings(test):
    warnings.filterwarnings("ignore", message="pu leaked")


def change_time_zone(test):
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()


def change_propagate(test):
    logging.getLogger("pu.leak").propagate = False


def configure_new_logger(test):
    logging.getLogger("pu.made.in.the.test").addHandler(logging.StreamHandler(io.StringIO()))


def change_logging_disable(test):
    logging.disable(logging.CRITICAL)


def swap_stdout(test):
    sys.stdout = io.StringIO()


def snapshot():
    logger = logging.getLogger("pu.leak")
    made = logging.Logger.manager.loggerDict.get("pu.made.in.the.test")
    return (
        os.environ.get("PU_LEAKED"), os.getcwd(), list(sys.path), logger.level,
        list(logger.handlers), logger.disabled, signal.getsignal(signal.SIGUSR1),
        signal.pthread_sigmask(signal.SIG_BLOCK, []), signal.getitimer(signal.ITIMER_REAL),
        sys.getrecursionlimit(), socket.getdefaulttimeout(), list(warnings.filters), time.tzname,
        logger.propagate, list(getattr(made, "handlers", [])), logging.root.manager.disable, sys.stdout,
    )


class ProcessStateTests(unittest.TestCase):
    def run_captured(self, *classes):
        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            result, output = run_inner(*classes)
        return result, output, stderr.getvalue()

    @parameterized.expand([
        ("environ", change_environ, "os.environ (added PU_LEAKED)"),
        ("cwd", change_cwd, f"the working directory (to {tempfile.gettempdir()})"),
        ("path", change_path, "sys.path (added /nowhere/leaked)"),
        ("level", change_level, "the logger 'pu.leak' (level NOTSET -> CRITICAL)"),
        ("handlers", change_handlers, "the logger 'pu.leak' (handlers)"),
        ("disabled", change_disabled, "the logger 'pu.leak' (disabled False -> True)"),
        ("signal", change_signal, "the handler of SIGUSR1"),
        ("signal mask", change_signal_mask, "the signal mask (pthread_sigmask)"),
        ("timer", start_timer, "a running SIGALRM timer (setitimer)"),
        ("umask", change_umask, "the umask"),
        ("recursion limit", change_recursion_limit, "the recursion limit"),
        ("socket timeout", change_socket_timeout, "the default socket timeout"),
        ("warnings", change_warnings, "the warnings filters"),
        ("time zone", change_time_zone, "the time zone (time.tzset)"),
        ("propagate", change_propagate, "the logger 'pu.leak' (propagate True -> False)"),
        ("new logger", configure_new_logger, "the logger 'pu.made.in.the.test' (handlers)"),
        ("logging.disable", change_logging_disable, "logging.disable"),
        ("streams", swap_stdout, "sys.stdin/stdout/stderr"),
    ])
    def test_put_back_and_named(self, name, change, described):
        if name == "streams" and pytest_runs_the_test():
            self.skipTest("pytest swaps the streams between its phases: not compared under pytest")
        logging.getLogger("pu.leak")  # exists before the tests, like an app's logger
        before = snapshot()
        seen = []

        class Case(NotesCase):
            def test_1_changes(self):
                change(self)

            def test_2_sees(self):
                seen.append(snapshot())

        result, output, stderr = self.run_captured(Case)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(seen, [before], "the next test starts with it put back")
        self.assertEqual(snapshot(), before)
        self.assertIn(f"proper_unittest: {Case.__module__}.", stderr)
        self.assertIn(f"Case.test_1_changes changed {described}; put back.", stderr)
        self.assertNotIn("test_2_sees", stderr)

    def test_a_library_imported_in_a_test_may_give_its_new_logger_a_null_handler(self):
        # What a library does on its first import (urllib3 does it): not the
        # test's change, not reported even in strict mode, and left in place.
        name = f"pu.lazy.library.{self.id()}"

        class Case(NotesCase):
            strict_process_state = True

            def test_imports_it(self):
                logging.getLogger(name).addHandler(logging.NullHandler())

        result, output, stderr = self.run_captured(Case)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertNotIn(name, stderr)
        (handler,) = logging.getLogger(name).handlers
        self.assertIs(type(handler), logging.NullHandler)

    def test_strict_makes_it_an_error_of_the_test(self):
        class Case(NotesCase):
            strict_process_state = True

            def test_changes(self):
                os.environ["PU_LEAKED"] = "1"

        result, output, stderr = self.run_captured(Case)
        self.assertEqual(len(result.errors), 1, output)
        self.assertIn(ProcessStateChanged.__name__, result.errors[0][1])
        self.assertIn("test_changes changed os.environ (added PU_LEAKED); put back.", result.errors[0][1])
        self.assertNotIn("PU_LEAKED", os.environ)

    def test_class_set_up_changes_are_put_back_after_the_class(self):
        class Case(NotesCase):
            @classmethod
            def setUpTestData(cls):
                os.environ["PU_CLASS_LEAK"] = "1"

            def test_sees_it(self):
                self.assertEqual(os.environ.get("PU_CLASS_LEAK"), "1")

        result, output, stderr = self.run_captured(Case)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertNotIn("PU_CLASS_LEAK", os.environ)
        self.assertIn("the class", stderr)
        self.assertIn("Case changed os.environ (added PU_CLASS_LEAK); put back.", stderr)

    def test_a_thread_left_running_is_named(self):
        stop = threading.Event()
        self.addCleanup(stop.set)

        class Case(NotesCase):
            def test_starts_thread(self):
                threading.Thread(target=stop.wait, name="pu-left-behind", daemon=True).start()

            def test_clean(self):
                pass

        result, output, stderr = self.run_captured(Case)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertIn("Case.test_starts_thread left a thread running: 'pu-left-behind' (daemon).", stderr)
        self.assertNotIn("test_clean", stderr)


class SnapshotLeftForTheNextTestTests(unittest.TestCase):
    """A test that changed nothing leaves its snapshot to the next test's
    start (the process is still as it says), and only then."""

    def setUp(self):
        self.addCleanup(ProcessState)  # leaves nothing behind for whatever runs next
        # As outside pytest (under it, nothing is ever left: see the pytest test).
        running = os.environ.pop("PYTEST_CURRENT_TEST", None)
        if running is not None:
            self.addCleanup(os.environ.__setitem__, "PYTEST_CURRENT_TEST", running)

    def clean_test_state(self):
        state = ProcessState.for_test()
        report("a test", state, False, test=True)
        return state

    def test_a_test_that_changed_nothing_leaves_it_once(self):
        state = self.clean_test_state()
        self.assertIs(ProcessState.for_test(), state)
        self.assertIsNot(ProcessState.for_test(), state)  # taken: the next start makes its own

    def test_a_test_that_changed_something_leaves_nothing(self):
        with contextlib.redirect_stderr(io.StringIO()):
            state = ProcessState()
            os.environ["PU_LEAKED"] = "1"
            report("a test", state, False, test=True)
        self.assertNotIn("PU_LEAKED", os.environ)
        self.assertIsNot(ProcessState.for_test(), state)

    def test_a_class_leaves_nothing(self):
        state = ProcessState()
        report("a class", state, False)
        self.assertIsNot(ProcessState.for_test(), state)

    def test_another_snapshot_or_report_in_between_takes_it_away(self):
        state = self.clean_test_state()
        ProcessState()  # a class's set-up
        self.assertIsNot(ProcessState.for_test(), state)
        state = self.clean_test_state()
        report("a class", ProcessState(), False)
        self.assertIsNot(ProcessState.for_test(), state)

    def test_a_logger_made_since_means_a_new_snapshot(self):
        state = self.clean_test_state()
        logging.getLogger(f"pu.made.since.{id(state)}")
        self.assertIsNot(ProcessState.for_test(), state)

    def test_not_under_pytest_whose_fixtures_run_between_tests(self):
        state = self.clean_test_state()
        os.environ["PYTEST_CURRENT_TEST"] = "test_x.py::test_x (setup)"
        try:
            self.assertIsNot(ProcessState.for_test(), state)
        finally:
            del os.environ["PYTEST_CURRENT_TEST"]

    def test_each_test_of_a_class_still_has_its_changes_caught_and_put_back(self):
        before = snapshot()

        class Case(NotesCase):
            def test_1_clean(self):
                pass

            def test_2_changes(self):
                os.environ["PU_LEAKED"] = "1"
                logging.getLogger("pu.leak").setLevel(logging.CRITICAL)

            def test_3_clean(self):
                pass

            def test_4_changes_too(self):
                sys.path.insert(0, "/nowhere/leaked")

        stderr = io.StringIO()
        with contextlib.redirect_stderr(stderr):
            result, output = run_inner(Case)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(snapshot(), before)
        lines = [line.split("Case.", 1)[1] for line in stderr.getvalue().splitlines() if "proper_unittest:" in line]
        self.assertEqual(lines, [
            "test_2_changes changed os.environ (added PU_LEAKED); put back.",
            "test_2_changes changed the logger 'pu.leak' (level NOTSET -> CRITICAL); put back.",
            "test_4_changes_too changed sys.path (added /nowhere/leaked); put back.",
        ])


class UnderPytestTests(unittest.TestCase):
    def test_what_a_function_fixture_changes_around_each_test_is_not_blamed_on_a_test(self):
        files = {
            "conftest.py": (
                "import pytest\n"
                "@pytest.fixture(autouse=True)\n"
                "def per_test_variable(monkeypatch, request):\n"
                "    monkeypatch.setenv('PU_FIXTURE_VAR', request.node.name)\n"
            ),
            "test_fixture.py": (
                "import os\n"
                "from tests.support.inner import NotesCase\n"
                "class Case(NotesCase):\n"
                "    def test_a(self): assert os.environ['PU_FIXTURE_VAR'] == 'test_a'\n"
                "    def test_b(self): assert os.environ['PU_FIXTURE_VAR'] == 'test_b'\n"
                "    def test_c(self): assert os.environ['PU_FIXTURE_VAR'] == 'test_c'\n"
            ),
        }
        run = run_suite(files, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "test_fixture.py",
                        env={"NOTES_DB_NAME": "notes_state_test"})
        output = run.stdout + run.stderr
        self.assertEqual(run.returncode, 0, output)
        self.assertIn("3 passed", output)
        self.assertNotIn("proper_unittest:", output)

    def test_pytests_own_variable_is_not_reported_and_a_leak_is(self):
        state = (
            "import os\n"
            "from tests.support.inner import NotesCase\n"
            "class First(NotesCase):\n"
            "    def test_a(self): pass\n"
            "class Second(NotesCase):\n"
            "    def test_leaks(self): os.environ['PU_PYTEST_LEAK'] = '1'\n"
            "    def test_clean(self): assert 'PU_PYTEST_LEAK' not in os.environ\n"
        )
        run = run_suite({"test_state.py": state}, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "test_state.py",
                        env={"NOTES_DB_NAME": "notes_state_test"})
        output = run.stdout + run.stderr
        self.assertEqual(run.returncode, 0, output)
        notes = [line for line in output.splitlines() if "proper_unittest:" in line]
        self.assertEqual(len(notes), 1, output)
        self.assertIn("Second.test_leaks changed os.environ (added PU_PYTEST_LEAK); put back.", notes[0])
