"""Tests of the test runner (runtests.py / python -m proper_unittest).

The runner is run as a subprocess against small throwaway projects of plain
unittest tests.  Their tests append events to the file named by
RUNNER_LOG, so the tests here can see what ran, in which order, in which
worker and with which APP_ENV.
"""

import os
import re
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path
from unittest import mock
from xml.etree import ElementTree

from proper_unittest.runner import labels as runner_labels
from tests.apps.testdb import backend
from proper_unittest.runner.order import partition_tests, reverse_tests, shuffle_tests

REPO = Path(__file__).resolve().parent.parent
RUNTESTS = REPO / "runtests.py"

HELPERS = """
    import os

    def log(event):
        worker = os.environ.get("PROPER_UNITTEST_WORKER", "-")
        with open(os.environ["RUNNER_LOG"], "a") as file:
            file.write(f"{event}|{worker}|{os.environ.get('APP_ENV')}\\n")
"""

# 6 passing tests, 1 failing, 1 skipped, in 3 classes of 2 modules.
SAMPLE_TESTS = {
    "tests/__init__.py": "",
    "tests/helpers.py": HELPERS,
    "tests/test_alpha.py": """
        import time
        import unittest
        from tests.helpers import log

        class AlphaTests(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                log("setUpClass AlphaTests")

            def test_a(self):
                log("AlphaTests.test_a")

            def test_b(self):
                log("AlphaTests.test_b")

            def test_c(self):
                log("AlphaTests.test_c")

            @unittest.skip("not today")
            def test_skipped(self):
                log("AlphaTests.test_skipped")

        class GammaTests(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                log("setUpClass GammaTests")

            def test_a(self):
                log("GammaTests.test_a")

            def test_b(self):
                time.sleep(0.02)
                log("GammaTests.test_b")
    """,
    "tests/test_beta.py": """
        import unittest
        from tests.helpers import log

        class BetaTests(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                log("setUpClass BetaTests")

            def test_fails(self):
                log("BetaTests.test_fails")
                self.fail("boom")

            def test_passes(self):
                log("BetaTests.test_passes")
    """,
}

DEFAULT_ORDER = [
    "AlphaTests.test_a", "AlphaTests.test_b", "AlphaTests.test_c",
    "GammaTests.test_a", "GammaTests.test_b",
    "BetaTests.test_fails", "BetaTests.test_passes",
]


