"""``coverage run -m proper_unittest --parallel N`` measures the workers."""
import os
import subprocess
import sys

from tests.support.runner_projects import RunnerTestCase
from tests.support.inner import write_tree


class CoverageTests(RunnerTestCase):
    """``coverage run -m proper_unittest --parallel N`` measures the workers."""

    def coverage(self, *args, cwd):
        env = dict(os.environ, RUNNER_LOG=str(self.log_path))
        env.pop("PROPER_UNITTEST_WORKER", None)
        env.pop("COVERAGE_PROCESS_START", None)
        return subprocess.run(
            [sys.executable, "-m", "coverage", *args], cwd=cwd, env=env,
            capture_output=True, text=True, timeout=120,
        )

    def total(self, cwd):
        proc = self.coverage("report", "--format=total", "--precision=2", cwd=cwd)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.strip()

    def test_parallel_run_measures_as_much_as_a_serial_run(self):
        try:
            import coverage  # noqa: F401
        except ImportError:
            self.skipTest("coverage is not installed")
        write_tree(self.project, {"tests/code.py": """
            def branchy(n):
                if n % 2:
                    return "odd"
                return "even"
        """, "tests/test_code.py": """
            import unittest
            from tests.code import branchy

            class OddTests(unittest.TestCase):
                def test_odd(self):
                    self.assertEqual(branchy(1), "odd")

            class EvenTests(unittest.TestCase):
                def test_even(self):
                    self.assertEqual(branchy(2), "even")
        """})
        run = ["run", "--source=tests", "-m", "proper_unittest", "-k", "OddTests", "-k", "EvenTests"]
        proc = self.coverage(*run, cwd=self.project)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        serial = self.total(self.project)
        (self.project / ".coverage").unlink()
        proc = self.coverage(*run, "--parallel", "2", cwd=self.project)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("with 2 worker processes", proc.stderr)
        proc = self.coverage("combine", cwd=self.project)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(self.total(self.project), serial, "after coverage combine")
