"""Every message of a run counts tests the same way."""
import os
import re
import subprocess
import sys
from xml.etree import ElementTree

from tests.support.inner import REPO
from tests.support.runner_projects import RunnerTestCase
from tests.support.inner import write_tree


# Every kind of outcome unittest reports: 17 tests, 3 passed (one an expected
# failure, one with skipped sub-tests), 11 failed (one with 2 failing
# sub-tests, one failing then erroring in tearDown, 6 stopped by setUpClass,
# one erroring in tearDownClass), 3 skipped (2 by setUpClass).
OUTCOMES_TESTS = {
    "tests/__init__.py": "",
    "tests/test_outcomes.py": """
        import unittest

        class SubTests(unittest.TestCase):
            def test_two_failing_subtests(self):
                for i in range(3):
                    with self.subTest(i=i):
                        self.assertEqual(i, 0)

            def test_skipped_subtests(self):
                for i in range(3):
                    with self.subTest(i=i):
                        if i:
                            self.skipTest("not this one")

            def test_ok(self):
                pass

            def test_error(self):
                raise RuntimeError("broken")

            @unittest.expectedFailure
            def test_expected_failure(self):
                self.fail("known")

            @unittest.expectedFailure
            def test_unexpected_success(self):
                pass

            @unittest.skip("not today")
            def test_skip(self):
                pass

        class TearDownTests(unittest.TestCase):
            def tearDown(self):
                raise RuntimeError("tearDown broke too")

            def test_fails(self):
                self.fail("boom")

        class SkippedInSetUpClass(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                raise unittest.SkipTest("no server")

            def test_a(self):
                pass

            def test_b(self):
                pass

        class BrokenSetUpClass(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                raise RuntimeError("no fixture")

        for n in range(6):
            setattr(BrokenSetUpClass, f"test_{n}", lambda self: None)

        class BrokenTearDownClass(unittest.TestCase):
            @classmethod
            def tearDownClass(cls):
                raise RuntimeError("left a mess")

            def test_passes_then_its_class_fails(self):
                pass
    """,
}
OUTCOMES_SUMMARY = (
    "3 passed, 11 failed, 3 skipped (2 failed sub-tests in 1 test, 2 skipped sub-tests in 1 test, "
    "1 expected failure among the passed)"
)


class CountsTests(RunnerTestCase):
    """Every message of a run counts tests, the same way: "Ran N", unittest's
    status line, the summary line, the rerun message, the JUnit totals and
    scripts/count_results.py (the issue: "Ran 3 tests" then "0 passed, 4 failed")."""

    def assertCountsAgree(self, proc, report):
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertSummary(proc, OUTCOMES_SUMMARY)
        passed, failed, skipped = 3, 11, 3
        ran = [int(n) for n in re.findall(r"^Ran (\d+) tests? in ", proc.stderr, re.M)]
        self.assertEqual(ran[-1], passed + failed + skipped, proc.stderr)
        self.assertIn("\nFAILED (failures=2, errors=8, skipped=3, expected failures=1, "
                      "unexpected successes=1)\n", proc.stderr)
        # More than MAX_RERUNS failed tests: the message counts them, no rerun starts.
        self.assertIn(f"\n{failed} tests failed, more than 10: not rerunning them alone", proc.stderr)
        root = ElementTree.parse(report).getroot()
        totals = {key: int(root.get(key)) for key in ("tests", "failures", "errors", "skipped")}
        self.assertEqual(totals, {"tests": ran[-1], "failures": 3, "errors": 8, "skipped": skipped})
        self.assertEqual(len(root.findall("./testsuite/testcase")), ran[-1])
        log = self.tmp / "output.txt"
        log.write_text(proc.stderr + proc.stdout, encoding="utf-8")
        counted = subprocess.run(
            [sys.executable, str(REPO / "scripts" / "count_results.py")],
            env=dict(os.environ, PY_LOG=str(log)), capture_output=True, text=True, timeout=60,
        )
        self.assertEqual(counted.stdout.split(), [str(passed), str(failed), str(skipped)], counted.stderr)
        return root

    def test_serial(self):
        project = write_tree(self.tmp / "outcomes", OUTCOMES_TESTS)
        report = self.tmp / "junit.xml"
        proc = self.run_runner(project, "--junitxml", report)
        root = self.assertCountsAgree(proc, report)
        cases = {case.get("name"): case for case in root.iter("testcase")}
        stopped = cases["test_0"].find("error")
        self.assertEqual(stopped.get("message"), "setUpClass: RuntimeError: no fixture")
        self.assertEqual(cases["test_a"].find("skipped").get("message"), "setUpClass: no server")
        self.assertEqual(cases["test_passes_then_its_class_fails"].find("error").get("message"),
                         "tearDownClass: RuntimeError: left a mess")
        failure = cases["test_two_failing_subtests"].find("failure")
        self.assertIn("(2 sub-tests failed)", failure.get("message"))
        self.assertIn("expected failure", cases["test_expected_failure"].find("system-out").text)

    def test_parallel(self):
        project = write_tree(self.tmp / "outcomes", OUTCOMES_TESTS)
        report = self.tmp / "junit.xml"
        proc = self.run_runner(project, "--junitxml", report, "--parallel", "2")
        self.assertIn("with 2 worker processes", proc.stderr)
        self.assertCountsAgree(proc, report)
