"""The runner at CI scale: --shard, --junitxml, --failed, --parallel auto, --keepdb."""

import json
import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.test_runner import DEFAULT_ORDER, REPO, RunnerTestCase, many_classes_project, write_tree


def ran_count(proc):
    """The N of unittest's "Ran N tests" line."""
    for line in reversed(proc.stderr.splitlines()):  # the last: the whole run's, after the workers'
        if line.startswith("Ran "):
            return int(line.split()[1])
    raise AssertionError(f"no 'Ran N tests' line in:\n{proc.stderr}")


class ShardTests(RunnerTestCase):
    """--shard K/N."""

    def listed(self, *args, cwd):
        proc = self.run_runner(*args, "--list", cwd=cwd, module=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.split()

    def test_every_test_runs_in_exactly_one_shard_the_same_on_every_run(self):
        big = many_classes_project(self.tmp / "big")  # 12 classes of 4 tests
        shards = [self.listed("--shard", f"{k}/4", cwd=big) for k in range(1, 5)]
        everything = sum(shards, [])
        self.assertEqual(len(set(everything)), 48)
        self.assertEqual(len(everything), 48)
        class_of = lambda test: test.rsplit(".", 1)[0]  # noqa: E731
        for number, shard in enumerate(shards):
            self.assertEqual(len(shard), 12, "balanced by test count")
            self.assertEqual(shard, sorted(shard), "not in the run's order")
            others = {class_of(test) for other in shards[:number] + shards[number + 1:] for test in other}
            self.assertFalse({class_of(test) for test in shard} & others, "a class was split")
        self.assertEqual(self.listed("--shard", "3/4", cwd=big), shards[2])
        # A real run of one shard runs exactly its tests.
        proc = self.run_runner("--shard", "3/4", cwd=big, module=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(sorted(self.ran_tests()), sorted(t.split(".", 2)[2] for t in shards[2]))

    def test_recorded_durations_balance_the_example_suite_within_15_percent(self):
        example = self.tmp / "myapp"
        shutil.copytree(REPO / "examples" / "myapp", example,
                        ignore=shutil.ignore_patterns("__pycache__", ".proper_unittest", "*.sqlite3"))
        env = {"TEST_DATABASE_URL": "sqlite:///:memory:"}
        proc = self.run_runner("-q", cwd=example, env=env, module=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        durations = json.loads((example / ".proper_unittest" / "durations.json").read_text())
        everything = self.listed(cwd=example)
        # Every test that ran has a duration (a class skipped in its set-up,
        # such as the system tests without a browser, has none).
        self.assertLessEqual(set(durations), set(everything))
        for count in (2, 3):
            shards = [self.listed("--shard", f"{k}/{count}", cwd=example) for k in range(1, count + 1)]
            self.assertCountEqual(sum(shards, []), everything)  # every test, once
            loads = [sum(durations.get(test, 0.0) for test in shard) for shard in shards]
            mean = sum(loads) / count
            # Classes stay whole: one class longer than a fair share is
            # the best any split can do (its timing varies with the load).
            classes = {}
            for test, seconds in durations.items():
                classes[test.rsplit(".", 1)[0]] = classes.get(test.rsplit(".", 1)[0], 0) + seconds
            bound = max(1.15 * mean, max(classes.values()) + 1e-9)
            self.assertLessEqual(max(loads), bound, f"{count} shards: {loads}")

    def test_bad_shard_is_a_usage_error(self):
        proc = self.run_runner(self.project, "--shard", "5/4")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("1 <= K <= N", proc.stderr)

    def test_a_shard_with_no_tests_passes(self):
        proc = self.run_runner(self.project, "--shard", "9/9", "-k", "GammaTests")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("has no tests", proc.stderr)
        self.assertSummary(proc, "0 passed, 0 failed")


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
