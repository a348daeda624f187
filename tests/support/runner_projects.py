"""Small projects the runner's tests (and a few others) write and run the runner on."""
import json
import os
import re
import shlex
import sqlite3
import sys
import tempfile
import unittest
from pathlib import Path

from tests.support.apps.testdb import backend, database_config
from tests.support.inner import REPO, run_suite, write_tree
from tests.support.servers import database_exists, drop_database, server_database, worker_suffix


RUNTESTS = REPO / "runtests.py"

HELPERS = """
    import os

    def log(event):
        worker = os.environ.get("PROPER_UNITTEST_WORKER", "-")
        with open(os.environ["RUNNER_LOG"], "a") as file:
            file.write(f"{event}|{worker}|{os.environ.get('APP_ENV')}\\n")
"""

# 6 passing tests, 1 failing, 1 skipped, in 3 classes of 2 modules.
SAMPLE_TESTS = {
    "tests/__init__.py": "",
    "tests/helpers.py": HELPERS,
    "tests/test_alpha.py": """
        import time
        import unittest
        from tests.helpers import log

        class AlphaTests(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                log("setUpClass AlphaTests")

            def test_a(self):
                log("AlphaTests.test_a")

            def test_b(self):
                log("AlphaTests.test_b")

            def test_c(self):
                log("AlphaTests.test_c")

            @unittest.skip("not today")
            def test_skipped(self):
                log("AlphaTests.test_skipped")

        class GammaTests(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                log("setUpClass GammaTests")

            def test_a(self):
                log("GammaTests.test_a")

            def test_b(self):
                time.sleep(0.02)
                log("GammaTests.test_b")
    """,
    "tests/test_beta.py": """
        import unittest
        from tests.helpers import log

        class BetaTests(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                log("setUpClass BetaTests")

            def test_fails(self):
                log("BetaTests.test_fails")
                self.fail("boom")

            def test_passes(self):
                log("BetaTests.test_passes")
    """,
}

DEFAULT_ORDER = [
    "AlphaTests.test_a", "AlphaTests.test_b", "AlphaTests.test_c",
    "GammaTests.test_a", "GammaTests.test_b",
    "BetaTests.test_fails", "BetaTests.test_passes",
]


def many_classes_project(root):
    """Write a project with 4 modules x 3 classes x 4 tests, each logging its id."""
    files = {"tests/__init__.py": "", "tests/helpers.py": HELPERS}
    for module in "mnop":
        source = ["import unittest", "from tests.helpers import log", ""]
        for cls in "XYZ":
            name = f"{cls}{module.upper()}Tests"
            source += [
                f"class {name}(unittest.TestCase):",
                "    @classmethod",
                f"    def setUpClass(cls): log('setUpClass {name}')",
            ]
            source += [f"    def test_{n}(self): log('{name}.test_{n}')" for n in range(4)]
            source.append("")
        files[f"tests/test_{module}.py"] = "\n".join(source)
    return write_tree(root, files)


#: Why the runner's subprocess tests run on SQLite only.
BACKEND_INDEPENDENT = (
    "the runner's behaviour here does not depend on the database backend: these "
    "subprocess tests run once per matrix, with TEST_DATABASE_URL on SQLite"
)


def skip_unless_sqlite():
    """Skip the calling class unless TEST_DATABASE_URL is SQLite (see BACKEND_INDEPENDENT)."""
    if backend() != "sqlite":
        raise unittest.SkipTest(BACKEND_INDEPENDENT)


