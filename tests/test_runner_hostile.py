"""The runner against hostile tests and input: reports that always parse,
worker counts that fit the machine, -k as documented, a history that
forgets gone tests, and server databases that are never left behind or
reused stale (PostgreSQL for the server cases)."""

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

from proper_unittest._names import lock_name
from tests.apps.testdb import backend, database_config
from tests.servers import database_exists, drop_database, scratch_database, server_database, worker_suffix
from tests.test_runner import RunnerTestCase, write_tree

# A project whose app has one PostgreSQL database (its config in HOSTILE_DB)
# and one model; the tests are added per case.
SERVER_PROJECT = {
    "setup.cfg": "[proper_unittest]\napp = app:app\n",
    "app.py": """
        import json
        import os

        import peewee as pw
        from proper import App, ProperModel

        app = App(__name__, config={
            "SECRET_KEYS": ["k" * 64],
            "DATABASES": {"main": json.loads(os.environ["HOSTILE_DB"])},
        })


        class Item(ProperModel):
            name = pw.CharField()

            class Meta:
                database = app.db["main"]
    """,
    "tests/__init__.py": "",
}


class JUnitXMLAlwaysParsesTests(RunnerTestCase):
    """Characters XML cannot hold, and a huge message."""

    def test_bad_characters_are_escaped_and_a_long_message_is_cut_once(self):
        write_tree(self.project, {"tests/test_hostile.py": """
            import unittest

            class HostileTests(unittest.TestCase):
                def test_surrogate(self):
                    self.fail("lone \\udc80 and \\ufffe and \\uffff")

                def test_huge(self):
                    self.fail("x" * 2_000_000)

            setattr(HostileTests, "test_bell\\x07", lambda self: None)
        """})
        path = self.tmp / "junit.xml"
        proc = self.run_runner(self.project, "--junitxml", path, "-k", "Hostile")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        suite = ET.parse(path).getroot().find("testsuite")
        cases = {case.get("name"): case for case in suite.findall("testcase")}
        self.assertEqual(sorted(cases), ["test_bell\\x07", "test_huge", "test_surrogate"])
        message = cases["test_surrogate"].find("failure").get("message")
        self.assertEqual(message, "AssertionError: lone \\udc80 and \\ufffe and \\uffff")
        huge = cases["test_huge"].find("failure")
        self.assertLess(len(huge.get("message")), 2100)
        self.assertIn("more characters cut; the full text is below", huge.get("message"))
        self.assertIn("x" * 2_000_000, huge.text)
        self.assertLess(path.stat().st_size, 2_100_000, "the 2 MB message was written more than once")


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


class KeywordTests(RunnerTestCase):
    """-k is a substring unless it has a '*'."""

    def test_brackets_without_a_star_are_a_plain_substring(self):
        proc = self.run_runner(self.project, "-k", "test_[ab]")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("no tests found", proc.stderr)
        proc = self.run_runner(self.project, "-k", "*Alpha*test_[ab]")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(sorted(self.ran_tests()), ["AlphaTests.test_a", "AlphaTests.test_b"])


class FailedHistoryTests(RunnerTestCase):
    """failed.json forgets the tests that no longer exist."""

    def failed(self):
        return json.loads((self.project / ".proper_unittest" / "failed.json").read_text())

    def test_a_renamed_test_and_a_deleted_module_are_forgotten(self):
        beta = self.project / "tests" / "test_beta.py"
        write_tree(self.project, {"tests/test_gone.py": """
            import unittest

            class GoneTests(unittest.TestCase):
                def test_fails(self):
                    self.fail("gone soon")
        """})
        self.run_runner(self.project, "--no-rerun-failures")
        self.assertEqual(self.failed(), ["tests.test_beta.BetaTests.test_fails",
                                         "tests.test_gone.GoneTests.test_fails"])
        beta.write_text(beta.read_text().replace("def test_fails", "def test_renamed"))
        (self.project / "tests" / "test_gone.py").unlink()
        # A run of other tests: the renamed test's module is loaded (and -k
        # leaves it out), the deleted module is not there any more.
        proc = self.run_runner(self.project, "-k", "AlphaTests")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.failed(), [])

    def test_a_test_of_a_module_not_loaded_is_kept(self):
        self.run_runner(self.project, "--no-rerun-failures")
        proc = self.run_runner(self.project / "tests" / "test_alpha.py")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.failed(), ["tests.test_beta.BetaTests.test_fails"])


