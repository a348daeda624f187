"""--shard K/N."""
import json
import shutil

from tests.support.inner import REPO
from tests.support.runner_projects import RunnerTestCase, many_classes_project


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
