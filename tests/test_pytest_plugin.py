"""The example app's ProperTestCase classes under pytest beside Proper's generated conftest.

A copy of examples/myapp gets the ``tests/conftest.py`` Proper generates
(session ``db_setup`` that drops and creates the tables, autouse ``db_reset``
that wraps each test in a rolled-back transaction) and two generated-style
pytest test modules, one collected before the library's classes and one
after. pytest runs them all in one session, on TEST_DATABASE_URL's backend
(a database of this module's own on a server).
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

from playhouse.db_url import parse

from tests.support.inner import REPO

# As Proper generates it (its testing guide, section 2.2), for myapp.
GENERATED_CONFTEST = """
    import os

    import pytest
    from proper import TestClient

    from myapp.main import app
    from myapp.models import db
    from myapp.models.base import BaseModel


    @pytest.fixture()
    def client():
        return TestClient(app)


    @pytest.fixture(scope="session")
    def db_setup():
        # better to be safe than sorry
        assert os.getenv("APP_ENV") == "test"
        assert "test" in db.database or "memory" in db.database

        db.connect(reuse_if_open=True)
        models = BaseModel.__subclasses__()
        db.drop_tables(models)
        db.create_tables(models, safe=True)
        load_fixtures()
        yield
        db.drop_tables(models)
        db.close()
        if os.path.exists(db.database):
            os.remove(db.database)


    @pytest.fixture(autouse=True)
    def db_reset(db_setup):
        with db.atomic() as transaction:
            yield
            transaction.rollback()


    def load_fixtures():
        pass
"""

GENERATED_TESTS = """
    from myapp.models import User


    def test_home_page(client):
        assert client.get("/").status == 200


    def test_rows_are_rolled_back_first():
        assert User.select().count() == 0
        User.create(login="generated@example.com", password="password123")
        assert User.select().count() == 1


    def test_rows_are_rolled_back_second():
        assert User.select().count() == 0
        User.create(login="generated@example.com", password="password123")
"""

# The generated db_setup creates a table for every direct BaseModel
# subclass, the auth addon's Authenticable concern included; this test of
# the example suite checks that the library's schema has none.
SCHEMA_TEST = "tests/test_models.py::UserTests::test_authenticable_concern_has_no_table_of_its_own"


def own_database_url() -> str:
    """TEST_DATABASE_URL, with a database name of this module's own on a server."""
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite:///:memory:"
    if url.startswith("sqlite"):
        return url
    name = parse(url)["database"]
    return url.rsplit("/", 1)[0] + f"/{name}_genconftest"


class GeneratedConftestTests(unittest.TestCase):
    """pytest on a project that kept Proper's generated conftest.py."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        folder = Path(cls.enterClassContext(tempfile.TemporaryDirectory()))
        cls.project = folder / "myapp"
        shutil.copytree(REPO / "examples" / "myapp", cls.project,
                        ignore=shutil.ignore_patterns("__pycache__", ".proper_unittest", "*.sqlite3"))
        tests = cls.project / "tests"
        (tests / "conftest.py").write_text(textwrap.dedent(GENERATED_CONFTEST))
        # Collected before and after the library's classes.
        (tests / "test_0_generated.py").write_text(textwrap.dedent(GENERATED_TESTS))
        (tests / "test_zz_generated.py").write_text(textwrap.dedent(GENERATED_TESTS))

    def run_pytest(self, *args):
        env = dict(os.environ, TEST_DATABASE_URL=own_database_url())
        env.pop("PROPER_UNITTEST_WORKER", None)
        env.pop("PYTEST_XDIST_WORKER", None)
        return subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA",
             "--deselect", SCHEMA_TEST, *args, "tests"],
            cwd=self.project, env=env, capture_output=True, text=True, timeout=120,
        )

    def test_library_classes_and_generated_tests_pass_in_one_session(self):
        proc = self.run_pytest()
        self.assertEqual(proc.returncode, 0, proc.stdout[-4000:] + proc.stderr)
        summary = proc.stdout.strip().splitlines()[-1]
        self.assertNotRegex(summary, r"failed|error")
        passed = int(re.search(r"(\d+) passed", summary).group(1))
        self.assertGreater(passed, 100, summary)
        for module in ("test_0_generated", "test_zz_generated"):
            for test in ("test_home_page", "test_rows_are_rolled_back_first", "test_rows_are_rolled_back_second"):
                self.assertIn(f"PASSED tests/{module}.py::{test}", proc.stdout)
        self.assertIn("PASSED tests/test_photos.py::", proc.stdout)

    def test_without_the_plugin_the_generated_transaction_breaks_the_classes(self):
        # The control: the same session without proper_unittest's pytest plugin.
        if not own_database_url().startswith("sqlite"):
            self.skipTest("the control runs once, on SQLite")
        proc = self.run_pytest("-p", "no:proper_unittest", "-x")
        self.assertNotEqual(proc.returncode, 0)
        self.assertRegex(proc.stdout, r"(failed|error)")


class BareUnittestTests(unittest.TestCase):
    """A bare ``python -m unittest`` in the example app's folder builds the app
    before tests/__init__.py sets APP_ENV: the refusal gives the fix that applies."""

    def test_the_refusal_names_discovery_from_the_tests_folder(self):
        if not own_database_url().startswith("sqlite"):
            self.skipTest("backend-independent: runs once, on SQLite")
        env = dict(os.environ)
        env.pop("APP_ENV", None)
        # The dev app's own warnings (argon2's) are not what this is about.
        env.pop("PYTHONWARNINGS", None)
        folder = REPO / "examples" / "myapp"
        proc = subprocess.run([sys.executable, "-m", "unittest"], cwd=folder, env=env,
                              capture_output=True, text=True, timeout=120)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("the app was configured with APP_ENV='dev', before APP_ENV was set to 'test'", proc.stderr)
        self.assertIn("`python -m unittest discover -s tests -t .`", proc.stderr)
        self.assertNotIn("set it in tests/__init__.py", proc.stderr)
        self.assertEqual(list(folder.glob("*.sqlite3")), [], "the dev database was created")
