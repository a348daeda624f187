"""The runner on a team's own project: project first, and every bad input a usage error.

Each test writes a small project in a temporary directory (a single-module
Proper app, ``app.py`` beside ``tests/``, configured in setup.cfg) and runs
``python -m proper_unittest`` or ``proper-unittest`` in it as a subprocess.
"""

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

from tests.test_runner import HELPERS, REPO, RunnerTestCase, skip_unless_sqlite, write_tree

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
        import proper_unittest
        from proper_unittest import ProperTestCase
        from app import Item, db
        from tests.helpers import log


        class ItemTests(ProperTestCase):
            def test_create(self):
                log(f"ItemTests.test_create {db.database} {proper_unittest.__file__}")
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
        full_env = dict(os.environ, RUNNER_LOG=str(self.log_path), **(env or {}))
        full_env.pop("PROPER_UNITTEST_WORKER", None)
        full_env.pop("APP_DB", None)
        command = command or [sys.executable, "-m", "proper_unittest"]
        return subprocess.run(
            [*command, *map(str, args)], cwd=cwd or self.app_project, env=full_env,
            capture_output=True, text=True, timeout=120,
        )

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


class ProjectFirstTests(ProjectTestCase):
    """Without labels, the project of the current directory runs."""

    def test_python_dash_m_runs_the_current_project_with_its_tests_init_settings(self):
        proc = self.run_in_project()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertSummary(proc, "2 passed, 0 failed")
        # tests/__init__.py set APP_DB before the runner loaded the app.
        self.assertIn(f"ItemTests.test_create :memory: {REPO / 'proper_unittest'}", self.events()[0])

    def test_from_a_subfolder_the_nearest_project_runs(self):
        subfolder = self.app_project / "docs" / "deep"
        subfolder.mkdir(parents=True)
        proc = self.run_in_project("-v", cwd=subfolder)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("test_empty (tests.test_items.ItemTests.test_empty) ... ok", proc.stderr)

    def test_console_script_and_a_dotted_label(self):
        script = Path(sys.executable).with_name("proper-unittest")
        if not script.exists():
            self.skipTest("the proper-unittest script is not installed in this environment")
        proc = self.run_in_project("tests.test_items.ItemTests.test_empty", command=[str(script)])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(self.ran_tests(), ["ItemTests.test_empty"])

    def test_no_project_here(self):
        proc = self.run_in_project(cwd=self.tmp)
        self.assertUsageError(proc, "no project found")

    def test_tests_init_setting_app_env_is_refused_before_any_test(self):
        write_tree(self.app_project, {"tests/__init__.py": "import os\nos.environ['APP_ENV'] = 'production'\n"})
        proc = self.run_in_project()
        self.assertUsageError(proc, "Refusing to run tests", "APP_ENV")
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)

    def test_unsafe_database_is_refused_before_any_test(self):
        write_tree(self.app_project, {"tests/__init__.py": ""})
        proc = self.run_in_project()
        self.assertUsageError(proc, "Refusing to run tests on DATABASES['main'] = 'app_dev.sqlite3'")
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)
        self.assertFalse((self.app_project / "app_dev.sqlite3").exists())

    def test_unmarked_test_database_with_tables_is_refused_before_any_test(self):
        # A test-named file that holds someone's tables, with no marker of ours.
        existing = self.someones_database("shared_test.sqlite3")
        proc = self.run_in_project()
        self.assertUsageError(proc, "Refusing to use test database 'shared_test.sqlite3'", "(audit)",
                              "PROPER_UNITTEST_ADOPT=shared_test.sqlite3")
        self.assertUntouched(existing)


