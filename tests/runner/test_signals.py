"""SIGTERM and SIGINT stop a run cleanly: workers stop, the library's exit hooks run in every
process, the runner's temporary files go, the exit status is 143 / 130; queries stuck on the
server and runs killed with SIGKILL leave nothing that refuses the next run."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.support.apps.testdb import backend, database_config
from tests.support.runner_projects import (
    SERVER_PROJECT,
    ServerRunTestCase,
    live_processes_of_group,
    item_project,
    processes_in,
    skip_unless_sqlite,
)
from tests.support.inner import write_tree
from tests.support.servers import database_exists, drop_database, server_database, worker_suffix


# Two classes whose one test logs its process id and then waits: a run of
# them is interrupted while both (with --parallel 2, both workers) are busy.
SLOW_PROJECT = {
    # The storage addon's test service: its files go to the run's temporary
    # folder, which must go too.
    **item_project("SLOW_DB", '    "STORAGES": {"test": {"type": "Disk", "root": "temp/storage"}},\n'
                              '    "STORAGE": "test",\n'),
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
        cls.tmp = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        database = {"type": "peewee.SqliteDatabase", "database": str(cls.tmp / "slow_test.sqlite3")}
        cls.junit = cls.tmp / "junit.xml"
        cls.status, cls.pids, cls.private_tmp, cls.output = interrupted_run(
            cls.tmp, database, signal.SIGINT, "--junitxml", str(cls.junit), *cls.args,
            whole_group=cls.whole_group,
        )

    def test_stops_and_exits_130(self):
        self.assertEqual(self.status, 130, self.output)
        self.assertEqual(len(set(self.pids)), 2 if self.args else 1, self.output)
        self.assertEqual([pid for pid in self.pids if is_running(pid)], [])
        self.assertEqual(list(self.private_tmp.iterdir()), [], "temporary files left (stored files too)")

    def test_sqlite_test_files_are_removed(self):
        self.assertEqual(sorted(self.tmp.glob("*.sqlite3")), [])

    def test_the_summary_and_junit_xml_say_where_it_stopped(self):
        if self.args:
            self.skipTest("a parallel run stopped by a signal reports no summary (its workers' journals "
                          "are not gathered)")
        self.assertIn("\n0 passed, 1 failed, 1 not run\n", self.output)
        messages = [error.get("message") for error in ET.parse(self.junit).getroot().iter("error")]
        self.assertEqual(messages, ["Interrupted: the run was stopped (SIGINT) while this test ran",
                                    "NotRun: the run was stopped (SIGINT) before it"])


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


SLEEPING_TESTS = """
    import os

    from proper_unittest import ProperTestCase
    from app import Item


    def sleep_on_the_server():
        Item.create(name="x")
        with open(os.environ["RUNNER_LOG"], "a") as file:
            file.write(f"started {os.getpid()}\\n")
        if os.environ.get("SLEEP") != "0":
            Item._meta.database.execute_sql("SELECT pg_sleep(120)")


    class FirstTests(ProperTestCase):
        def test_sleep(self):
            sleep_on_the_server()


    class SecondTests(ProperTestCase):
        def test_sleep(self):
            sleep_on_the_server()
"""


class StuckQueryTests(ServerRunTestCase):
    """SIGTERM/SIGINT while tests wait in pg_sleep; a lock left by a killed run."""

    def start(self, *args):
        self.add_tests(SLEEPING_TESTS)
        self.log = self.tmp / "events.log"
        env = dict(self.env(), RUNNER_LOG=str(self.log))
        process = subprocess.Popen(
            [sys.executable, "-m", "proper_unittest", *map(str, args)], cwd=self.project, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )
        self.addCleanup(lambda: (process.kill(), process.communicate()))
        expected = 2 if "--parallel" in args else 1
        for _ in range(1200):
            if self.log.exists() and len(self.log.read_text().splitlines()) >= expected:
                break
            if process.poll() is not None:
                self.fail(process.communicate()[0].decode())
            time.sleep(0.1)
        time.sleep(0.5)  # in pg_sleep by now
        return process

    def sleeping_sessions(self):
        server = server_database("postgres")
        with server.connection_context():
            return server.execute_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%%pg_sleep(120)%%' "
                "AND pid <> pg_backend_pid()"
            ).fetchone()[0]

    def stop(self, signum, *args):
        process = self.start("--junitxml", self.tmp / "junit.xml", *args)
        started = time.monotonic()
        os.kill(process.pid, signum)
        output = process.communicate(timeout=60)[0].decode(errors="replace")
        # Far less than the 120 s the query would take (the issue asks for
        # 10 s; timing here depends on the machine's load).
        self.assertLess(time.monotonic() - started, 30, output)
        return process.returncode, output

    def test_sigterm_serial(self):
        status, output = self.stop(signal.SIGTERM, "-k", "FirstTests")
        self.assertEqual(status, 143, output)
        self.assertEqual(self.sleeping_sessions(), 0)
        self.assertNothingLeft()

    def test_sigint_parallel(self):
        status, output = self.stop(signal.SIGINT, "--parallel", "2")
        self.assertEqual(status, 130, output)
        self.assertEqual(self.sleeping_sessions(), 0)
        self.assertNothingLeft()

    def test_a_dead_worker_database_is_dropped(self):
        self.add_tests(SLEEPING_TESTS.replace(
            'Item._meta.database.execute_sql("SELECT pg_sleep(120)")', "os._exit(3)"))
        proc = self.run_runner("--parallel", "2", "--junitxml", self.tmp / "junit.xml", "--no-rerun-failures")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertEqual(len(list(ET.parse(self.tmp / "junit.xml").getroot().iter("error"))), 2)
        self.assertNothingLeft()


# Sleeps in its test the way the backend allows: on the server (the query
# outlives the killed client), or in Python (SQLite).
HANGING_TESTS = """
    import os
    import time

    from proper_unittest import ProperTestCase
    from app import Item


    class HangingTests(ProperTestCase):
        def test_hang(self):
            Item.create(name="x")
            with open(os.environ["RUNNER_LOG"], "a") as file:
                file.write("started\\n")
            if os.environ.get("HANG") == "1":
                db = Item._meta.database
                backend = type(db).__name__
                if "Postgres" in backend:
                    db.execute_sql("SELECT pg_sleep(120)")
                elif "MySQL" in backend:
                    # MariaDB ends a gone client's SLEEP within 5 s, not a running statement.
                    db.execute_sql("SELECT BENCHMARK(100000000000, 1)")
                else:
                    time.sleep(120)
            self.assertEqual(Item.select().count(), 1)