class RunnerTestCase(unittest.TestCase):
    """Creates a sample project in a temporary directory and runs the runner on it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        skip_unless_sqlite()

    def setUp(self):
        self.tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.log_path = self.tmp / "events.log"
        self.project = write_tree(self.tmp / "project", SAMPLE_TESTS)

    def run_runner(self, *args, cwd=REPO, env=None, module=False):
        """Run the runner with *args*; return the CompletedProcess."""
        entry = ["-m", "proper_unittest"] if module else [str(RUNTESTS)]
        return run_suite(None, *entry, *args, folder=cwd, env=dict(RUNNER_LOG=str(self.log_path), **(env or {})),
                         repo_on_path=False, timeout=60)

    def events(self):
        """Return the logged events (without worker and APP_ENV)."""
        return [line.split("|")[0] for line in self.logged()]

    def ran_tests(self):
        """Return the logged test events (no setUpClass events)."""
        return [event for event in self.events() if not event.startswith("setUpClass")]

    def logged(self, reruns=False):
        """Return the raw log lines; those of the reruns of failed tests (worker "rerun") only
        with *reruns* (they are tested in tests/runner/test_rerun.py)."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(encoding="utf-8").splitlines()
        return lines if reruns else [line for line in lines if line.split("|")[1:2] != ["rerun"]]

    def assertSummary(self, proc, expected):
        """Assert the last stdout line is the summary line *expected*."""
        lines = proc.stdout.strip().splitlines()
        self.assertTrue(lines, f"no stdout; stderr:\n{proc.stderr}")
        self.assertEqual(lines[-1], expected, proc.stderr)

    def assertOneLineError(self, proc, *fragments):
        """Assert exit status 2 with a single stderr line holding every fragment."""
        self.assertEqual(proc.returncode, 2, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        for fragment in fragments:
            self.assertIn(fragment, lines[0])
        self.assertEqual(proc.stdout, "")


# A Proper app in one module; its database name comes from APP_DB, which
# the project's tests/__init__.py sets (the default is not a test database).
SINGLE_MODULE_APP = """
    import os

    import peewee as pw
    from proper import App, ProperModel

    app = App(__name__, config={
        "SECRET_KEYS": ["k" * 64],
        "DATABASES": {"main": {
            "type": "peewee.SqliteDatabase",
            "database": os.environ.get("APP_DB", "app_dev.sqlite3"),
        }},
    })
    db = app.db["main"]


    class Item(ProperModel):
        name = pw.CharField()

        class Meta:
            database = db
"""

APP_PROJECT = {
    "setup.cfg": "[proper_unittest]\napp = app:app\n",
    "app.py": SINGLE_MODULE_APP,
    "tests/__init__.py": """
        import os

        os.environ["APP_DB"] = ":memory:"
    """,
    "tests/helpers.py": HELPERS,
    "tests/test_items.py": """
        import os

        import proper_unittest
        from proper_unittest import ProperTestCase
        from app import Item, db
        from tests.helpers import log


        class ItemTests(ProperTestCase):
            def test_create(self):
                log(f"ItemTests.test_create {db.database} {os.path.realpath(proper_unittest.__file__)}")
                Item.create(name="a")
                self.assertEqual(Item.select().count(), 1)

            def test_empty(self):
                log("ItemTests.test_empty")
                self.assertEqual(Item.select().count(), 0)
    """,
}


class ProjectTestCase(RunnerTestCase):
    """A single-module app project in ``self.app_project``."""

    def setUp(self):
        super().setUp()
        self.app_project = write_tree(self.tmp / "app_project", APP_PROJECT)

    def run_in_project(self, *args, cwd=None, command=None, env=None):
        """Run ``python -m proper_unittest`` (or *command*) with *args* in the project."""
        program, *entry = command or [sys.executable, "-m", "proper_unittest"]
        return run_suite(None, *entry, *args, folder=cwd or self.app_project, program=program,
                         env=dict(RUNNER_LOG=str(self.log_path), **(env or {})), drop=("APP_DB",), repo_on_path=False)

    def someones_database(self, name):
        """A SQLite file `name` in the project holding someone's `audit`
        table with one row, made the app's database; returns its path."""
        path = self.app_project / name
        connection = sqlite3.connect(path)
        connection.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, note TEXT)")
        connection.execute("INSERT INTO audit (note) VALUES ('keep me')")
        connection.commit()
        connection.close()
        write_tree(self.app_project, {"tests/__init__.py": f"import os\nos.environ['APP_DB'] = {str(path)!r}\n"})
        return path

    def assertUntouched(self, path):
        """The file of :meth:`someones_database` holds its table and row, nothing else."""
        connection = sqlite3.connect(path)
        self.addCleanup(connection.close)
        self.assertEqual(connection.execute("SELECT note FROM audit").fetchall(), [("keep me",)])
        self.assertEqual([row[0] for row in connection.execute("SELECT name FROM sqlite_master")], ["audit"])

    def assertUsageError(self, proc, *fragments):
        """Assert exit status 2, nothing run, every fragment in stderr, no library frame."""
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertEqual(self.logged(), [], "tests ran")
        self.assertEqual(proc.stdout, "")
        for fragment in fragments:
            self.assertIn(fragment, proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        self.assertNotRegex(proc.stderr, r"proper_unittest/|unittest/loader|importlib")
        self.assertEqual(len(re.findall(r": error: ", proc.stderr)), 1, proc.stderr)


# A project whose app has one PostgreSQL database (its config in HOSTILE_DB)
# and one model; the tests are added per case.
def item_project(database_variable: str, more_config: str = "") -> dict[str, str]:
    """A project whose app has one database (its config, JSON, in the
    environment variable `database_variable`) and one model, Item;
    `more_config` adds lines to the app's config."""
    return {
        "setup.cfg": "[proper_unittest]\napp = app:app\n",
        "app.py": (
            "import json\nimport os\n\nimport peewee as pw\nfrom proper import App, ProperModel\n\n"
            f'app = App(__name__, config={{\n    "SECRET_KEYS": ["k" * 64],\n'
            f'    "DATABASES": {{"main": json.loads(os.environ["{database_variable}"])}},\n{more_config}}})\n\n\n'
            'class Item(ProperModel):\n    name = pw.CharField()\n\n    class Meta:\n        database = app.db["main"]\n'
        ),
        "tests/__init__.py": "",
    }


SERVER_PROJECT = item_project("HOSTILE_DB")


class ServerRunTestCase(unittest.TestCase):
    """Runs the runner on SERVER_PROJECT with its database on PostgreSQL."""

    @classmethod
    def setUpClass(cls):
        if backend() != "postgresql":
            raise unittest.SkipTest("about the database server: run with a PostgreSQL TEST_DATABASE_URL")

    def setUp(self):
        self.tmp = Path(self.enterContext(tempfile.TemporaryDirectory()))
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
        return run_suite(None, "-m", "proper_unittest", *args, folder=self.project, env=self.env(),
                         repo_on_path=False, timeout=timeout)

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


# 3 modules; ``test_alpha.PoisonTests.test_poison`` sets a global that
# ``test_zulu.VictimTests.test_victim`` trips on (13 tests run before it);
# ``test_mid.FileTests.test_write_marker`` writes a file that
# ``test_zulu.VictimTests.test_file_victim`` trips on; ``test_genuine`` always fails.
ORDER_PROJECT = {
    "tests/__init__.py": """
        import os
        from pathlib import Path

        MARKER = Path(os.environ["RUNNER_LOG"]).with_name("marker.txt")
        MARKER.unlink(missing_ok=True)  # each run starts clean
    """,
    "tests/helpers.py": HELPERS,
    "tests/state.py": "POISONED = []\n",
    "tests/test_alpha.py": """
        import unittest
        from tests import state

        class AlphaTests(unittest.TestCase):
            def test_a(self): pass
            def test_b(self): pass
            def test_c(self): pass

        class PoisonTests(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                cls.ready = True

            def test_before(self): self.assertTrue(self.ready)
            def test_poison(self): state.POISONED.append("leak")
            def test_after(self): self.assertTrue(self.ready)
    """,
    "tests/test_mid.py": """
        import unittest
        from tests import MARKER

        class MidTests(unittest.TestCase):
            def test_a(self): pass
            def test_b(self): pass
            def test_c(self): pass

        class FileTests(unittest.TestCase):
            def test_read(self): pass
            def test_write_marker(self): MARKER.write_text("left behind")
            def test_z(self): pass
    """,
    "tests/test_zulu.py": """
        import unittest
        from tests import MARKER, state
        from tests.helpers import log

        class VictimTests(unittest.TestCase):
            def setUp(self):
                log(self._testMethodName.removeprefix("test_"))

            def test_file_victim(self):
                self.assertFalse(MARKER.exists(), "an earlier test left the marker file")

            def test_genuine(self):
                self.fail("fails in any order")

            def test_victim(self):
                self.assertEqual(state.POISONED, [], "an earlier test poisoned the state")
    """,
}

VICTIM = "tests.test_zulu.VictimTests.test_victim"
FILE_VICTIM = "tests.test_zulu.VictimTests.test_file_victim"
GENUINE = "tests.test_zulu.VictimTests.test_genuine"
POISON = "tests.test_alpha.PoisonTests.test_poison"


class OrderProjectTestCase(RunnerTestCase):
    """The order-dependent project in ``self.order``; runs from inside it."""

    def setUp(self):
        super().setUp()
        self.order = write_tree(self.tmp / "order", ORDER_PROJECT)

    def run_here(self, *args, env=None):
        """Run ``python -m proper_unittest *args`` in the project."""
        return self.run_runner(*args, cwd=self.order, module=True, env=env)

    def listed(self, *args):
        proc = self.run_here("--list", *args)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout.split()

    def assertCulprit(self, proc, victim, culprit):
        """Assert --bisect named *culprit* and that its reproducer reruns the failure."""
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.strip().splitlines()
        self.assertEqual(lines[0], f"{victim} fails after {culprit}", proc.stderr)
        self.assertEqual(lines[-1].strip(), f"python -m proper_unittest {culprit} {victim}")
        command = shlex.split(lines[-1])
        self.assertEqual(command[:3], ["python", "-m", "proper_unittest"])
        rerun = self.run_here(*command[3:])
        self.assertEqual(rerun.returncode, 1, rerun.stderr)
        self.assertIn(f"FAIL: {victim.rsplit('.', 1)[1]}", rerun.stderr)
        self.assertIn("1 passed, 1 failed", rerun.stdout.splitlines())
