"""A test that ends its worker process: the run reports it and never passes."""
import json
import os
import signal
import xml.etree.ElementTree as ET

from tests.support.runner_projects import RunnerTestCase
from tests.support.inner import write_tree


# Class A (3 tests) goes to worker 1, class B (2 tests) to worker 2. The
# test named by DIE_IN ("A" or "B", or "serial") ends its process the way
# DIE_HOW says, once per process: a new worker passes it.
DYING_TESTS = """
    import ctypes
    import os
    import unittest
    from tests.helpers import log


    def maybe_die(where):
        if os.environ.get("DIE_IN") != where or os.environ.get("PROPER_UNITTEST_WORKER") in ("3", "4", "rerun"):
            return
        how = os.environ["DIE_HOW"]
        if how == "exit0":
            os._exit(0)
        if how == "exit3":
            os._exit(3)
        if how == "segfault":
            ctypes.string_at(0)
        if how == "interrupt":
            raise KeyboardInterrupt


    class ATests(unittest.TestCase):
        def test_1(self):
            log("ATests.test_1")

        def test_2_dies(self):
            log("ATests.test_2_dies")
            maybe_die("A")

        def test_3(self):
            log("ATests.test_3")


    class BTests(unittest.TestCase):
        def test_1_dies(self):
            log("BTests.test_1_dies")
            maybe_die("B")

        def test_2(self):
            log("BTests.test_2")
"""


