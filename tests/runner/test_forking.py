"""Parallel workers forked once the tests are loaded (runner/forking.py),
and new interpreters instead when forking would share what must not be
shared: a running thread, an open database connection, a socket or file
a test module opened at import (runner/descriptors.py)."""

import os
import shutil
import tempfile
import unittest

from tests.support.apps.testdb import backend
from tests.support.claimed import own_name
from tests.support.inner import REPO, run_suite, write_tree
from tests.support.runner_projects import HELPERS, RUNTESTS, RunnerTestCase
from tests.support.servers import database_exists

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
            {use}
            log(f"{name}FirstTests.test_one pid={{os.getpid()}}")

    class {name}SecondTests(unittest.TestCase):
        def test_one(self):
            {use}
            log(f"{name}SecondTests.test_one pid={{os.getpid()}}")
"""

FORKED = "workers: forked from this process, with the tests loaded"
NOT_FORKED = "workers: new interpreters, not forked: "


class ForkedWorkerTests(RunnerTestCase):
    """What a --parallel run's workers start from."""

    def write_project(self, extra="", use="pass"):
        """Two test modules running *extra* at import and *use* in each test."""
        self.imports_log = self.tmp / "imports.log"
        files = {"tests/__init__.py": "", "tests/helpers.py": HELPERS}
        for name in ("Left", "Right"):
            files[f"tests/test_{name.lower()}.py"] = MODULE.format(name=name, extra=extra, use=use)
        return write_tree(self.tmp / "forks", files)

    def run_parallel(self, project, *args):
        proc = self.run_runner(project, "--parallel", "2", *args, env={"IMPORTS_LOG": str(self.imports_log)})
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertSummary(proc, "4 passed, 0 failed")
        importers = {line.split()[1] for line in self.imports_log.read_text().splitlines()}
        runners = {event.rsplit("pid=", 1)[1] for event in self.ran_tests()}
        self.assertEqual(len(runners), 2, self.logged())
        self.assertEqual({line.split("|")[1] for line in self.logged()}, {"1", "2"})
        self.stderr = proc.stderr
        return importers, runners

    def assertNewInterpreters(self, importers, runners, why):
        """Each worker imported the tests itself, and -v said *why*."""
        self.assertEqual(len(importers), 3, f"workers were forked:\n{self.stderr}")
        self.assertLessEqual(runners, importers)
        self.assertIn(NOT_FORKED, self.stderr)
        self.assertIn(why, self.stderr)

    def test_a_thread_running_once_the_tests_are_loaded_means_new_interpreters(self):
        extra = "import threading; threading.Thread(target=threading.Event().wait, daemon=True).start()"
        importers, runners = self.run_parallel(self.write_project(extra), "-v")
        self.assertNewInterpreters(importers, runners, "other threads are running (Thread-1")

    def test_an_open_database_connection_means_new_interpreters(self):
        extra = f"import peewee; DB = peewee.SqliteDatabase({str(self.tmp / 'open.sqlite3')!r}); DB.connect()"
        importers, runners = self.run_parallel(self.write_project(extra), "-v")
        self.assertNewInterpreters(importers, runners, "database connections are open (SqliteDatabase")

    def test_a_sqlite3_connection_and_a_redis_socket_opened_at_import_mean_new_interpreters(self):
        # Neither through peewee: the connection guard sees neither; their
        # descriptors (a file open for writing, a TCP socket) are seen.
        # Both in one run: a run with new interpreters costs CI ~5 s.
        path = self.tmp / "direct.sqlite3"
        extra = "; ".join([
            f"import sqlite3; CONN = sqlite3.connect({str(path)!r})",
            "CONN.execute('CREATE TABLE IF NOT EXISTS t (x)')",
            "import redis; REDIS = redis.Redis(host='127.0.0.1', port=6379, db=15); REDIS.ping()",
        ])
        use = "CONN.execute('INSERT INTO t VALUES (1)'); CONN.commit(); assert REDIS.ping()"
        importers, runners = self.run_parallel(self.write_project(extra, use), "-v")
        self.assertNewInterpreters(importers, runners, f"the file {os.path.realpath(path)} open for writing")
        self.assertRegex(self.stderr, r"a TCP socket from 127\.0\.0\.1:\d+ to 127\.0\.0\.1:6379")
        self.assertIn("opened them at import", self.stderr)

    def test_workers_are_forked_with_the_tests_already_imported(self):
        # What the modules opened at import and closed does not stop it (a
        # file written, a SQLite connection, a Redis socket), nor /dev/null
        # and /dev/urandom kept open and used by both workers: they keep no
        # position and queue nothing. Nor what the runner opened itself
        # before loading the tests (its run folder's lock, the supervisor's pipe).
        data = self.tmp / "data.txt"
        extra = "; ".join([
            f"open({str(data)!r}, 'a').close()",
            f"import sqlite3; sqlite3.connect({str(self.tmp / 'closed.sqlite3')!r}).close()",
            "import socket; socket.create_connection(('127.0.0.1', 6379)).close()",
            "NULL = open(os.devnull, 'w'); RANDOM = open('/dev/urandom', 'rb')",
        ])
        use = "NULL.write('x'); NULL.flush(); assert len(RANDOM.read(16)) == 16"
        importers, runners = self.run_parallel(self.write_project(extra, use), "-v")
        self.assertEqual(len(importers), 1, f"a worker imported the tests again:\n{self.stderr}")
        self.assertFalse(importers & runners, "a test ran in the process that loaded them")
        self.assertIn(FORKED, self.stderr)

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


class ExampleAppForkTests(unittest.TestCase):
    """The example app's parallel run forks its workers, on every backend:
    nothing it opens at import is left open (runs where TEST_DATABASE_URL
    points, on a database named for this checkout)."""

    def test_the_example_app_workers_are_forked(self):
        tmp = self.enterContext(tempfile.TemporaryDirectory())
        ignore = shutil.ignore_patterns("__pycache__", ".proper_unittest", "*.sqlite3")
        example = shutil.copytree(REPO / "examples" / "myapp", os.path.join(tmp, "myapp"), ignore=ignore)
        url = os.environ.get("TEST_DATABASE_URL") or "sqlite:///:memory:"
        name = own_name("forkapp")
        if backend() != "sqlite":
            url = url.rsplit("/", 1)[0] + "/" + name
        # All of its test modules are loaded; one module's tests run (fast).
        proc = run_suite(None, RUNTESTS, example, "--parallel", "2", "-v", "-k", "test_models",
                         folder=REPO, env={"TEST_DATABASE_URL": url}, repo_on_path=False, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("with 2 worker processes", proc.stderr)
        self.assertIn(FORKED, proc.stderr)
        if backend() != "sqlite":
            left = [name + worker for worker in ("_w1", "_w2") if database_exists(name + worker)]
            self.assertEqual(left, [], "worker databases left")


if __name__ == "__main__":
    unittest.main()
