"""--parallel N and auto: workers, their cap, dismissed workers; --keepdb."""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.support.inner import REPO
from tests.support.runner_projects import (
    DEFAULT_ORDER,
    ITEM_TESTS,
    RUNTESTS,
    RunnerTestCase,
    ServerRunTestCase,
    many_classes_project,
    write_tree,
)
from tests.support.servers import server_database


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


class ParallelAutoAndKeepdbTests(RunnerTestCase):
    """--parallel auto and --keepdb."""

    def test_auto_runs_few_tests_serially_and_says_so(self):
        proc = self.run_runner(self.project, "--parallel", "auto")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("--parallel auto: 8 tests, fewer than 1000 (and no recorded durations): "
                      "running them in this process", proc.stderr)
        self.assertEqual({line.split("|")[1] for line in self.logged()}, {"-"})

    def sixty_tests(self, seconds_each: float | None) -> Path:
        """A project of 6 classes of 10 empty tests, with `seconds_each`
        recorded for every test (None: no durations recorded)."""
        files = {"tests/__init__.py": "", "tests/test_many.py": "import unittest\n" + "".join(
            f"class C{n}(unittest.TestCase):\n" + "".join(f"    def test_{m}(self): pass\n" for m in range(10))
            for n in range(6)
        )}
        if seconds_each is not None:
            durations = {f"tests.test_many.C{n}.test_{m}": seconds_each for n in range(6) for m in range(10)}
            files[".proper_unittest/durations.json"] = json.dumps(durations)
        return write_tree(self.tmp / f"many-{seconds_each}", files)

    def test_auto_never_starts_more_workers_than_cores(self):
        # 60 tests recorded at 1 s each: worth 6 workers, capped by the cores.
        proc = self.run_runner(self.sixty_tests(1.0), "--parallel", "auto")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        cores = os.process_cpu_count() or 1
        if cores == 1:
            self.assertIn("Ran 60 tests", proc.stderr)
        else:
            self.assertIn(f"with {min(cores, 6)} worker processes", proc.stderr)

    def test_auto_judges_by_recorded_durations_when_there_are_some(self):
        proc = self.run_runner(self.sixty_tests(0.001), "--parallel", "auto")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("--parallel auto: 60 tests of about 0.06 s in all (recorded durations), "
                      "less than 1.5 s: running them in this process", proc.stderr)
        self.assertNotIn("worker processes", proc.stderr)

    def test_auto_starts_no_more_workers_than_the_work_is_worth(self):
        # 60 x 0.03 s = 1.8 s of recorded work: above the threshold, and
        # worth two workers of 0.75 s (not one per class).
        proc = self.run_runner(self.sixty_tests(0.03), "--parallel", "auto")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        if (os.process_cpu_count() or 1) > 1:
            self.assertIn("with 2 worker processes", proc.stderr)

    def test_keepdb_is_passed_to_the_run_and_its_workers(self):
        write_tree(self.project, {"tests/test_keepdb.py": """
            import os
            import unittest
            from tests.helpers import log

            class KeepTests(unittest.TestCase):
                def test_env(self):
                    log("keepdb=" + os.environ.get("PROPER_UNITTEST_KEEPDB", ""))
        """})
        for extra in ([], ["--parallel", "2"]):
            self.log_path.unlink(missing_ok=True)
            self.run_runner(self.project, "--keepdb", "-k", "KeepTests", *extra)
            self.assertEqual(self.ran_tests(), ["keepdb=1"])
        self.log_path.unlink()
        self.run_runner(self.project, "-k", "KeepTests")
        self.assertEqual(self.ran_tests(), ["keepdb="])


class ParallelCapTests(RunnerTestCase):
    """--parallel N never starts more workers than cores or test classes."""

    def test_more_workers_than_classes_or_cores_are_not_started(self):
        # 3 classes; this machine's cores may be fewer.
        cores = os.process_cpu_count() or 1
        proc = self.run_runner(self.project, "--parallel", "24")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertSummary(proc, "6 passed, 1 failed, 1 skipped")
        expected = min(3, cores)
        self.assertIn(f"--parallel 24: running {expected} worker process(es)", proc.stderr)
        self.assertEqual(len({line.split("|")[1] for line in self.logged()}), expected)

    def test_one_class_runs_in_one_process(self):
        proc = self.run_runner(self.project, "--parallel", "2", "-k", "BetaTests")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("--parallel 2: running 1 worker process(es)", proc.stderr)
        self.assertEqual({line.split("|")[1] for line in self.logged()}, {"-"})


class KeepdbTests(ServerRunTestCase):
    """--keepdb: a table changed by hand is rebuilt, the rerun database is dropped."""

    def test_a_table_changed_by_hand_is_rebuilt_with_a_message(self):
        self.add_tests(ITEM_TESTS)
        self.assertEqual(self.run_runner("--keepdb").returncode, 0)
        kept = server_database(self.db_name)
        with kept:
            kept.execute_sql("ALTER TABLE item RENAME COLUMN name TO title")
        proc = self.run_runner("--keepdb", "--junitxml", self.tmp / "junit.xml")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("no longer match the models (table item: extra column(s) title; "
                      "missing column(s) name): rebuilding them", proc.stderr)
        ET.parse(self.tmp / "junit.xml")
        self.assertEqual(self.run_runner("--keepdb").returncode, 0)
        self.assertNothingLeft(keep=[self.db_name])

    def test_the_rerun_database_is_dropped(self):
        self.add_tests(ITEM_TESTS + """
        def test_fails(self):
            self.fail("boom")
""")
        proc = self.run_runner("--keepdb", "--junitxml", self.tmp / "junit.xml")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn("Rerunning 1 failed test(s) alone", proc.stderr)
        ET.parse(self.tmp / "junit.xml")
        self.assertNothingLeft(keep=[self.db_name])
