"""What a run selects: labels, -k and counting."""
from xml.etree import ElementTree

from tests.support.runner_projects import DEFAULT_ORDER, RunnerTestCase
from tests.support.inner import write_tree


class SelectionTests(RunnerTestCase):
    """Labels, -k and counting."""

    def test_project_dir_reports_counts_and_fails(self):
        proc = self.run_runner(self.project)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertSummary(proc, "6 passed, 1 failed, 1 skipped")
        self.assertIn("FAILED (failures=1, skipped=1)", proc.stderr)
        self.assertEqual(self.ran_tests(), DEFAULT_ORDER)

    def test_all_passing_exits_0_without_skipped(self):
        proc = self.run_runner(self.project, "-k", "GammaTests")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertSummary(proc, "2 passed, 0 failed")

    def test_k_substring_and_wildcard_patterns(self):
        proc = self.run_runner(self.project, "-k", "*Tests.test_a", "-k", "test_passes")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(
            self.ran_tests(), ["AlphaTests.test_a", "GammaTests.test_a", "BetaTests.test_passes"]
        )
        self.assertSummary(proc, "3 passed, 0 failed")

    def test_tests_dir_label(self):
        proc = self.run_runner(self.project / "tests")
        self.assertSummary(proc, "6 passed, 1 failed, 1 skipped")

    def test_file_label(self):
        proc = self.run_runner(self.project / "tests" / "test_beta.py")
        self.assertEqual(proc.returncode, 1)
        self.assertSummary(proc, "1 passed, 1 failed")

    def test_dotted_name_from_the_current_directory(self):
        proc = self.run_runner("tests.test_alpha.GammaTests.test_b", cwd=self.project)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.ran_tests(), ["GammaTests.test_b"])
        self.assertSummary(proc, "1 passed, 0 failed")

    def test_project_colon_dotted_name(self):
        proc = self.run_runner(f"{self.project}:tests.test_beta.BetaTests.test_passes")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.ran_tests(), ["BetaTests.test_passes"])

    def test_python_dash_m_entry_point(self):
        proc = self.run_runner(self.project, "-k", "AlphaTests", "-v", module=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("test_a (tests.test_alpha.AlphaTests.test_a) ... ok", proc.stderr)
        self.assertSummary(proc, "3 passed, 0 failed, 1 skipped")

    def test_labels_of_two_projects_run_in_separate_processes(self):
        # Both projects have a package named "tests": only separate processes can load both.
        other = write_tree(self.tmp / "other", {
            "tests/__init__.py": "",
            "tests/test_other.py": """
                import unittest

                class OtherTests(unittest.TestCase):
                    def test_ok(self):
                        pass
            """,
        })
        report = self.tmp / "junit.xml"
        proc = self.run_runner(self.project, other, "--junitxml", report)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertSummary(proc, "7 passed, 1 failed, 1 skipped")
        self.assertIn(f"{other}: 1 passed, 0 failed", proc.stdout)
        # One JUnit XML report for both processes.
        cases = ElementTree.parse(report).getroot().findall("./testsuite/testcase")
        self.assertEqual(len(cases), 9)
        self.assertIn("tests.test_other.OtherTests", {case.get("classname") for case in cases})

    def test_a_failing_test_whose_tearDown_also_raises_is_one_failed_test(self):
        project = write_tree(self.tmp / "teardown", {
            "tests/__init__.py": "",
            "tests/test_td.py": """
                import unittest

                class TearDownTests(unittest.TestCase):
                    def tearDown(self):
                        raise RuntimeError("tearDown broke too")

                    def test_fails(self):
                        self.fail("boom")
            """,
        })
        proc = self.run_runner(project)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("Ran 1 test", proc.stderr)
        self.assertIn("RuntimeError: tearDown broke too", proc.stderr)  # both reports shown
        self.assertIn("AssertionError: boom", proc.stderr)
        self.assertSummary(proc, "0 passed, 1 failed")

    def test_app_env_is_test_even_when_the_environment_says_production(self):
        proc = self.run_runner(self.project, env={"APP_ENV": "production"})
        self.assertEqual(proc.returncode, 1, proc.stderr)
        app_envs = {line.split("|")[2] for line in self.logged()}
        self.assertEqual(app_envs, {"test"})


class KeywordTests(RunnerTestCase):
    """-k is a substring unless it has a '*'."""

    def test_brackets_without_a_star_are_a_plain_substring(self):
        proc = self.run_runner(self.project, "-k", "test_[ab]")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("no tests found", proc.stderr)
        proc = self.run_runner(self.project, "-k", "*Alpha*test_[ab]")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(sorted(self.ran_tests()), ["AlphaTests.test_a", "AlphaTests.test_b"])