def write_tree(root, files):
    """Write *files* (``{relative path: source}``) under *root*; return *root*."""
    for relative, source in files.items():
        path = Path(root, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return Path(root)


def many_classes_project(root):
    """Write a project with 4 modules x 3 classes x 4 tests, each logging its id."""
    files = {"tests/__init__.py": "", "tests/helpers.py": HELPERS}
    for module in "mnop":
        source = ["import unittest", "from tests.helpers import log", ""]
        for cls in "XYZ":
            name = f"{cls}{module.upper()}Tests"
            source += [
                f"class {name}(unittest.TestCase):",
                "    @classmethod",
                f"    def setUpClass(cls): log('setUpClass {name}')",
            ]
            source += [f"    def test_{n}(self): log('{name}.test_{n}')" for n in range(4)]
            source.append("")
        files[f"tests/test_{module}.py"] = "\n".join(source)
    return write_tree(root, files)


#: Why the runner's subprocess tests run on SQLite only.
BACKEND_INDEPENDENT = (
    "the runner's behaviour here does not depend on the database backend: these "
    "subprocess tests run once per matrix, with TEST_DATABASE_URL on SQLite"
)


def skip_unless_sqlite():
    """Skip the calling class unless TEST_DATABASE_URL is SQLite (see BACKEND_INDEPENDENT)."""
    if backend() != "sqlite":
        raise unittest.SkipTest(BACKEND_INDEPENDENT)


class RunnerTestCase(unittest.TestCase):
    """Creates a sample project in a temporary directory and runs the runner on it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        skip_unless_sqlite()

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = Path(tmp.name)
        self.log_path = self.tmp / "events.log"
        self.project = write_tree(self.tmp / "project", SAMPLE_TESTS)

    def run_runner(self, *args, cwd=REPO, env=None, module=False):
        """Run the runner with *args*; return the CompletedProcess."""
        full_env = dict(os.environ, RUNNER_LOG=str(self.log_path), **(env or {}))
        full_env.pop("PROPER_UNITTEST_WORKER", None)
        entry = ["-m", "proper_unittest"] if module else [str(RUNTESTS)]
        return subprocess.run(
            [sys.executable, *entry, *map(str, args)],
            cwd=cwd, env=full_env, capture_output=True, text=True, timeout=60,
        )

    def events(self):
        """Return the logged events (without worker and APP_ENV)."""
        return [line.split("|")[0] for line in self.logged()]

    def ran_tests(self):
        """Return the logged test events (no setUpClass events)."""
        return [event for event in self.events() if not event.startswith("setUpClass")]

    def logged(self, reruns=False):
        """Return the raw log lines; those of the reruns of failed tests (worker "rerun") only
        with *reruns* (they are tested in test_runner_order_dependence)."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(encoding="utf-8").splitlines()
        return lines if reruns else [line for line in lines if line.split("|")[1:2] != ["rerun"]]

    def assertSummary(self, proc, expected):
        """Assert the last stdout line is the summary line *expected*."""
        lines = proc.stdout.strip().splitlines()
        self.assertTrue(lines, f"no stdout; stderr:\n{proc.stderr}")
        self.assertEqual(lines[-1], expected, proc.stderr)

    def assertOneLineError(self, proc, *fragments):
        """Assert exit status 2 with a single stderr line holding every fragment."""
        self.assertEqual(proc.returncode, 2, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])
        self.assertEqual(proc.stdout, "")


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


class UsageErrorTests(RunnerTestCase):
    """Exit status 2 with one clear line."""

    def test_unknown_label(self):
        proc = self.run_runner("no_such_thing_here")
        self.assertOneLineError(proc, "'no_such_thing_here'", "example apps")

    def test_missing_path(self):
        proc = self.run_runner(self.project / "tests" / "test_missing.py")
        self.assertOneLineError(proc, "no such file or directory", "test_missing.py")

    def test_unknown_dotted_name_in_an_existing_module(self):
        proc = self.run_runner("tests.test_alpha.NoSuchTests", cwd=self.project)
        self.assertOneLineError(proc, "NoSuchTests", "no attribute")

    def test_no_tests_found(self):
        empty = write_tree(self.tmp / "empty", {"tests/__init__.py": ""})
        proc = self.run_runner(empty)
        self.assertOneLineError(proc, "no tests found")

    def test_no_test_matches_k(self):
        proc = self.run_runner(self.project, "-k", "nothing_matches_this")
        self.assertOneLineError(proc, "no tests found", "nothing_matches_this")

    def test_configured_app_that_is_not_a_proper_app(self):
        write_tree(self.project, {
            "setup.cfg": "[proper_unittest]\napp = fakeapp.main:app\n",
            "fakeapp/__init__.py": "",
            "fakeapp/main.py": "app = object()\n",
        })
        proc = self.run_runner(self.project)
        self.assertOneLineError(proc, "fakeapp.main:app", "not a proper.App")
        self.assertEqual(self.logged(), [])

    def test_configured_app_that_cannot_be_imported(self):
        write_tree(self.project, {
            "pyproject.toml": '[tool.proper_unittest]\napp = "missingapp.main:app"\n',
        })
        proc = self.run_runner(self.project)
        self.assertOneLineError(proc, "Cannot import the app module", "missingapp.main")

    def test_configured_proper_app_runs(self):
        write_tree(self.project, {
            "setup.cfg": "[proper_unittest]\napp = fakeapp.main:app\n",
            "fakeapp/__init__.py": "",
            "fakeapp/main.py": """
                import proper

                app = proper.App(__name__, config={
                    "SECRET_KEYS": ["k" * 64],
                    "DATABASES": {"main": {"type": "peewee.SqliteDatabase", "database": ":memory:"}},
                })
            """,
        })
        proc = self.run_runner(self.project, "-k", "GammaTests")
        self.assertEqual(proc.returncode, 0, proc.stderr)