class ServerRunTestCase(unittest.TestCase):
    """Runs the runner on SERVER_PROJECT with its database on PostgreSQL."""

    @classmethod
    def setUpClass(cls):
        if backend() != "postgresql":
            raise unittest.SkipTest("about the database server: run with a PostgreSQL TEST_DATABASE_URL")

    def setUp(self):
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = Path(tmp.name)
        self.project = write_tree(self.tmp / "project", SERVER_PROJECT)
        self.runner_tmp = self.tmp / "runner-tmp"
        self.runner_tmp.mkdir()
        self.db_name = f"pu_hostile_{self._testMethodName[-20:]}{worker_suffix()}_test".lower()
        for name in self.all_names():
            drop_database(server_database(name))
            self.addCleanup(drop_database, server_database(name))

    def all_names(self):
        """Every database a run of the project may make."""
        suffixes = ["", "_w1", "_w2", "_rerun", "_bisect"]
        return [self.db_name + suffix for suffix in suffixes]

    def left_databases(self):
        return [name for name in self.all_names() if database_exists(name)]

    def add_tests(self, source):
        write_tree(self.project, {"tests/test_server.py": source})

    def env(self):
        config = database_config(self.db_name)
        database = {"type": "peewee.PostgresqlDatabase", **{k: v for k, v in config.items() if k != "type"}}
        env = dict(os.environ, HOSTILE_DB=json.dumps(database), TMPDIR=str(self.runner_tmp))
        env.pop("PROPER_UNITTEST_WORKER", None)
        return env

    def run_runner(self, *args, timeout=120):
        return subprocess.run(
            [sys.executable, "-m", "proper_unittest", *map(str, args)], cwd=self.project, env=self.env(),
            capture_output=True, text=True, timeout=timeout,
        )

    def assertNothingLeft(self, keep=()):
        self.assertEqual([n for n in self.left_databases() if n not in keep], [], "databases left")
        self.assertEqual(list(self.runner_tmp.iterdir()), [], "temporary files left")


ITEM_TESTS = """
    from proper_unittest import ProperTestCase
    from app import Item


    class ItemTests(ProperTestCase):
        def test_create(self):
            Item.create(name="x")
            self.assertEqual(Item.select().count(), 1)
"""


class SecondRunTests(ServerRunTestCase):
    """A database another live run holds: one message, exit 2, nothing touched."""

    def test_refused_before_any_test_with_exit_2(self):
        self.add_tests(ITEM_TESTS)
        held = scratch_database(self.db_name)
        with held:
            held.execute_sql("SELECT pg_advisory_lock(hashtext(%s))", (lock_name(self.db_name),))
            proc = self.run_runner("--junitxml", self.tmp / "junit.xml")
            self.assertEqual(proc.returncode, 2, proc.stderr)
            lines = proc.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, proc.stderr)
            self.assertIn("another test run (another process) is using it", lines[0])
            self.assertEqual(held.get_tables(), [], "the held database was touched")
        self.assertNothingLeft(keep=[self.db_name])


    def test_a_worker_refused_its_database_ends_a_parallel_run_with_exit_2(self):
        # Another run holds worker 1's database: not "worker died", but the
        # refusal, once, exit 2; worker 2 is stopped and drops what it made.
        self.add_tests(ITEM_TESTS + """

    class MoreItemTests(ProperTestCase):
        def test_create(self):
            Item.create(name="y")
            self.assertEqual(Item.select().count(), 1)
""")
        worker_1 = self.db_name + "_w1"
        held = scratch_database(worker_1)
        with held:
            held.execute_sql("SELECT pg_advisory_lock(hashtext(%s))", (lock_name(worker_1),))
            proc = self.run_runner("--parallel", "2", "--junitxml", self.tmp / "junit.xml")
            self.assertEqual(proc.returncode, 2, proc.stderr)
            lines = proc.stderr.strip().splitlines()
            self.assertEqual(len(lines), 1, proc.stderr)
            self.assertIn(f"Refusing to use test database {worker_1!r}: another test run (another process) "
                          "is using it", lines[0])
            self.assertEqual(proc.stdout, "")
            self.assertEqual(held.get_tables(), [], "the held database was touched")
        self.assertNothingLeft(keep=[worker_1])
        self.assertEqual(processes_in(self.project), [])


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


