"""The wheel and sdist: complete, typed, with license, extras and the
dependencies the library really imports; the sdist's own tests run."""
import importlib.util
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile
from email.parser import Parser
from pathlib import Path

from tests.support.inner import REPO


SDIST_FOLDERS = ("tests", "examples", "scripts")
SDIST_FILES = ("runtests.py", "Makefile", "setup.cfg", "LICENSE", "README.md", "pyproject.toml")


def _source_files(folder: Path) -> set[str]:
    """Files under `folder` that belong in a distribution (no caches)."""
    return {
        str(path.relative_to(REPO)) for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
        and "node_modules" not in path.parts and "tmp" not in path.parts  # npm ci, screenshots
        and path.suffix not in (".pyc", ".sqlite3") and not path.name.startswith(".")
        # tests/test_typing.py's temporary module (gitignored), there while it runs in another worker
        and not path.name.startswith("_typing_mistakes_")
    }


@unittest.skipUnless(importlib.util.find_spec("build"), "needs `build`: pip install -e .[dev]")
class PackagingTests(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.out = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        # --no-isolation: the dev extra has setuptools, so no download.
        subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(cls.out), str(REPO)],
            check=True, capture_output=True, text=True, timeout=300,
        )
        cls.wheel = zipfile.ZipFile(next(cls.out.glob("*.whl")))
        cls.addClassCleanup(cls.wheel.close)
        cls.sdist_path = next(cls.out.glob("*.tar.gz"))
        with tarfile.open(cls.sdist_path) as sdist:
            top = sdist.getnames()[0].split("/")[0]
            cls.sdist_names = {name.removeprefix(top + "/") for name in sdist.getnames()}
        metadata = cls.wheel.read(next(n for n in cls.wheel.namelist() if n.endswith("/METADATA")))
        cls.metadata = Parser().parsestr(metadata.decode())

    def test_wheel_has_every_module_and_py_typed(self):
        package = REPO / "proper_unittest"
        modules = {str(path.relative_to(REPO)) for path in package.rglob("*.py") if "__pycache__" not in path.parts}
        names = set(self.wheel.namelist())
        self.assertLessEqual(modules, names)
        self.assertIn("proper_unittest/py.typed", names)
        self.assertFalse([name for name in names if name.startswith(("tests/", "examples/"))])

    def test_wheel_has_no_code_for_this_repository_only(self):
        # runtests.py keeps it: the suites of tests/ and examples/, their labels.
        for name in self.wheel.namelist():
            if name.endswith(".py"):
                source = self.wheel.read(name).decode()
                for marker in ("REPO_ROOT", "EXAMPLES_DIR", '"examples"', '"--repo"'):
                    self.assertNotIn(marker, source, name)

    def test_metadata_license_urls_and_extras(self):
        self.assertEqual(self.metadata["License-Expression"], "MIT")
        self.assertEqual(self.metadata["License-File"], "LICENSE")
        self.assertTrue(self.metadata.get_all("Project-URL"))
        extras = set(self.metadata.get_all("Provides-Extra"))
        self.assertLessEqual({"postgres", "postgres3", "mysql", "dev"}, extras)
        requires = self.metadata.get_all("Requires-Dist")
        self.assertIn('psycopg2-binary>=2.9; extra == "postgres"', requires)
        self.assertIn('psycopg[binary]>=3.1; extra == "postgres3"', requires)
        self.assertIn('pymysql>=1.1; extra == "mysql"', requires)
        self.assertIn("system", extras)
        self.assertIn('playwright>=1.49; extra == "system"', requires)
        self.assertIn('websockets>=12; extra == "system"', requires)

    def test_required_dependencies_are_imported_by_the_library(self):
        required = [r.split(">")[0].split("<")[0].split("=")[0].strip()
                    for r in self.metadata.get_all("Requires-Dist") if "extra ==" not in r]
        self.assertEqual(sorted(required), ["huey", "peewee", "proper", "selectolax", "time-machine"])
        # Playwright (the `system` extra) is imported by system/ only.
        importers = sorted(path.relative_to(REPO).as_posix() for path in (REPO / "proper_unittest").rglob("*.py")
                           if re.search(r"(?m)^\s*(import|from) playwright\b", path.read_text()))
        self.assertEqual(importers, ["proper_unittest/system/__init__.py", "proper_unittest/system/browser.py"])
        source = "\n".join(path.read_text() for path in (REPO / "proper_unittest").rglob("*.py"))

        def imported(name):
            module = name.replace("-", "_")  # the distribution time-machine is the module time_machine
            return re.search(rf"(?m)^\s*(import|from) {module}\b", source) is not None

        self.assertEqual([name for name in required if not imported(name)], [], "required, never imported")
        self.assertEqual([name for name in ("parameterized", "multidict") if imported(name)], [],
                         "imported by the library but only a dev dependency")

    def test_sdist_has_what_its_tests_need(self):
        expected = set(SDIST_FILES)
        for folder in SDIST_FOLDERS:
            expected |= _source_files(REPO / folder)
        self.assertEqual(sorted(expected - self.sdist_names), [])

    def test_the_sdist_tests_run_from_the_unpacked_sdist(self):
        folder = Path(self.enterContext(tempfile.TemporaryDirectory()))
        with tarfile.open(self.sdist_path) as sdist:
            sdist.extractall(folder, filter="data")
        root = next(folder.iterdir())
        env = {**os.environ, "TEST_DATABASE_URL": "sqlite:///:memory:"}
        env.pop("PROPER_UNITTEST_WORKER", None)
        process = subprocess.run(
            [sys.executable, "runtests.py", "tests/isolation/test_overrides.py", "-v"],
            cwd=root, env=env, capture_output=True, text=True, timeout=120,
        )
        self.assertEqual(process.returncode, 0, process.stdout + process.stderr)
        self.assertIn("18 passed, 0 failed", process.stdout + process.stderr)
        # The tests ran against the sdist's copy of the library.
        imported = subprocess.run(
            [sys.executable, "-c", "import sys; sys.path.insert(0, '.'); import proper_unittest as p; print(p.__file__)"],
            cwd=root, capture_output=True, text=True, timeout=60,
        ).stdout
        self.assertTrue(imported.strip().startswith(str(root)), imported)


if __name__ == "__main__":
    unittest.main()