"""


class KilledRunTests(unittest.TestCase):
    """A run killed with SIGKILL in the middle of a test (its query still
    running on the server) does not refuse the next run, on every backend:
    the next run takes over, saying so, and leaves nothing behind."""

    def setUp(self):
        self.tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.project = write_tree(self.tmp / "project", {**SERVER_PROJECT, "tests/test_hang.py": HANGING_TESTS})
        self.runner_tmp = self.tmp / "runner-tmp"
        self.runner_tmp.mkdir()
        self.log = self.tmp / "events.log"
        self.db_name = f"pu_killed{worker_suffix()}_test"
        if backend() != "sqlite":
            drop_database(server_database(self.db_name))
            self.addCleanup(drop_database, server_database(self.db_name))

    def env(self, **extra):
        if backend() == "sqlite":
            config = {"type": "peewee.SqliteDatabase", "database": str(self.tmp / f"{self.db_name}.sqlite3")}
        else:
            config = database_config(self.db_name)
        env = dict(os.environ, HOSTILE_DB=json.dumps(config), TMPDIR=str(self.runner_tmp),
                   RUNNER_LOG=str(self.log), **extra)
        env.pop("PROPER_UNITTEST_WORKER", None)
        return env

    def database_left(self):
        if backend() == "sqlite":
            return any(self.tmp.glob(f"{self.db_name}.sqlite3*"))
        return database_exists(self.db_name)

    def hanging_sessions(self):
        if backend() == "sqlite":
            return 0
        server = server_database("postgres" if backend() == "postgresql" else "mysql")
        with server.connection_context():
            if backend() == "postgresql":
                sql = "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(120)'"
            else:
                sql = "SELECT count(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT BENCHMARK(%%'"
            return server.execute_sql(sql).fetchone()[0]

    def end_hanging_sessions(self):
        """After a failure: end what the killed run left on the server (a
        BENCHMARK on MariaDB would otherwise burn a core)."""
        if backend() != "mysql":
            return
        server = server_database("mysql")
        with server.connection_context():
            rows = server.execute_sql(
                "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT BENCHMARK(%%'").fetchall()
            for (session,) in rows:
                server.execute_sql(f"KILL {int(session)}")

    def kill_in_test(self, command):
        """Start *command* in the project, SIGKILL its whole process group
        once its test hangs; return the group's id."""
        self.log.unlink(missing_ok=True)
        process = subprocess.Popen([sys.executable, *command], cwd=self.project, env=self.env(HANG="1"),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(lambda: (process.kill(), process.wait()))
        self.addCleanup(self.end_hanging_sessions)
        for _ in range(1200):
            if self.log.exists() or process.poll() is not None:
                break
            time.sleep(0.1)
        self.assertTrue(self.log.exists(), "the run to kill did not start its test")
        time.sleep(0.5)  # in its query by now
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return process.pid

    def test_the_next_run_takes_over_and_leaves_nothing(self):
        # A killed python -m unittest leaves sessions (and a lock, before the
        # lock had its own connection: refused on MariaDB); a killed runner
        # also leaves its folder, noting what it created (PostgreSQL only,
        # to keep CI short: that part is the same on every backend).
        commands = {"python -m unittest": ["-m", "unittest", "discover", "-s", "tests", "-t", "."]}
        if backend() == "postgresql":
            commands["the runner"] = ["-m", "proper_unittest"]
        for killed, command in commands.items():
            with self.subTest(killed=killed):
                group = self.kill_in_test(command)
                self.assertEqual(self.hanging_sessions(), 0 if backend() == "sqlite" else 1)
                proc = subprocess.run(
                    [sys.executable, "-m", "proper_unittest", "--junitxml", self.tmp / "junit.xml"],
                    cwd=self.project, env=self.env(), capture_output=True, text=True, timeout=120,
                )
                self.assertEqual(proc.returncode, 0, proc.stderr)
                if killed == "the runner":  # its folder notes the database it created
                    made = f"{self.db_name}.sqlite3" if backend() == "sqlite" else self.db_name
                    self.assertIn("a test run that is gone (killed) left its temporary folder and the test "
                                  f"database(s) it had created, {made!r}", proc.stderr)
                elif backend() != "sqlite":  # its query still ran: that session is ended
                    self.assertIn(f"test database {self.db_name!r} was still used by a test run that is gone",
                                  proc.stderr)
                ET.parse(self.tmp / "junit.xml")
                self.assertEqual(self.hanging_sessions(), 0)
                self.assertFalse(self.database_left(), "a database was left")
                self.assertEqual(list(self.runner_tmp.iterdir()), [], "temporary files left")
                self.assertEqual(processes_in(self.project), [])
                self.assertEqual(live_processes_of_group(group), [])
