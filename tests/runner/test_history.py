"""--failed reruns what failed last time; the history forgets gone tests."""
import json

from tests.support.runner_projects import RunnerTestCase
from tests.support.inner import write_tree


class FailedTests(RunnerTestCase):
    """--failed reruns what failed last time."""

    def test_reruns_only_the_failures_then_everything_once_they_pass(self):
        self.run_runner(self.project)
        self.log_path.unlink()
        proc = self.run_runner(self.project, "--failed")
        self.assertEqual(self.ran_tests(), ["BetaTests.test_fails"])
        self.assertSummary(proc, "0 passed, 1 failed")
        beta = self.project / "tests" / "test_beta.py"
        beta.write_text(beta.read_text().replace('self.fail("boom")', "pass"))
        self.log_path.unlink()
        proc = self.run_runner(self.project, "--failed")
        self.assertEqual(self.ran_tests(), ["BetaTests.test_fails"])
        self.assertSummary(proc, "1 passed, 0 failed")
        self.log_path.unlink()
        proc = self.run_runner(self.project, "--failed")
        self.assertIn("no test failed in the last run", proc.stderr)
        self.assertEqual(len(self.ran_tests()), 7)

    def test_failures_recorded_from_parallel_workers(self):
        self.run_runner(self.project, "--parallel", "2")
        failed = json.loads((self.project / ".proper_unittest" / "failed.json").read_text())
        self.assertEqual(failed, ["tests.test_beta.BetaTests.test_fails"])


class FailedHistoryTests(RunnerTestCase):
    """failed.json forgets the tests that no longer exist."""

    def failed(self):
        return json.loads((self.project / ".proper_unittest" / "failed.json").read_text())

    def test_a_renamed_test_and_a_deleted_module_are_forgotten(self):
        beta = self.project / "tests" / "test_beta.py"
        write_tree(self.project, {"tests/test_gone.py": """
            import unittest

            class GoneTests(unittest.TestCase):
                def test_fails(self):
                    self.fail("gone soon")
        """})
        self.run_runner(self.project, "--no-rerun-failures")
        self.assertEqual(self.failed(), ["tests.test_beta.BetaTests.test_fails",
                                         "tests.test_gone.GoneTests.test_fails"])
        beta.write_text(beta.read_text().replace("def test_fails", "def test_renamed"))
        (self.project / "tests" / "test_gone.py").unlink()
        # A run of other tests: the renamed test's module is loaded (and -k
        # leaves it out), the deleted module is not there any more.
        proc = self.run_runner(self.project, "-k", "AlphaTests")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.failed(), [])

    def test_a_test_of_a_module_not_loaded_is_kept(self):
        self.run_runner(self.project, "--no-rerun-failures")
        proc = self.run_runner(self.project / "tests" / "test_alpha.py")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.failed(), ["tests.test_beta.BetaTests.test_fails"])
