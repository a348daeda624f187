#!/usr/bin/env python
"""Run this repository's test suites and example apps: ``python runtests.py --help``.

The runner is ``python -m proper_unittest``'s; what serves only this
repository is here (as Django keeps its own in its ``tests/runtests.py``):
without labels, every suite runs, ``tests/`` and each ``examples/<app>``,
one process each; an example app is named by its name (``runtests.py
myapp``, ``myapp:tests.test_x``).
"""

import argparse
import os
import re
import sys
from pathlib import Path

# Before anything from the project is imported (the runner sets it too).
os.environ["APP_ENV"] = "test"
REPO_ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO_ROOT))

from proper_unittest.runner import main  # noqa: E402
from proper_unittest.runner.labels import TESTS_DIRNAME, Command  # noqa: E402
from proper_unittest.runner.problems import UsageError  # noqa: E402

_EXAMPLE_NAME = re.compile(r"[A-Za-z_][\w-]*\Z")


class RepositorySuites(Command):
    """``runtests.py``: the runner, plus the suites of the repository at *root*."""

    entry = (str(Path(__file__).resolve()),)
    shown_entry = ("runtests.py",)
    label_kinds = "an example app, a path or an importable test name"
    help_without_labels = "runtests.py, in this repository, runs every suite of the repository instead.\n"
    help_label_rules = "  APP                    (runtests.py only) an example app: examples/APP/tests\n"
    help_examples = "  python runtests.py myapp --parallel 4 --durations 10   # this repository's example app\n"

    def __init__(self, root: Path = REPO_ROOT) -> None:
        self.root = root
        self.examples = root / "examples"

    def example_app_names(self) -> list[str]:
        """Return the sorted names of the example apps under ``examples/``."""
        if not self.examples.is_dir():
            return []
        return sorted(
            path.name
            for path in self.examples.iterdir()
            if path.is_dir() and _EXAMPLE_NAME.match(path.name) and not path.name.startswith("_")
        )

    def named_project(self, name: str) -> Path | None:
        """An example app's folder, for its name."""
        if _EXAMPLE_NAME.match(name) and (self.examples / name).is_dir():
            return self.examples / name
        return None

    def available(self) -> str:
        """The example apps there are, for the messages about a label."""
        names = self.example_app_names()
        return "; " + ("example apps: " + ", ".join(names) if names else f"no example apps in {self.examples}")

    def default_suites(self, args: argparse.Namespace) -> list[tuple[str, list[str]]]:
        """The library's own ``tests/`` and each ``examples/<name>/tests``."""
        if args.bisect:
            raise UsageError("--bisect: give the labels of one suite (runtests.py APP or tests)")
        suites: list[tuple[str, list[str]]] = []
        if (self.root / TESTS_DIRNAME).is_dir():
            suites.append((TESTS_DIRNAME, [str(self.root)]))
        for name in self.example_app_names():
            if (self.examples / name / TESTS_DIRNAME).is_dir():
                suites.append((f"examples/{name}", [name]))
        if not suites:
            raise UsageError(
                f"no test suites found (looked for {self.root / TESTS_DIRNAME} and {self.examples}/*/tests)"
            )
        return suites


if __name__ == "__main__":
    sys.exit(main(prog="runtests.py", command=RepositorySuites()))