# Class A (3 tests) goes to worker 1, class B (2 tests) to worker 2. The
# test named by DIE_IN ("A" or "B", or "serial") ends its process the way
# DIE_HOW says, once per process: a new worker passes it.
DYING_TESTS = """
    import ctypes
    import os
    import unittest
    from tests.helpers import log


    def maybe_die(where):
        if os.environ.get("DIE_IN") != where or os.environ.get("PROPER_UNITTEST_WORKER") in ("3", "4", "rerun"):
            return
        how = os.environ["DIE_HOW"]
        if how == "exit0":
            os._exit(0)
        if how == "exit3":
            os._exit(3)
        if how == "segfault":
            ctypes.string_at(0)
        if how == "interrupt":
            raise KeyboardInterrupt


    class ATests(unittest.TestCase):
        def test_1(self):
            log("ATests.test_1")

        def test_2_dies(self):
            log("ATests.test_2_dies")
            maybe_die("A")

        def test_3(self):
            log("ATests.test_3")


    class BTests(unittest.TestCase):
        def test_1_dies(self):
            log("BTests.test_1_dies")
            maybe_die("B")

        def test_2(self):
            log("BTests.test_2")
"""


class DeadWorkerTests(RunnerTestCase):
    """A test that ends its worker process: the run reports it and never passes."""

    def setUp(self):
        super().setUp()
        (self.project / "tests" / "test_alpha.py").unlink()
        (self.project / "tests" / "test_beta.py").unlink()
        write_tree(self.project, {"tests/test_dying.py": DYING_TESTS})
        self.runner_tmp = self.tmp / "runner-tmp"
        self.runner_tmp.mkdir()

    def run_dying(self, where, how, *args):
        path = self.tmp / "junit.xml"
        proc = self.run_runner(self.project, "--junitxml", path, "--no-rerun-failures", *args,
                               env={"DIE_IN": where, "DIE_HOW": how, "TMPDIR": str(self.runner_tmp)})
        self.assertEqual(list(self.runner_tmp.iterdir()), [], "temporary files left")
        return proc, ET.parse(path).getroot().find("testsuite")

    def test_a_dead_worker_test_is_an_error_and_its_other_tests_run_in_a_new_worker(self):
        for where, dying, how in [("A", "ATests.test_2_dies", "exit0"), ("B", "BTests.test_1_dies", "segfault"),
                                  ("A", "ATests.test_2_dies", "interrupt"), ("B", "BTests.test_1_dies", "exit3")]:
            with self.subTest(where=where, how=how):
                self.log_path.unlink(missing_ok=True)
                proc, suite = self.run_dying(where, how, "--parallel", "2")
                self.assertEqual(proc.returncode, 1, proc.stderr)
                self.assertSummary(proc, "4 passed, 1 failed")
                self.assertIn(f"while running tests.test_dying.{dying}", proc.stderr)
                self.assertCountEqual(self.ran_tests(), [
                    "ATests.test_1", "ATests.test_2_dies", "ATests.test_3", "BTests.test_1_dies", "BTests.test_2"])
                self.assertEqual((suite.get("tests"), suite.get("errors")), ("5", "1"))
                (error,) = suite.iter("error")
                self.assertIn("WorkerDied: worker ", error.get("message"))
                failed = json.loads((self.project / ".proper_unittest" / "failed.json").read_text())
                self.assertEqual(failed, [f"tests.test_dying.{dying}"])

    def test_tests_left_after_every_new_worker_died_are_not_run(self):
        write_tree(self.project, {"tests/test_dying.py": """
            import os
            import unittest

            class KillerTests(unittest.TestCase):
                def test_1(self): os._exit(0)
                def test_2(self): os._exit(0)
                def test_3(self): os._exit(0)
                def test_4(self): pass
                def test_5(self): pass

            class OtherTests(unittest.TestCase):
                def test_1(self): pass
        """})
        proc, suite = self.run_dying("-", "-", "--parallel", "2")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertSummary(proc, "1 passed, 3 failed, 2 not run")
        messages = [error.get("message") for error in suite.iter("error")]
        self.assertEqual(len(messages), 5)
        self.assertEqual(sum("NotRun" in message for message in messages), 2)

    def test_a_serial_run_whose_process_exits_0_in_a_test_fails(self):
        proc, suite = self.run_dying("A", "exit0")
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertSummary(proc, "1 passed, 1 failed")
        self.assertIn("exited with status 0 while running tests.test_dying.ATests.test_2_dies", proc.stderr)
        (error,) = suite.iter("error")
        self.assertIn("TestProcessDied", error.get("message"))


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
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = Path(tmp.name)
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


def processes_in(folder):
    """The live processes (not zombies) whose working directory is *folder*."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                if Path(os.readlink(entry / "cwd")) == Path(folder) and not _is_zombie(entry):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def live_processes_of_group(group):
    """The live processes (not zombies) of process group *group*."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[2]) == group:
                found.append(int(entry.name))
    return found


def _is_zombie(entry):
    try:
        return (entry / "stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True
