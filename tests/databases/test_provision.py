"""Creating the test databases: schema creation, connections, and per-worker databases that a
parallel run leaves behind none of."""
import os
import subprocess
import sys
import unittest

from proper_unittest.databases.provision import prepare_databases

from tests.support.apps.notes.main import Note, app, db
from tests.support.apps.testdb import backend
from tests.support.inner import NotesCase as Notes, REPO, run_suite, run_inner
from tests.support.servers import database_exists, drop_database, server_database, worker_suffix


POST_AND_COUNT = '''
from proper_unittest import ProperTestCase
from tests.support.apps.notes.main import Note

class AutoconnectOffTests(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_request_in_transaction(self):
        result = self.client.post("/notes", body={"title": "Sunset"})
        self.assertRedirects(result, f"/notes/{Note.get().id}")
        self.assertEqual(Note.select().count(), 1)

    def test_rolled_back(self):
        self.assertEqual(Note.select().count(), 0)
'''

WORKER_DATABASE = '''
from proper_unittest import ProperTestCase
from tests.support.apps.notes.main import Note
from tests.support.servers import database_exists

class WorkerTests(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_runs_on_the_worker_database(self):
        self.assertEqual(Note._meta.database.execute_sql("SELECT 1").fetchone()[0], 1)
        self.assertTrue(database_exists("notes_worker_test_w7"))
        Note.create(title="in the worker database")
'''


class PrepareTests(unittest.TestCase):
    def test_schema_is_created_once_per_process(self):
        class Writes(Notes):
            def test_prepare_again_keeps_rows(self):
                Note.create(title="kept")
                prepare_databases(app.db.values())  # a second class starting: no drop
                self.assertEqual(Note.select().count(), 1)
                self.assertTrue(db.table_exists("note"))
                self.assertFalse(db.table_exists("named"))

        result, output = run_inner(Writes)
        self.assertTrue(result.wasSuccessful(), output)

    def test_autoconnect_false_database_works(self):
        # Fact 2.5: the app would close the connection inside the test's
        # transaction after every request; the library prevents it.
        # Its own database: the child drops its schema at exit.
        env = {"NOTES_AUTOCONNECT_OFF": "1", "NOTES_DB_NAME": "notes_autoconnect_test"}
        done = run_suite(POST_AND_COUNT, env=env)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Ran 2 tests", done.stderr)


@unittest.skipIf(backend() == "sqlite", "in-memory SQLite needs no per-worker database")
class WorkerDatabaseTests(unittest.TestCase):
    def test_each_worker_gets_its_own_database(self):
        name = "notes_worker_test"
        drop_database(server_database("notes_worker_test_w7"))
        done = run_suite(WORKER_DATABASE, env={"NOTES_DB_NAME": name, "PROPER_UNITTEST_WORKER": "7"})
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Ran 1 test", done.stderr)
        self.assertFalse(database_exists("notes_worker_test_w7"), "created for worker 7, dropped at exit")
        self.assertFalse(database_exists(name), "the unsuffixed database is not used")

    def test_pytest_xdist_workers_get_their_own_database(self):
        drop_database(server_database("notes_worker_test_gw1"))
        source = WORKER_DATABASE.replace("notes_worker_test_w7", "notes_worker_test_gw1")
        done = run_suite(source, env={"NOTES_DB_NAME": "notes_worker_test", "PYTEST_XDIST_WORKER": "gw1"})
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertFalse(database_exists("notes_worker_test_gw1"), "dropped at exit")


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