class OrderTests(RunnerTestCase):
    """--shuffle, --reverse, --failfast, --durations."""

    def setUp(self):
        super().setUp()
        self.big = many_classes_project(self.tmp / "big")

    def assertClassesKeptTogether(self):
        """Assert each class ran its setUpClass once, then all its tests in one block."""
        blocks = []
        for event in self.events():
            name = event.split(" ")[-1].split(".")[0]
            if event.startswith("setUpClass"):
                self.assertNotIn(name, blocks, "setUpClass ran twice")
                blocks.append(name)
            else:
                self.assertEqual(name, blocks[-1], "a class was split")
        self.assertEqual(len(blocks), 12)

    def test_shuffle_with_a_seed_is_reproducible_and_keeps_classes_together(self):
        self.assertEqual(self.run_runner(self.big).returncode, 0)
        default_order = self.ran_tests()
        self.log_path.unlink()

        first = self.run_runner(self.big, "--shuffle=42")
        self.assertIn("seed 42", first.stderr)
        self.assertSummary(first, "48 passed, 0 failed")
        self.assertClassesKeptTogether()
        order = self.ran_tests()
        self.log_path.unlink()

        self.run_runner("--shuffle", "42", self.big)
        self.assertEqual(self.ran_tests(), order)
        self.assertNotEqual(order, default_order)
        self.assertCountEqual(order, default_order)

    def test_bare_shuffle_prints_a_seed_that_repeats_the_order(self):
        # The label after a bare --shuffle is a label, not a seed.
        proc = self.run_runner("--shuffle", self.big)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        seed = proc.stderr.split("--shuffle=")[1].split(")")[0]
        order = self.ran_tests()
        self.log_path.unlink()
        self.run_runner(self.big, f"--shuffle={seed}")
        self.assertEqual(self.ran_tests(), order)

    def test_reverse(self):
        proc = self.run_runner(self.project, "--reverse")
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(self.ran_tests(), list(reversed(DEFAULT_ORDER)))
        self.log_path.unlink()
        self.run_runner(self.big, "--reverse")
        self.assertClassesKeptTogether()

    def test_failfast_stops_at_the_first_failure(self):
        proc = self.run_runner(self.project, "--reverse", "--failfast")
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(self.ran_tests(), ["BetaTests.test_passes", "BetaTests.test_fails"])
        self.assertSummary(proc, "1 passed, 1 failed")

    def test_durations(self):
        proc = self.run_runner(self.project, "--durations", "1")
        report = proc.stderr.split("Slowest test durations")[1]
        slowest = report.splitlines()[2]
        self.assertIn("test_b (tests.test_alpha.GammaTests.test_b)", slowest)


class ParallelTests(RunnerTestCase):
    """--parallel N."""

    def test_parallel_runs_every_test_once_in_distinct_workers(self):
        proc = self.run_runner(self.project, "--parallel", "2", "--durations", "1")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertSummary(proc, "6 passed, 1 failed, 1 skipped")
        self.assertCountEqual(self.ran_tests(), DEFAULT_ORDER)
        worker_of = {}
        for line in self.logged():
            event, worker, app_env = line.split("|")
            self.assertEqual(app_env, "test")
            name = event.split(" ")[-1].split(".")[0]
            self.assertEqual(worker_of.setdefault(name, worker), worker, "a class was split")
        self.assertEqual(set(worker_of.values()), {"1", "2"})
        self.assertEqual(proc.stderr.count("Slowest test durations"), 1)
        self.assertIn("with 2 worker processes", proc.stderr)
        self.assertIn("worker 1: ", proc.stderr)

    def test_parallel_all_passing_exits_0(self):
        big = many_classes_project(self.tmp / "big")
        proc = self.run_runner(big, "--parallel", "3", "-q")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertSummary(proc, "48 passed, 0 failed")
        self.assertEqual(len(self.ran_tests()), 48)
        workers = min(3, os.process_cpu_count() or 1)  # never more than cores
        self.assertEqual({line.split("|")[1] for line in self.logged()}, {str(n) for n in range(1, workers + 1)})


