"""Running test cases from inside a test, to check what a user would see:
in this process (run_inner), or as an inner suite in a fresh interpreter
(run_suite)."""
import contextlib
import io
import os
import subprocess
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

from proper_unittest import ProperTestCase

REPO = Path(__file__).resolve().parents[2]


class NotesCase(ProperTestCase):
    """Base of the inner test cases about the notes fixture app."""

    app = "tests.support.apps.notes.main:app"


def run_inner(*test_classes, verbosity: int = 0) -> tuple[unittest.TestResult, str]:
    """Run `test_classes` (defined inside a test, so discovery never sees
    them) in their declared method order; return the result and the output."""
    loader = unittest.TestLoader()
    loader.sortTestMethodsUsing = None
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(cls) for cls in test_classes)
    stream = io.StringIO()
    result = unittest.TextTestRunner(stream=stream, verbosity=verbosity).run(suite)
    return result, stream.getvalue()


def write_tree(root, files):
    """Write *files* (``{relative path: source}``) under *root*; return *root*."""
    for relative, source in files.items():
        path = Path(root, relative)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return Path(root)


def run_suite(files: str | dict[str, str] | None, *args, folder=None, env: dict | None = None,
              drop: tuple[str, ...] = (), program: str = sys.executable, repo_on_path: bool = True,
              timeout: float = 120) -> subprocess.CompletedProcess:
    """Run an inner suite in a fresh interpreter, as a user would.

    Writes `files` (``{relative path: source}``; a string is the test module
    ``test_inner_case.py``) into `folder` (by default a new temporary folder,
    removed afterwards) and runs ``program *args`` there (by default
    ``python -m unittest test_inner_case -v``). The child inherits this
    process's environment but PROPER_UNITTEST_WORKER and the names in `drop`,
    plus `env`; with `repo_on_path` it imports this repository (the fixture
    apps) through PYTHONPATH. Returns the CompletedProcess (text output)."""
    if isinstance(files, str):
        files = {"test_inner_case.py": files}
    if not args:
        args = ("-m", "unittest", "test_inner_case", "-v")
    child_env = dict(os.environ, PYTHONPATH=str(REPO)) if repo_on_path else dict(os.environ)
    for name in ("PROPER_UNITTEST_WORKER", *drop):
        child_env.pop(name, None)
    child_env.update(env or {})
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory())
        write_tree(folder, files or {})
        return subprocess.run([program, *map(str, args)], cwd=folder, env=child_env,
                              capture_output=True, text=True, timeout=timeout)