class DeadWorkerTests(RunnerTestCase):
    """A test that ends its worker process: the run reports it and never passes."""

    def setUp(self):
        super().setUp()
        (self.project / "tests" / "test_alpha.py").unlink()
        (self.project / "tests" / "test_beta.py").unlink()
        write_tree(self.project, {"tests/test_dying.py": DYING_TESTS})
        self.runner_tmp = self.tmp / "runner-tmp"
        self.runner_tmp.mkdir()

    def run_dying(self, where, how, *args):
        path = self.tmp / "junit.xml"
        proc = self.run_runner(self.project, "--junitxml", path, "--no-rerun-failures", *args,
                               env={"DIE_IN": where, "DIE_HOW": how, "TMPDIR": str(self.runner_tmp)})
        self.assertEqual(list(self.runner_tmp.iterdir()), [], "temporary files left")
        return proc, ET.parse(path).getroot().find("testsuite")

    def test_a_dead_worker_test_is_an_error_and_its_other_tests_run_in_a_new_worker(self):
        for where, dying, how in [("A", "ATests.test_2_dies", "exit0"), ("B", "BTests.test_1_dies", "segfault"),
                                  ("A", "ATests.test_2_dies", "interrupt"), ("B", "BTests.test_1_dies", "exit3")]:
            with self.subTest(where=where, how=how):
                self.log_path.unlink(missing_ok=True)
                proc, suite = self.run_dying(where, how, "--parallel", "2")
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertSummary(proc, "4 passed, 1 failed")
                self.assertIn(f"while running tests.test_dying.{dying}", proc.stderr)
                self.assertCountEqual(self.ran_tests(), [
                    "ATests.test_1", "ATests.test_2_dies", "ATests.test_3", "BTests.test_1_dies", "BTests.test_2"])
                self.assertEqual((suite.get("tests"), suite.get("errors")), ("5", "1"))
                (error,) = suite.iter("error")
                self.assertIn("WorkerDied: worker ", error.get("message"))
                failed = json.loads((self.project / ".proper_unittest" / "failed.json").read_text())
                self.assertEqual(failed, [f"tests.test_dying.{dying}"])

    def test_tests_left_after_every_new_worker_died_are_not_run(self):
        write_tree(self.project, {"tests/test_dying.py": """
            import os
            import unittest

            class KillerTests(unittest.TestCase):
                def test_1(self): os._exit(0)
                def test_2(self): os._exit(0)
                def test_3(self): os._exit(0)
                def test_4(self): pass
                def test_5(self): pass

            class OtherTests(unittest.TestCase):
                def test_1(self): pass
        """})
        proc, suite = self.run_dying("-", "-", "--parallel", "2")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertSummary(proc, "1 passed, 3 failed, 2 not run")
        messages = [error.get("message") for error in suite.iter("error")]
        self.assertEqual(len(messages), 5)
        self.assertEqual(sum("NotRun" in message for message in messages), 2)

    def test_a_serial_run_whose_process_exits_0_in_a_test_fails(self):
        proc, suite = self.run_dying("A", "exit0")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertSummary(proc, "1 passed, 1 failed, 3 not run")
        self.assertIn("exited with status 0 while running tests.test_dying.ATests.test_2_dies", proc.stderr)
        messages = sorted(error.get("message") for error in suite.iter("error"))
        self.assertEqual(len(messages), 4, messages)
        self.assertIn("TestProcessDied", messages[-1])
        self.assertEqual(sum(message.startswith("NotRun: the test process exited with status 0 before it")
                             for message in messages), 3, messages)

    def test_a_serial_run_whose_test_raises_keyboard_interrupt_is_reported_in_full(self):
        proc, suite = self.run_dying("A", "interrupt")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("Stopped: KeyboardInterrupt raised, not by a signal.", proc.stderr)
        self.assertIn("while running tests.test_dying.ATests.test_2_dies", proc.stderr)
        self.assertSummary(proc, "1 passed, 1 failed, 3 not run")
        self.assertEqual(suite.get("tests"), "5")

    def test_a_worker_that_dies_after_its_last_test_fails_the_run(self):
        # Class A goes to worker 1, B to worker 2; the death is in a fixture
        # after every test of the share passed (nothing is left to rerun).
        for where in ("tearDownClass", "tearDownModule"):
            with self.subTest(where=where):
                write_tree(self.project, {"tests/test_dying.py": f"""
                    import os
                    import unittest

                    def tearDownModule():
                        if "{where}" == "tearDownModule" and os.environ.get("PROPER_UNITTEST_WORKER") in ("1", "2"):
                            os._exit(0)

                    class ATests(unittest.TestCase):
                        def test_1(self): pass
                        def test_2(self): pass
                        def test_3(self): pass

                        @classmethod
                        def tearDownClass(cls):
                            if "{where}" == "tearDownClass":
                                os._exit(0)
                """, "tests/test_other.py": """
                    import unittest

                    class BTests(unittest.TestCase):
                        def test_1(self): pass
                        def test_2(self): pass
                """})
                proc, _ = self.run_dying("-", "-", "--parallel", "2")
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertRegex(proc.stderr, r"worker \d exited with status 0 while running no test")
                self.assertIn("FAILED (crashed=1)", proc.stderr)

    def test_a_test_that_forks_cannot_speak_for_the_run_nor_keep_it_waiting(self):
        # The process the run started ends inside test_2 (as a daemonizing
        # parent does); its forked copy lives on: it goes on with the run in
        # one case, it sleeps holding every descriptor in the other.
        pid_file = self.tmp / "forked.pid"
        for copy in ("goes on", "sleeps"):
            with self.subTest(copy=copy):
                write_tree(self.project, {"tests/test_dying.py": f"""
                    import os
                    import time
                    import unittest

                    class ForkTests(unittest.TestCase):
                        def test_1(self): pass

                        def test_2_forks(self):
                            child = os.fork()
                            if child:
                                with open({str(pid_file)!r} + ".new", "w") as file:
                                    file.write(str(child))
                                os.rename({str(pid_file)!r} + ".new", {str(pid_file)!r})
                                os._exit(0)
                            if {copy!r} == "sleeps":
                                time.sleep(120)
                                os._exit(0)

                        def test_3_fails(self):
                            self.fail("a failure the run must not hide")
                """})
                self.addCleanup(self.kill_forked_copy, pid_file)
                proc, suite = self.run_dying("-", "-")
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertIn("TestProcessDied: the test process exited with status 0", proc.stderr)
                self.assertNotIn("Traceback", proc.stderr.split("FAILED (failures=1)")[-1])
                if copy == "sleeps":  # the other may have ended its run already
                    self.assertIn("while running tests.test_dying.ForkTests.test_2_forks", proc.stderr)
                    forked = int(pid_file.read_text())
                    self.assertIn(f"the tests left 1 process(es) running after the run ended (pid {forked})",
                                  proc.stderr)
                    with self.assertRaises(ProcessLookupError, msg="the forked copy was ended"):
                        os.kill(forked, 0)
                self.kill_forked_copy(pid_file)

    @staticmethod
    def kill_forked_copy(pid_file):
        try:
            os.kill(int(pid_file.read_text()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
        pid_file.unlink(missing_ok=True)
