"""Parallel workers forked once the tests are loaded (runner/forking.py),
and new interpreters instead when forking would share what must not be
shared: a running thread, an open database connection."""

import os
import unittest

from tests.support.inner import write_tree
from tests.support.runner_projects import HELPERS, RunnerTestCase

# Each test module notes the process that imports it, and each test the process it runs in.
MODULE = """
    import os
    import time
    import unittest
    from tests.helpers import log

    with open(os.environ["IMPORTS_LOG"], "a") as imports:
        imports.write(f"{{__name__}} {{os.getpid()}}\\n")
    {extra}

    class {name}FirstTests(unittest.TestCase):
        def test_one(self):
            log(f"{name}FirstTests.test_one pid={{os.getpid()}}")

    class {name}SecondTests(unittest.TestCase):
        def test_one(self):
            log(f"{name}SecondTests.test_one pid={{os.getpid()}}")
"""


class ForkedWorkerTests(RunnerTestCase):
    """What a --parallel run's workers start from."""

    def write_project(self, extra=""):
        self.imports_log = self.tmp / "imports.log"
        files = {"tests/__init__.py": "", "tests/helpers.py": HELPERS}
        for name in ("Left", "Right"):
            files[f"tests/test_{name.lower()}.py"] = MODULE.format(name=name, extra=extra)
        return write_tree(self.tmp / "forks", files)

    def run_parallel(self, project):
        proc = self.run_runner(project, "--parallel", "2", env={"IMPORTS_LOG": str(self.imports_log)})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertSummary(proc, "4 passed, 0 failed")
        importers = {line.split()[1] for line in self.imports_log.read_text().splitlines()}
        runners = {event.rsplit("pid=", 1)[1] for event in self.ran_tests()}
        self.assertEqual(len(runners), 2, self.logged())
        self.assertEqual({line.split("|")[1] for line in self.logged()}, {"1", "2"})
        return importers, runners

    def test_workers_are_forked_with_the_tests_already_imported(self):
        importers, runners = self.run_parallel(self.write_project())
        self.assertEqual(len(importers), 1, "each test module was imported again by a worker")
        self.assertFalse(importers & runners, "a test ran in the process that loaded them")

    def test_a_thread_running_once_the_tests_are_loaded_means_new_interpreters(self):
        extra = "import threading; threading.Thread(target=threading.Event().wait, daemon=True).start()"
        importers, runners = self.run_parallel(self.write_project(extra))
        self.assertEqual(len(importers), 3, "workers were forked while a thread ran")
        self.assertLessEqual(runners, importers)

    def test_an_open_database_connection_means_new_interpreters(self):
        extra = f"import peewee; DB = peewee.SqliteDatabase({str(self.tmp / 'open.sqlite3')!r}); DB.connect()"
        importers, runners = self.run_parallel(self.write_project(extra))
        self.assertEqual(len(importers), 3, "workers were forked with a connection open")
        self.assertLessEqual(runners, importers)

    def test_a_worker_leaves_the_parents_clean_up_to_the_parent(self):
        # A folder the loaded tests made, removed by its finalizer when the
        # process that made it exits: the first worker to end must not take
        # it from the other, still running.
        shared = self.tmp / "shared-marker"
        project = write_tree(self.tmp / "cleanup", {
            "tests/__init__.py": "",
            "tests/test_shared.py": f"""
                import os
                import tempfile
                import time
                import unittest

                FOLDER = tempfile.TemporaryDirectory()
                with open({str(shared)!r}, "w") as marker:
                    marker.write(FOLDER.name)

                class QuickTests(unittest.TestCase):
                    def test_quick(self):
                        self.assertTrue(os.path.isdir(FOLDER.name))

                class SlowTests(unittest.TestCase):
                    def test_slow(self):
                        time.sleep(1.5)
                        self.assertTrue(os.path.isdir(FOLDER.name), "the other worker removed it")
            """,
        })
        proc = self.run_runner(project, "--parallel", "2")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertSummary(proc, "2 passed, 0 failed")
        self.assertIn("with 2 worker processes", proc.stderr)
        self.assertFalse(os.path.isdir(shared.read_text()), "the run left the folder behind")


if __name__ == "__main__":
    unittest.main()
