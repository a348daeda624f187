"""Parallel runs leave no worker database behind (unless --keepdb)."""
import os
import subprocess
import sys
import unittest
from pathlib import Path

from tests.apps.testdb import backend
from tests.servers import database_exists, drop_database, server_database, worker_suffix

REPO = Path(__file__).resolve().parent.parent


@unittest.skipIf(backend() == "sqlite", "in-memory SQLite needs no worker databases")
class ParallelWorkerDatabaseTests(unittest.TestCase):
    def test_worker_databases_are_dropped_after_a_parallel_run(self):
        name = f"pu_parallel_test{worker_suffix()}"
        url = os.environ["TEST_DATABASE_URL"].rsplit("/", 1)[0] + "/" + name
        workers = [f"{name}_w1", f"{name}_w2"]
        for db_name in workers:
            drop_database(server_database(db_name))
        env = {**os.environ, "TEST_DATABASE_URL": url}
        env.pop("PROPER_UNITTEST_WORKER", None)
        done = subprocess.run(
            [sys.executable, "runtests.py", "myapp", "--parallel", "2", "-k", "Photo"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
        )
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        self.assertIn("with 2 worker processes", done.stderr)
        for db_name in workers:
            self.assertFalse(database_exists(db_name), f"{db_name} was left on the server")
        self.assertFalse(database_exists(name), "the parent uses no database")
