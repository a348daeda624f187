"""How a test case finds its app."""
import contextlib
import importlib.util
import tempfile
import unittest
from pathlib import Path

from parameterized import parameterized

from proper_unittest import ConfigurationError
from proper_unittest.discovery import app_for, find_project_app_spec
from tests.support.apps.notes.main import app as notes_app

NOTES = "tests.support.apps.notes.main:app"


def class_in(folder: Path, source: str = "class Case:\n    pass\n"):
    """A class whose module file lives in `folder`."""
    path = folder / "case_module.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(f"case_module_{id(folder)}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Case


class ProjectConfigTests(unittest.TestCase):
    def setUp(self):
        self.folder = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.enterContext(contextlib.chdir(self.folder))

    @parameterized.expand([
        ("setup.cfg", f"[proper_unittest]\napp = {NOTES}\n"),
        ("pyproject.toml", f'[tool.proper_unittest]\napp = "{NOTES}"\n'),
    ])
    def test_app_from_project_file(self, filename, text):
        (self.folder / filename).write_text(text)
        nested = self.folder / "tests" / "deep"
        nested.mkdir(parents=True)
        self.assertEqual(find_project_app_spec(nested), (NOTES, self.folder / filename))
        self.assertIs(app_for(class_in(nested)), notes_app)

    def test_setup_cfg_without_the_section_is_skipped(self):
        (self.folder / "setup.cfg").write_text("[flake8]\nmax-line-length = 100\n")
        self.assertIsNone(find_project_app_spec(self.folder))

    def test_no_config_says_how_to_configure(self):
        with self.assertRaises(ConfigurationError) as caught:
            app_for(class_in(self.folder))
        message = str(caught.exception)
        self.assertIn("Case has no app to test", message)
        self.assertIn("[proper_unittest]", message)
        self.assertIn('app = "myapp.main:app"', message)


class ClassAttributeTests(unittest.TestCase):
    def test_app_object(self):
        self.assertIs(app_for(type("Case", (), {"app": notes_app})), notes_app)

    def test_module_string(self):
        self.assertIs(app_for(type("Case", (), {"app": NOTES})), notes_app)

    def test_attr_defaults_to_app(self):
        self.assertIs(app_for(type("Case", (), {"app": "tests.support.apps.notes.main"})), notes_app)

    @parameterized.expand([
        ("unknown module", "tests.support.apps.nowhere.main:app", "Cannot import the app module 'tests.support.apps.nowhere.main'"),
        ("not an App", "tests.support.apps.notes.main:Note", "is ModelBase, not a proper.App"),
        ("missing attr", "tests.support.apps.notes.main:nothing", "is NoneType, not a proper.App"),
    ])
    def test_bad_specs_say_what_is_wrong(self, _, spec, expected):
        with self.assertRaises(ConfigurationError) as caught:
            app_for(type("Case", (), {"app": spec}))
        self.assertIn(expected, str(caught.exception))

