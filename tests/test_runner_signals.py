"""SIGTERM and SIGINT stop a run cleanly: workers stop, the library's exit
hooks run in every process (test tables dropped, SQLite files removed), the
runner's temporary files go, and the exit status is 143 / 130."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path


from tests.apps.testdb import backend, database_config
from tests.servers import database_exists, drop_database, server_database, worker_suffix
from tests.test_runner import skip_unless_sqlite, write_tree

# Two classes whose one test logs its process id and then waits: a run of
# them is interrupted while both (with --parallel 2, both workers) are busy.
SLOW_PROJECT = {
    "setup.cfg": "[proper_unittest]\napp = app:app\n",
    "app.py": """
        import json
        import os

        import peewee as pw
        from proper import App, ProperModel

        app = App(__name__, config={
            "SECRET_KEYS": ["k" * 64],
            "DATABASES": {"main": json.loads(os.environ["SLOW_DB"])},
            # The storage addon's test service: its files go to the run's
            # temporary folder, which must go too.
            "STORAGES": {"test": {"type": "Disk", "root": "temp/storage"}},
            "STORAGE": "test",
        })


        class Item(ProperModel):
            name = pw.CharField()

            class Meta:
                database = app.db["main"]
    """,
    "tests/__init__.py": "",
    "tests/test_slow.py": """
        import os
        import time

        from pathlib import Path

        from proper_unittest import ProperTestCase
        from app import Item, app


        def wait_to_be_stopped():
            Item.create(name="x")
            Path(app.config["STORAGES"]["test"]["root"], "stored.txt").write_text("x")
            with open(os.environ["RUNNER_LOG"], "a") as file:
                file.write(f"started {os.getpid()}\\n")
            time.sleep(120)


        class FirstSlowTests(ProperTestCase):
            def test_wait(self):
                wait_to_be_stopped()


        class SecondSlowTests(ProperTestCase):
            def test_wait(self):
                wait_to_be_stopped()
    """,
}


def interrupted_run(tmp, database, signum, *args, whole_group=False):
    """Run the slow project with *args*; once every process runs a test, send *signum*.

    Returns ``(exit status, pids of the processes that ran tests, private TMPDIR)``.
    *whole_group* sends it to the process group, as a terminal's Ctrl-C does.
    """
    project = write_tree(tmp / "project", SLOW_PROJECT)
    log, private_tmp = tmp / "events.log", tmp / "runner-tmp"
    private_tmp.mkdir()
    env = dict(os.environ, RUNNER_LOG=str(log), SLOW_DB=json.dumps(database), TMPDIR=str(private_tmp))
    env.pop("PROPER_UNITTEST_WORKER", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "proper_unittest", *args], cwd=project, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    expected = 2 if "--parallel" in args else 1
    deadline = time.monotonic() + 60
    while _started(log) < expected and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    if whole_group:
        os.killpg(process.pid, signum)
    else:
        process.send_signal(signum)
    output, _ = process.communicate(timeout=120)
    pids = [int(line.split()[1]) for line in log.read_text().splitlines()] if log.exists() else []
    return process.returncode, pids, private_tmp, output.decode(errors="replace")


def _started(log):
    return len(log.read_text().splitlines()) if log.exists() else 0


def is_running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class SigtermParallelPostgresTests(unittest.TestCase):
    """SIGTERM (what CI sends on cancel) to ``--parallel 2`` on PostgreSQL."""

    @classmethod
    def setUpClass(cls):
        if backend() != "postgresql":
            raise unittest.SkipTest("worker databases on a server: run with a PostgreSQL TEST_DATABASE_URL")
        cls.name = f"runner_sigterm_test{worker_suffix()}"
        cls.worker_names = [f"{cls.name}_w1", f"{cls.name}_w2"]
        for name in cls.worker_names:
            drop_database(server_database(name))
            cls.addClassCleanup(drop_database, server_database(name))
        tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(tmp.cleanup)
        config = database_config(cls.name)
        database = {"type": "peewee.PostgresqlDatabase", **{k: v for k, v in config.items() if k != "type"}}
        cls.status, cls.pids, cls.private_tmp, cls.output = interrupted_run(
            Path(tmp.name), database, signal.SIGTERM, "--parallel", "2"
        )

    def test_workers_stop_clean_up_and_the_run_exits_143(self):
        self.assertEqual(self.status, 143, self.output)
        self.assertEqual(len(set(self.pids)), 2, self.output)
        self.assertEqual([pid for pid in self.pids if is_running(pid)], [], "workers left running")
        self.assertEqual(list(self.private_tmp.iterdir()), [], "temporary files left (stored files too)")
        # The workers' exit hooks ran: their test tables were dropped.
        for name in self.worker_names:
            if database_exists(name):
                db = server_database(name)
                with db:
                    self.assertEqual(db.get_tables(), [], f"tables left in {name}")

    def test_no_worker_database_is_left(self):
        self.assertEqual([name for name in self.worker_names if database_exists(name)], [])


class SigintSqliteSerialTests(unittest.TestCase):
    """Ctrl-C (SIGINT) to a serial run on a SQLite test file (on every backend run)."""

    args = ()
    whole_group = False

    @classmethod
    def setUpClass(cls):
        skip_unless_sqlite()
        tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = Path(tmp.name)
        database = {"type": "peewee.SqliteDatabase", "database": str(cls.tmp / "slow_test.sqlite3")}
        cls.status, cls.pids, cls.private_tmp, cls.output = interrupted_run(
            cls.tmp, database, signal.SIGINT, *cls.args, whole_group=cls.whole_group
        )

    def test_stops_and_exits_130(self):
        self.assertEqual(self.status, 130, self.output)
        self.assertEqual(len(set(self.pids)), 2 if self.args else 1, self.output)
        self.assertEqual([pid for pid in self.pids if is_running(pid)], [])
        self.assertEqual(list(self.private_tmp.iterdir()), [], "temporary files left (stored files too)")

    def test_sqlite_test_files_are_removed(self):
        self.assertEqual(sorted(self.tmp.glob("*.sqlite3")), [])


class SigintSqliteParallelTests(SigintSqliteSerialTests):
    """Ctrl-C in a terminal (SIGINT to the whole process group) during ``--parallel 2``."""

    args = ("--parallel", "2")
    whole_group = True


class LaterSignalsTests(unittest.TestCase):
    """After the first signal, later ones are ignored until the process has
    exited: a parent stopping its workers (SIGTERM) while their exit hooks
    clean up must not cut the clean-up short."""

    def test_a_signal_during_the_exit_hooks_does_not_stop_them(self):
        skip_unless_sqlite()
        with tempfile.TemporaryDirectory() as folder:
            marker = Path(folder, "hook-finished")
            project = write_tree(Path(folder, "project"), {
                "tests/__init__.py": "",
                "tests/test_stop.py": f"""
                    import atexit
                    import os
                    import signal
                    import time
                    import unittest


                    def exit_hook():
                        os.kill(os.getpid(), signal.SIGTERM)  # as a parent's stop would
                        time.sleep(0.2)
                        open({str(marker)!r}, "w").close()


                    class StopTests(unittest.TestCase):
                        def test_interrupted(self):
                            atexit.register(exit_hook)
                            os.kill(os.getpid(), signal.SIGINT)
                            time.sleep(5)
                """,
            })
            env = dict(os.environ)
            env.pop("PROPER_UNITTEST_WORKER", None)
            proc = subprocess.run(
                [sys.executable, "-m", "proper_unittest"], cwd=project, env=env,
                capture_output=True, text=True, timeout=60,
            )
            self.assertEqual(proc.returncode, 130, proc.stderr)
            self.assertTrue(marker.exists(), "the exit hook was cut short by the later SIGTERM")