class DismissedWorkerTests(RunnerTestCase):
    """Workers started before the tests were loaded, and not needed after."""

    def test_more_workers_than_classes_the_extra_ones_run_nothing(self):
        # 1 class, --parallel 2: worker 2 started early, then dismissed.
        proc = self.run_runner(self.project, "--parallel", "2", "-k", "GammaTests")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertSummary(proc, "2 passed, 0 failed")
        self.assertNotIn("worker 2", proc.stderr)
        self.assertEqual({line.split("|")[1] for line in self.logged()}, {"-"})

    def test_a_worker_whose_stdin_closes_empty_runs_nothing_and_says_nothing(self):
        proc = subprocess.run(
            [sys.executable, str(RUNTESTS), str(self.project), "--worker", "2", "--ids-file", "-"],
            input="", cwd=REPO, env=dict(os.environ, RUNNER_LOG=str(self.log_path)),
            capture_output=True, text=True, timeout=60,
        )
        self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "", ""))
        self.assertEqual(self.logged(), [])


class HelperTests(unittest.TestCase):
    """The runner's pure helpers, in process."""

    def make_tests(self):
        classes = [
            type(name, (unittest.TestCase,), {f"test_{n}": lambda self: None for n in range(size)})
            for name, size in (("A", 5), ("B", 3), ("C", 2), ("D", 2))
        ]
        loader = unittest.TestLoader()
        return [test for cls in classes for test in loader.loadTestsFromTestCase(cls)]

    def test_partition_balances_whole_classes(self):
        parts = partition_tests(self.make_tests(), 2)
        self.assertEqual(sorted(len(part) for part in parts), [5, 7])
        first, second = ({type(test) for test in part} for part in parts)
        self.assertFalse(first & second)

    def test_partition_weighs_classes_by_recorded_seconds(self):
        tests = self.make_tests()
        seconds = {test.id(): (1.0 if type(test).__name__ == "B" else 0.1) for test in tests}
        parts = partition_tests(tests, 2, seconds)
        self.assertEqual([{type(test).__name__ for test in part} for part in parts], [{"B"}, {"A", "C", "D"}])

    def test_partition_gives_the_running_process_a_head_start(self):
        tests = self.make_tests()
        seconds = {test.id(): 0.1 for test in tests}
        self.assertEqual([len(part) for part in partition_tests(tests, 2, seconds)], [7, 5])
        # The first list's process is already running: it takes 0.4 s more work.
        self.assertEqual([len(part) for part in partition_tests(tests, 2, seconds, head_start=0.4)], [9, 3])

    def test_partition_drops_empty_workers(self):
        self.assertEqual(len(partition_tests(self.make_tests(), 10)), 4)

    def test_shuffle_and_reverse_keep_every_test(self):
        tests = self.make_tests()
        self.assertCountEqual(shuffle_tests(tests, 1), tests)
        self.assertEqual(reverse_tests(tests)[0].id(), tests[-1].id())

    def test_default_suites_are_the_library_tests_and_example_apps(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        repo = write_tree(tmp.name, {
            "tests/__init__.py": "",
            "examples/one/tests/__init__.py": "",
            "examples/two/tests/__init__.py": "",
            "examples/no_tests_yet/README": "",
        })
        with mock.patch.object(runner_labels, "REPO_ROOT", repo), \
                mock.patch.object(runner_labels, "EXAMPLES_DIR", repo / "examples"):
            suites = runner_labels.default_suites()
        self.assertEqual(
            suites, [("tests", [str(repo)]), ("examples/one", ["one"]), ("examples/two", ["two"])]
        )


if __name__ == "__main__":
    unittest.main()
