"""The runner's command line on a team's own project: project first, every bad input a usage
error, and a wheel install outside this repository."""
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

from tests.support.inner import REPO
from tests.support.runner_projects import (
    APP_PROJECT,
    ProjectTestCase,
    RunnerTestCase,
    SINGLE_MODULE_APP,
    skip_unless_sqlite,
    write_tree,
)


class UsageErrorTests(RunnerTestCase):
    """Exit status 2 with one clear line."""

    def test_unknown_label(self):
        proc = self.run_runner("no_such_thing_here")
        self.assertOneLineError(proc, "'no_such_thing_here'", "example apps")

    def test_missing_path(self):
        proc = self.run_runner(self.project / "tests" / "test_missing.py")
        self.assertOneLineError(proc, "no such file or directory", "test_missing.py")

    def test_unknown_dotted_name_in_an_existing_module(self):
        proc = self.run_runner("tests.test_alpha.NoSuchTests", cwd=self.project)
        self.assertOneLineError(proc, "NoSuchTests", "no attribute")

    def test_no_tests_found(self):
        empty = write_tree(self.tmp / "empty", {"tests/__init__.py": ""})
        proc = self.run_runner(empty)
        self.assertOneLineError(proc, "no tests found")

    def test_no_test_matches_k(self):
        proc = self.run_runner(self.project, "-k", "nothing_matches_this")
        self.assertOneLineError(proc, "no tests found", "nothing_matches_this")

    def test_configured_app_that_is_not_a_proper_app(self):
        write_tree(self.project, {
            "setup.cfg": "[proper_unittest]\napp = fakeapp.main:app\n",
            "fakeapp/__init__.py": "",
            "fakeapp/main.py": "app = object()\n",
        })
        proc = self.run_runner(self.project)
        self.assertOneLineError(proc, "fakeapp.main:app", "not a proper.App")
        self.assertEqual(self.logged(), [])

    def test_configured_app_that_cannot_be_imported(self):
        write_tree(self.project, {
            "pyproject.toml": '[tool.proper_unittest]\napp = "missingapp.main:app"\n',
        })
        proc = self.run_runner(self.project)
        self.assertOneLineError(proc, "Cannot import the app module", "missingapp.main")

    def test_configured_proper_app_runs(self):
        write_tree(self.project, {
            "setup.cfg": "[proper_unittest]\napp = fakeapp.main:app\n",
            "fakeapp/__init__.py": "",
            "fakeapp/main.py": """
                import proper

                app = proper.App(__name__, config={
                    "SECRET_KEYS": ["k" * 64],
                    "DATABASES": {"main": {"type": "peewee.SqliteDatabase", "database": ":memory:"}},
                })
            """,
        })
        proc = self.run_runner(self.project, "-k", "GammaTests")
        self.assertEqual(proc.returncode, 0, proc.stderr)


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

    def test_a_test_module_or_package_that_exits_while_imported(self):
        # sys.exit() at import would end the run (unittest's loader records
        # it as a failed import, and importing again to describe it exited).
        exits = "import sys\n\nsys.exit(4)\n"
        cases = [
            ("tests/test_exits.py", (), "cannot import 'tests.test_exits': SystemExit: 4"),
            ("tests/test_exits.py", ("tests.test_exits",), "cannot import 'tests.test_exits': SystemExit: 4"),
            ("tests/test_exits.py", ("tests.test_exits.SomeTests",), "cannot import 'tests.test_exits.SomeTests'"),
            ("tests/__init__.py", (), "cannot import 'tests': SystemExit: 4"),
        ]
        for path, labels, message in cases:
            with self.subTest(path=path, labels=labels):
                write_tree(self.app_project, {path: exits})
                try:
                    proc = self.run_in_project(*labels)
                finally:
                    (self.app_project / path).unlink()
                self.assertUsageError(
                    proc, message, f'{path}", line 3, in <module>', "It called sys.exit() while it was imported",
                    'under `if __name__ == "__main__":`',
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
        cls.tmp = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
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
