"""--bisect TEST finds the earlier test that makes TEST fail."""
from tests.support.runner_projects import FILE_VICTIM, GENUINE, OrderProjectTestCase, POISON, VICTIM


MARKER_WRITER = "tests.test_mid.FileTests.test_write_marker"


class BisectTests(OrderProjectTestCase):
    """--bisect TEST."""

    def test_finds_the_test_that_leaks_a_global_among_14_earlier_tests(self):
        ids = self.listed()
        self.assertGreaterEqual(ids.index(VICTIM), 8)
        proc = self.run_here("--bisect", VICTIM)
        self.assertFalse((self.order / ".proper_unittest").exists(), "a bisect step recorded history")
        self.assertIn(f"running {VICTIM} after the {ids.index(VICTIM)} test(s) before it", proc.stderr)
        self.assertCulprit(proc, VICTIM, POISON)

    def test_finds_the_test_that_leaves_a_file_in_a_shuffled_order(self):
        seed = next(
            seed for seed in range(1, 60)
            if (ids := self.listed(f"--shuffle={seed}")).index(FILE_VICTIM) >= 8
            and ids.index(MARKER_WRITER) < ids.index(FILE_VICTIM)
            and ids.index(MARKER_WRITER) not in (0, ids.index(FILE_VICTIM) - 1)
        )
        proc = self.run_here("--bisect", FILE_VICTIM, f"--shuffle={seed}")
        self.assertCulprit(proc, FILE_VICTIM, MARKER_WRITER)

    def test_a_test_that_passes_in_this_order_is_not_bisected(self):
        # Reversed, the poisoning test runs after the victim.
        proc = self.run_here("--bisect", VICTIM, "--reverse")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("is the first test in this order", proc.stderr)
        proc = self.run_here("--bisect", VICTIM, "-k", "MidTests", "-k", "VictimTests")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("does not fail in this order", proc.stderr)
        self.assertNotIn("fails after", proc.stdout)

    def test_a_test_that_fails_alone_has_no_culprit(self):
        proc = self.run_here("--bisect", GENUINE)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(f"{GENUINE} fails when run alone too", proc.stderr)
        self.assertNotIn("fails after", proc.stdout)

    def test_usage_errors_exit_2(self):
        for args, fragment in [
            (["--bisect", "tests.test_zulu.VictimTests.test_missing"], "is not one of the 15 selected tests"),
            (["--bisect", "tests.test_zulu.VictimTests"], "give a full test id"),
            (["--bisect", VICTIM, "-k", "AlphaTests"], "is not one of the 3 selected tests"),
            (["--bisect", VICTIM, ".", str(self.project)], "give labels of one project"),
        ]:
            with self.subTest(args=args):
                proc = self.run_here(*args)
                self.assertOneLineError(proc, "--bisect", fragment)

    def test_a_project_label_from_elsewhere_gives_a_project_reproducer(self):
        proc = self.run_runner(self.order, "--bisect", VICTIM, cwd=self.tmp, module=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.strip().splitlines()[-1].strip(),
                         f"python -m proper_unittest order:{POISON} order:{VICTIM}")