class BadInputTests(ProjectTestCase):
    """One clear message, exit status 2, nothing run, no frame from inside the library."""

    def test_unknown_label_beside_a_good_one(self):
        proc = self.run_in_project("tests.test_items", "tests.no_such_module")
        self.assertUsageError(proc, "'tests.no_such_module' is not a path or an importable test name")

    def test_unknown_label_beside_a_label_of_another_project(self):
        # Two projects run in two processes: both are checked before either runs.
        proc = self.run_runner(self.app_project, "no_such_label_anywhere")
        self.assertUsageError(proc, "no_such_label_anywhere")

    def test_syntax_error_in_a_test_file(self):
        write_tree(self.app_project, {"tests/test_broken.py": "import unittest\n\ndef oops(:\n    pass\n"})
        proc = self.run_in_project()
        self.assertUsageError(proc, "SyntaxError in", "test_broken.py, line 3", "def oops(:")

    def test_syntax_error_with_parallel_workers(self):
        # The workers start before the tests are loaded: they are dismissed,
        # and the error is said once, by this process.
        write_tree(self.app_project, {"tests/test_broken.py": "import unittest\n\ndef oops(:\n    pass\n"})
        proc = self.run_in_project("--parallel", "2")
        self.assertUsageError(proc, "SyntaxError in", "test_broken.py, line 3")
        self.assertNotIn("worker", proc.stderr)

    def test_unsafe_database_with_parallel_workers_touches_nothing(self):
        existing = self.someones_database("shared.sqlite3")
        proc = self.run_in_project("--parallel", "2")
        self.assertUsageError(proc, "'shared.sqlite3'")
        self.assertEqual(sorted(path.name for path in self.app_project.glob("shared*")), ["shared.sqlite3"])
        self.assertUntouched(existing)

    def test_a_server_backed_cache_is_refused_before_any_test(self):
        write_tree(self.app_project, {
            "app.py": textwrap.dedent(SINGLE_MODULE_APP).replace(
                '"DATABASES"', '"CACHE": {"type": "proper.cache.RedisCache", "url": "redis://127.0.0.1:6379/15"},\n'
                '    "DATABASES"'),
            "tests/test_opted_in.py": """
                from proper_unittest import ProperTestCase
                from tests.helpers import log

                class OptedIn(ProperTestCase):
                    allow_outside = ("cache",)

                    def test_it(self):
                        log("OptedIn.test_it")
            """,
        })
        proc = self.run_in_project()
        self.assertUsageError(
            proc, "Refusing to run tests with the cache proper.cache.redis_cache.RedisCache (CACHE)",
            'allow_outside = ("cache",)', "The test classes refused: tests.test_items.ItemTests.",
        )
        self.assertEqual(len(proc.stderr.strip().splitlines()), 1, proc.stderr)

    def test_label_whose_module_fails_to_import(self):
        write_tree(self.app_project, {
            "tests/test_needs.py": "import unittest\n\nimport no_such_dependency_xyz\n",
        })
        for label in ("tests.test_needs", "tests/test_needs.py"):
            with self.subTest(label=label):
                proc = self.run_in_project(label)
                self.assertUsageError(
                    proc, "cannot import 'tests.test_needs'",
                    "ModuleNotFoundError: No module named 'no_such_dependency_xyz'",
                    f'File "{self.app_project / "tests" / "test_needs.py"}", line 3',
                )

    def test_discovered_module_that_raises_on_import(self):
        write_tree(self.app_project, {
            "tests/test_raises.py": "import unittest\n\n\ndef helper():\n    return 1 / 0\n\n\nhelper()\n",
        })
        proc = self.run_in_project()
        self.assertUsageError(
            proc, "cannot import 'tests.test_raises'", "ZeroDivisionError: division by zero",
            "test_raises.py\", line 5, in helper",
        )

    def test_app_module_that_raises_while_configured(self):
        write_tree(self.app_project, {
            "app.py": textwrap.dedent(SINGLE_MODULE_APP) + "\nraise RuntimeError('SECRET_KEYS must be set')\n",
        })
        proc = self.run_in_project()
        self.assertUsageError(
            proc, "the app 'app:app'", "RuntimeError: SECRET_KEYS must be set",
            f'File "{self.app_project / "app.py"}", line',
        )

    def test_malformed_setup_cfg(self):
        write_tree(self.app_project, {"setup.cfg": "[proper_unittest]\napp = app:app\nnot an option line\n"})
        proc = self.run_in_project()
        self.assertUsageError(proc, "setup.cfg is malformed", "line 3")

    def test_setup_cfg_whose_first_line_is_a_broken_header(self):
        write_tree(self.app_project, {"setup.cfg": "[proper_unittest\napp = app:app\n"})
        proc = self.run_in_project()
        self.assertUsageError(proc, "setup.cfg is malformed", "line 1: '[proper_unittest' is not a [section] header")

    def test_malformed_pyproject_toml(self):
        (self.app_project / "setup.cfg").unlink()
        write_tree(self.app_project, {"pyproject.toml": "[tool.proper_unittest]\napp = app:app\n"})
        proc = self.run_in_project()
        self.assertUsageError(proc, "pyproject.toml is not valid TOML", "line 2")

    def test_malformed_pyproject_toml_beside_a_setup_cfg_holding_the_settings(self):
        # setup.cfg has [proper_unittest]; the broken pyproject.toml is still reported.
        write_tree(self.app_project, {"pyproject.toml": "[project]\nname = \n"})
        proc = self.run_in_project()
        self.assertUsageError(proc, "pyproject.toml is not valid TOML", "line 2")

    def test_discovery_hint_names_the_folders_it_skipped(self):
        os.remove(self.app_project / "tests" / "test_items.py")
        write_tree(self.app_project, {
            "tests/controllers/test_pages.py": "import unittest\n\nclass T(unittest.TestCase):\n"
                                               "    def test_x(self):\n        pass\n",
        })
        proc = self.run_in_project()
        self.assertUsageError(
            proc, "no tests found", "discovery skipped", "tests/controllers (no tests/controllers/__init__.py)"
        )

    def test_skipped_folders_are_warned_about_when_other_tests_run(self):
        write_tree(self.app_project, {"tests/models/test_item.py": "import unittest\n"})
        proc = self.run_in_project()
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("warning: discovery skipped folders holding test files: tests/models", proc.stderr)


