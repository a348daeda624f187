"""Failed tests rerun alone; those that pass are labelled order-dependent; reruns start from the
run's environment."""
import json
import shlex

from tests.support.runner_projects import (
    APP_PROJECT,
    FILE_VICTIM,
    GENUINE,
    OrderProjectTestCase,
    POISON,
    ProjectTestCase,
    RunnerTestCase,
    VICTIM,
    write_tree,
)


def order_dependent(proc):
    """The test ids the run's closing summary labels order-dependent."""
    return [line.split()[0] for line in proc.stderr.splitlines() if line.endswith("[order-dependent]")]


class RerunFailuresTests(OrderProjectTestCase):
    """Failed tests rerun alone; those that pass are labelled order-dependent."""

    def assertLabelled(self, proc, expected):
        """Assert the run failed 3 tests and labelled exactly *expected* order-dependent."""
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout.strip().splitlines()[-1], "12 passed, 3 failed")
        self.assertEqual(sorted(order_dependent(proc)), sorted(expected))
        self.assertIn("Rerunning 3 failed test(s) alone", proc.stderr)
        self.assertIn("python -m proper_unittest --bisect", proc.stderr)

    def test_serial_run_labels_the_order_dependent_failures_not_the_genuine_one(self):
        proc = self.run_here()
        self.assertLabelled(proc, [VICTIM, FILE_VICTIM])
        # Each failed test ran once more, alone, in a rerun process (it logs its worker).
        reruns = [line.split("|")[0] for line in self.logged(reruns=True) if line.split("|")[1] == "rerun"]
        self.assertEqual(sorted(reruns), ["file_victim", "genuine", "victim"])
        failed = json.loads((self.order / ".proper_unittest" / "failed.json").read_text())
        self.assertEqual(sorted(failed), sorted([VICTIM, FILE_VICTIM, GENUINE]), "a failure stays a failure")

    def test_parallel_run_labels_them_too(self):
        # Two workers: AlphaTests and MidTests in one, PoisonTests and VictimTests in the other.
        proc = self.run_here("--parallel", "2", "-k", "Alpha", "-k", "Mid", "-k", "Poison", "-k", "Victim")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("with 2 worker processes", proc.stderr)
        self.assertEqual(proc.stdout.strip().splitlines()[-1], "10 passed, 2 failed")
        labelled = order_dependent(proc)
        self.assertEqual(labelled, [VICTIM])
        self.assertIn("Rerunning 2 failed test(s) alone", proc.stderr)

    def test_the_suggested_bisect_command_finds_the_culprit(self):
        proc = self.run_here("-k", "Alpha", "-k", "Poison", "-k", "test_victim")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        lines = [line.strip() for line in proc.stderr.splitlines()]
        (suggested,) = [line for line in lines if line.startswith("python ")]
        self.assertEqual(
            suggested, f"python -m proper_unittest --bisect {VICTIM} -k Alpha -k Poison -k test_victim"
        )
        bisect = self.run_here(*shlex.split(suggested)[3:])
        self.assertCulprit(bisect, VICTIM, POISON)

    def test_turned_off_by_flag_or_environment(self):
        for args, env in [(["--no-rerun-failures"], None), ([], {"PROPER_UNITTEST_RERUN_FAILURES": "0"})]:
            with self.subTest(args=args, env=env):
                proc = self.run_here(*args, env=env)
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertEqual(proc.stdout.strip().splitlines()[-1], "12 passed, 3 failed")
                self.assertNotIn("Rerunning", proc.stderr)
                self.assertNotIn("order-dependent", proc.stderr)

    def test_more_than_ten_failures_are_not_rerun(self):
        many = "\n".join(f"    def test_{n}(self): self.fail('no')" for n in range(11))
        source = f"import unittest\n\nclass ManyTests(unittest.TestCase):\n{many}\n"
        write_tree(self.order, {"tests/test_many.py": source})
        proc = self.run_here()
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout.strip().splitlines()[-1], "12 passed, 14 failed")
        self.assertIn("14 tests failed, more than 10: not rerunning them alone", proc.stderr)
        self.assertNotIn("[order-dependent]", proc.stderr)

    def test_a_passing_run_reruns_nothing(self):
        proc = self.run_here("-k", "Alpha")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn("Rerunning", proc.stderr)


