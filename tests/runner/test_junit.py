"""--junitxml PATH: serial, merged across workers, and always parseable."""
import xml.etree.ElementTree as ET

from tests.support.runner_projects import DEFAULT_ORDER, RunnerTestCase
from tests.support.inner import write_tree


def ran_count(proc):
    """The N of unittest's "Ran N tests" line."""
    for line in reversed(proc.stderr.splitlines()):  # the last: the whole run's, after the workers'
        if line.startswith("Ran "):
            return int(line.split()[1])
    raise AssertionError(f"no 'Ran N tests' line in:\n{proc.stderr}")


class JUnitXMLTests(RunnerTestCase):
    """--junitxml PATH, serial and merged across --parallel workers."""

    def check_report(self, proc, path):
        root = ET.parse(path).getroot()
        self.assertEqual(root.tag, "testsuites")
        (suite,) = root.findall("testsuite")
        cases = suite.findall("testcase")
        self.assertEqual(len(cases), ran_count(proc))
        self.assertEqual(int(suite.get("tests")), len(cases))
        self.assertEqual(int(root.get("tests")), len(cases))
        self.assertEqual((suite.get("failures"), suite.get("errors"), suite.get("skipped")), ("1", "0", "1"))
        names = sorted(f"{case.get('classname')}.{case.get('name')}" for case in cases)
        self.assertEqual(names, sorted(
            ["tests.test_alpha." + t for t in DEFAULT_ORDER if t.startswith(("Alpha", "Gamma"))]
            + ["tests.test_alpha.AlphaTests.test_skipped"]
            + ["tests.test_beta." + t for t in DEFAULT_ORDER if t.startswith("Beta")]
        ))
        for case in cases:
            float(case.get("time"))
            module = case.get("classname").split(".")[1]
            self.assertEqual(case.get("file"), f"tests/{module}.py")
        (failure,) = suite.iter("failure")
        self.assertEqual(failure.get("message"), "AssertionError: boom")
        self.assertIn("Traceback (most recent call last)", failure.text)
        self.assertIn('test_beta.py", line', failure.text)
        (skipped,) = suite.iter("skipped")
        self.assertEqual(skipped.get("message"), "not today")
        slow = next(case for case in cases if case.get("name") == "test_b" and "Gamma" in case.get("classname"))
        self.assertGreaterEqual(float(slow.get("time")), 0.02)

    def test_serial(self):
        # A relative path is taken from the current directory, not the project's.
        proc = self.run_runner(self.project, "--junitxml", "reports/junit.xml", cwd=self.tmp)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.check_report(proc, self.tmp / "reports" / "junit.xml")

    def test_parallel_workers_merged_into_one_report(self):
        path = self.tmp / "junit.xml"
        proc = self.run_runner(self.project, "--junitxml", path, "--parallel", "2")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.check_report(proc, path)

    def test_class_fixture_error_is_reported(self):
        write_tree(self.project, {"tests/test_fixture.py": """
            import unittest

            class BrokenTests(unittest.TestCase):
                @classmethod
                def setUpClass(cls):
                    raise RuntimeError("no fixture")

                def test_never_runs(self):
                    pass
        """})
        path = self.tmp / "junit.xml"
        self.run_runner(self.project, "--junitxml", path)
        errors = ET.parse(path).getroot().findall("./testsuite/testcase/error")
        self.assertEqual([e.get("message") for e in errors], ["setUpClass: RuntimeError: no fixture"])


class JUnitXMLAlwaysParsesTests(RunnerTestCase):
    """Characters XML cannot hold, and a huge message."""

    def test_bad_characters_are_escaped_and_a_long_message_is_cut_once(self):
        write_tree(self.project, {"tests/test_hostile.py": """
            import unittest

            class HostileTests(unittest.TestCase):
                def test_surrogate(self):
                    self.fail("lone \\udc80 and \\ufffe and \\uffff")

                def test_huge(self):
                    self.fail("x" * 2_000_000)

            setattr(HostileTests, "test_bell\\x07", lambda self: None)
        """})
        path = self.tmp / "junit.xml"
        proc = self.run_runner(self.project, "--junitxml", path, "-k", "Hostile")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        suite = ET.parse(path).getroot().find("testsuite")
        cases = {case.get("name"): case for case in suite.findall("testcase")}
        self.assertEqual(sorted(cases), ["test_bell\\x07", "test_huge", "test_surrogate"])
        message = cases["test_surrogate"].find("failure").get("message")
        self.assertEqual(message, "AssertionError: lone \\udc80 and \\ufffe and \\uffff")
        huge = cases["test_huge"].find("failure")
        self.assertLess(len(huge.get("message")), 2100)
        self.assertIn("more characters cut; the full text is below", huge.get("message"))
        self.assertIn("x" * 2_000_000, huge.text)
        self.assertLess(path.stat().st_size, 2_100_000, "the 2 MB message was written more than once")
