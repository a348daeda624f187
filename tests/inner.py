"""Running test cases from inside a test, to check what a user would see."""
import io
import unittest

from proper_unittest import ProperTestCase


class NotesCase(ProperTestCase):
    """Base of the inner test cases about the notes fixture app."""

    app = "tests.apps.notes.main:app"


def run_inner(*test_classes, verbosity: int = 0) -> tuple[unittest.TestResult, str]:
    """Run `test_classes` (defined inside a test, so discovery never sees
    them) in their declared method order; return the result and the output."""
    loader = unittest.TestLoader()
    loader.sortTestMethodsUsing = None
    suite = unittest.TestSuite(loader.loadTestsFromTestCase(cls) for cls in test_classes)
    stream = io.StringIO()
    result = unittest.TextTestRunner(stream=stream, verbosity=verbosity).run(suite)
    return result, stream.getvalue()


REPO = __import__("pathlib").Path(__file__).resolve().parent.parent


def run_in_subprocess(test_source: str, env: dict | None = None, timeout: float = 60,
                      setup_cfg: str | None = None):
    """Write `test_source` as a test module in a temporary folder and run it
    with ``python -m unittest`` in a fresh interpreter (a fresh app, config
    read from `env`; a project config `setup_cfg` beside it). Returns the CompletedProcess (text output)."""
    import os
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "test_inner_case.py").write_text(test_source)
        if setup_cfg is not None:
            Path(folder, "setup.cfg").write_text(setup_cfg)
        child_env = {**os.environ, "PYTHONPATH": str(REPO)}
        child_env.pop("PROPER_UNITTEST_WORKER", None)  # only `env` may set it
        child_env.update(env or {})
        return subprocess.run(
            [sys.executable, "-m", "unittest", "test_inner_case", "-v"],
            cwd=folder, env=child_env, capture_output=True, text=True, timeout=timeout,
        )
