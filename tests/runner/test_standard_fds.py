"""A test that points file descriptor 1 or 2 elsewhere does not take the
run's report with it."""
from tests.support.inner import write_tree
from tests.support.runner_projects import RunnerTestCase

REDIRECTING_TESTS = """
    import os
    import unittest


    class RedirectTests(unittest.TestCase):
        def test_a_points_both_at_devnull(self):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            os.close(null)

        def test_b_fails_after_it(self):
            self.fail("seen in the report")

        def test_c_closes_standard_output(self):
            os.close(1)
"""


class StandardDescriptorTests(RunnerTestCase):
    def setUp(self):
        super().setUp()
        write_tree(self.project, {"tests/test_redirect.py": REDIRECTING_TESTS})

    def test_the_report_reaches_the_run_s_output_serial_and_parallel(self):
        for args in ([], ["--parallel", "2"]):
            with self.subTest(args=args):
                proc = self.run_runner(self.project, "--no-rerun-failures", *args)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertSummary(proc, "8 passed, 2 failed, 1 skipped")
                self.assertIn("AssertionError: seen in the report", proc.stderr)
                self.assertIn("AssertionError: boom", proc.stderr)  # the sample project's own failure
                for fd, name in ((1, "standard output"), (2, "standard error")):
                    self.assertIn(f"a test pointed file descriptor {fd} ({name}) elsewhere; put back "
                                  "for the report.", proc.stderr)