# A Proper app whose module-level cache outlives a test: the library rolls
# back the rows each test made, not the app's own globals.
CACHE_PROJECT = {
    "app.py": APP_PROJECT["app.py"] + """

    FIRST_NAME_CACHE = {}


    def first_item_name():
        if "name" not in FIRST_NAME_CACHE:
            FIRST_NAME_CACHE["name"] = Item.select().order_by(Item.id).first().name
        return FIRST_NAME_CACHE["name"]
    """,
    "tests/test_cache.py": """
        from proper_unittest import ProperTestCase
        from app import Item, first_item_name


        class EarlyTests(ProperTestCase):
    """ + "".join(f"""
            def test_{n}(self):
                Item.create(name="early{n}")
                self.assertEqual(Item.select().count(), 1)
    """ for n in range(4)) + """
            def test_caches(self):
                Item.create(name="cached")
                self.assertEqual(first_item_name(), "cached")
    """ + "".join(f"""
            def test_{n}_more(self):
                Item.create(name="more{n}")
                self.assertEqual(Item.select().count(), 1)
    """ for n in range(4)) + """

        class LateTests(ProperTestCase):
            def test_first_name(self):
                Item.create(name="mine")
                self.assertEqual(Item.select().count(), 1, "the rows were rolled back")
                self.assertEqual(first_item_name(), "mine")
    """,
}


class ProperAppTests(ProjectTestCase):
    """A ProperTestCase test that leaks through an app module global."""

    def setUp(self):
        super().setUp()
        (self.app_project / "tests" / "test_items.py").unlink()
        write_tree(self.app_project, CACHE_PROJECT)

    def test_rerun_labels_it_and_bisect_finds_the_caching_test(self):
        victim = "tests.test_cache.LateTests.test_first_name"
        culprit = "tests.test_cache.EarlyTests.test_caches"
        proc = self.run_in_project()
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout.strip().splitlines()[-1], "9 passed, 1 failed")
        self.assertIn(f"  {victim}  [order-dependent]", proc.stderr)
        proc = self.run_in_project("--bisect", victim)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.splitlines()[0], f"{victim} fails after {culprit}")
        command = shlex.split(proc.stdout.strip().splitlines()[-1])
        self.assertEqual(command, ["python", "-m", "proper_unittest", culprit, victim])
        rerun = self.run_in_project(*command[3:])
        self.assertEqual(rerun.stdout.strip().splitlines()[-1], "1 passed, 1 failed", rerun.stderr)


# ``test_a_leak`` sets an environment variable (a plain unittest test: the
# library does not put it back) that ``test_b_victim`` trips on.
ENVIRON_PROJECT = {
    "tests/__init__.py": "",
    "tests/test_a_leak.py": """
        import os
        import unittest

        class LeakTests(unittest.TestCase):
            def test_leak(self):
                os.environ["PU_ORDER_LEAK"] = "1"
    """,
    "tests/test_b_victim.py": """
        import os
        import unittest

        class VictimTests(unittest.TestCase):
            def test_victim(self):
                self.assertNotIn("PU_ORDER_LEAK", os.environ)
    """,
}


class EnvironmentLeakTests(RunnerTestCase):
    """Reruns start from the environment the run started with."""

    def test_the_rerun_of_a_test_failing_on_a_leaked_variable_reports_it_order_dependent(self):
        project = write_tree(self.tmp / "environ", ENVIRON_PROJECT)
        proc = self.run_runner(cwd=project, module=True)
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(proc.stdout.strip().splitlines()[-1], "1 passed, 1 failed")
        self.assertEqual(order_dependent(proc), ["tests.test_b_victim.VictimTests.test_victim"], proc.stderr)
        proc = self.run_runner("--bisect", "tests.test_b_victim.VictimTests.test_victim", cwd=project, module=True)
        self.assertEqual(proc.stdout.strip().splitlines()[0],
                         "tests.test_b_victim.VictimTests.test_victim fails after tests.test_a_leak.LeakTests.test_leak",
                         proc.stderr)
