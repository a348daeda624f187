"""The runner lets go of each test once it has run, as unittest's own suite
does: what a finished test made (its attributes, its client) is freed during
the run, not at its end, in a serial run and in forked workers."""
import textwrap

from tests.support.inner import write_tree
from tests.support.runner_projects import RunnerTestCase


# In each module the first test leaves a weak reference to itself and the
# next test of its class (a class runs in one worker) checks that it is gone.
# A class whose set-up fails runs first: the run makes records, from its
# plan, for the tests that failure stops, so the plan must still hold the
# tests not yet started.
HELD_MODULE = """
    import gc
    import unittest
    import weakref

    finished = []

    class ABroken(unittest.TestCase):
        @classmethod
        def setUpClass(cls):
            raise RuntimeError("set-up broke")

        def test_never_started(self):
            pass

    class BHeld(unittest.TestCase):
        def test_1_leaves_a_reference(self):
            self.payload = bytearray(1024)
            finished.append(weakref.ref(self))

        def test_2_the_first_is_gone(self):
            gc.collect()
            test = finished[0]()
            holders = [type(holder).__name__ for holder in gc.get_referrers(test)] if test else []
            self.assertIsNone(test, f"the finished test is still held, by {holders}")
"""


class FinishedTestsAreFreedTests(RunnerTestCase):
    def setUp(self):
        super().setUp()
        module = textwrap.dedent(HELD_MODULE)
        self.project = write_tree(self.tmp / "held", {
            "tests/__init__.py": "", "tests/test_held_one.py": module, "tests/test_held_two.py": module,
        })

    def test_a_finished_test_is_freed_while_the_run_goes_on(self):
        for args in ([], ["-k", "test_"], ["--parallel", "2"]):
            with self.subTest(args=args):
                proc = self.run_runner(str(self.project), "--no-rerun-failures", *args)
                self.assertNotIn("still held", proc.stderr)
                # Per module: 2 passed; the failed set-up stops its one test.
                self.assertSummary(proc, "4 passed, 2 failed")
                self.assertEqual(proc.stderr.count("RuntimeError: set-up broke"), 2, proc.stderr)