class WheelInstallTests(unittest.TestCase):
    """proper_unittest installed from a wheel runs a project outside this repository."""

    @classmethod
    def setUpClass(cls):
        skip_unless_sqlite()
        tmp = tempfile.TemporaryDirectory()
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = Path(tmp.name)
        source = cls.tmp / "source"
        source.mkdir()
        for name in ("pyproject.toml", "README.md", "LICENSE"):
            shutil.copy(REPO / name, source)
        shutil.copytree(REPO / "proper_unittest", source / "proper_unittest",
                        ignore=shutil.ignore_patterns("__pycache__"))
        # Without PYTHONPATH (the runner puts this repository there), so pip
        # sees only the new environment's packages.
        cls.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PROPER_UNITTEST_WORKER")}
        run = lambda *command: subprocess.run(  # noqa: E731
            command, capture_output=True, text=True, timeout=300, check=True, env=cls.env
        )
        try:
            run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                "--no-index", "-w", str(cls.tmp / "dist"), str(source))
            venv = cls.tmp / "venv"
            run(sys.executable, "-m", "venv", "--without-pip", str(venv))
            cls.python = venv / "bin" / "python"
            wheel = next((cls.tmp / "dist").glob("proper_unittest-*.whl"))
            run(sys.executable, "-m", "pip", "--python", str(cls.python), "install", "--quiet",
                "--no-deps", "--no-index", "--ignore-installed", str(wheel))
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"{error.cmd} failed:\n{error.stderr}") from None
        # The dependencies (proper, peewee, ...) come from this environment's
        # site-packages, added as a plain path: its .pth files (the editable
        # install of this repository) are not processed.
        site = run(str(cls.python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").stdout.strip()
        import sysconfig
        Path(site, "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
        cls.site = Path(site)

    def test_console_script_runs_the_project_with_the_installed_library(self):
        project = write_tree(self.tmp / "project", APP_PROJECT)
        log = self.tmp / "events.log"
        env = self.env
        proc = subprocess.run(
            [str(self.python.with_name("proper-unittest")), "-v"], cwd=project,
            env=dict(env, RUNNER_LOG=str(log)), capture_output=True, text=True, timeout=120,
        )
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.strip().splitlines()[-1], "2 passed, 0 failed")
        created = [line for line in log.read_text().splitlines() if "test_create" in line]
        self.assertIn(f":memory: {self.site / 'proper_unittest' / '__init__.py'}", created[0])
        # The same with python -m, from the wheel's copy too.
        proc = subprocess.run(
            [str(self.python), "-m", "proper_unittest", "tests.test_items"], cwd=project,
            env=dict(env, RUNNER_LOG=str(log)), capture_output=True, text=True, timeout=120,
        )
        self.assertEqual(proc.returncode, 0, proc.stderr)


if __name__ == "__main__":
    unittest.main()
