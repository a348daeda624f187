"""--shuffle, --reverse, --failfast, --durations, and the order helpers in process."""
import tempfile
import unittest

from proper_unittest.runner.cli import build_parser
from proper_unittest.runner.order import partition_tests, reverse_tests, shuffle_tests
from runtests import RepositorySuites

from tests.support.runner_projects import DEFAULT_ORDER, RunnerTestCase, many_classes_project
from tests.support.inner import write_tree


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

    def test_partition_gives_every_list_a_class_first(self):
        tests = self.make_tests()
        # Recorded as taking no time: still one class per list, then the lightest.
        seconds = {test.id(): 0.0 for test in tests}
        self.assertEqual([len(part) for part in partition_tests(tests, 3, seconds)], [7, 3, 2])

    def test_partition_leaves_lists_empty_with_fewer_classes(self):
        self.assertEqual([len(part) for part in partition_tests(self.make_tests(), 6)], [5, 3, 2, 2, 0, 0])

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
        suites = RepositorySuites(repo).default_suites(build_parser().parse_args([]))
        self.assertEqual(
            suites, [("tests", [str(repo)]), ("examples/one", ["one"]), ("examples/two", ["two"])]
        )
