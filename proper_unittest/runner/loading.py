"""Load a project's tests the way ``python -m unittest discover`` does,
turning every load problem into a usage error.

unittest's loader turns a test module that fails to import into a
``_FailedTest`` that errors when run; the runner instead stops before
running anything and shows the user's error, file and line.
"""

import importlib
import importlib.machinery
import importlib.util
import os
import sys
import unittest
import unittest.loader
from collections.abc import Iterable, Sequence
from pathlib import Path

from .labels import PYTHON_M, Command, LabelError, Target, import_failed, unknown_label_message, why_unresolvable
from .order import iter_tests
from .problems import UsageError

#: unittest's default discovery pattern.
TEST_FILE_PATTERN = "test*.py"


def import_tests_packages(targets: Iterable[Target]) -> None:
    """Import the top-level package of each target's tests (``tests/__init__.py``).

    ``python -m unittest discover -s tests -t .`` imports it before any test
    module, so settings made there (``os.environ[...]``) are in place before
    the app is loaded.
    """
    for name in dict.fromkeys(_top_package(target) for target in targets):
        if name is None:
            continue
        try:
            spec = importlib.util.find_spec(name)
            if spec is not None and spec.submodule_search_locations is not None:
                importlib.import_module(name)
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's tests/__init__.py
            raise import_failed(name, exc) from None


def load_suite(
    targets: Iterable[Target], patterns: Sequence[str] | None, command: Command = PYTHON_M,
) -> unittest.TestSuite:
    """Load the tests of every target into one suite, keeping only those matching -k *patterns*.

    *command* words the message for a dotted name that names nothing.

    Raises :class:`UsageError` when a test module cannot be imported.
    """
    loader = unittest.TestLoader()
    if patterns:
        loader.testNamePatterns = [name_pattern(p) for p in patterns]
    suite = unittest.TestSuite()
    for target in targets:
        suite.addTest(_load_target(loader, target, command))
    for test in iter_tests(suite):
        # _FailedTest is private to unittest: typeshed does not declare it.
        if isinstance(test, unittest.loader._FailedTest):  # type: ignore[attr-defined]
            raise _load_failure(test)
    return suite


def name_pattern(pattern: str) -> str:
    """The fnmatch pattern for ``-k PATTERN``, as unittest's ``-k`` documents
    it: with a ``*``, a wildcard pattern; without, a plain substring (its
    ``[`` and ``?`` match themselves)."""
    if "*" in pattern:
        return pattern
    return "*" + "".join(f"[{ch}]" if ch in "[?" else ch for ch in pattern) + "*"


def may_still_exist(test_id: str) -> bool:
    """False when *test_id* (``module.Class.test``, a class or a module) is
    known to be gone: its module was imported and lacks the name, or its
    package has no such module. Nothing is imported to tell."""
    parts = test_id.split(" ")[0].split(".")
    known = 0
    while known < len(parts) and ".".join(parts[:known + 1]) in sys.modules:
        known += 1
    if known == 0:
        return True  # not a module of this run: nothing known
    obj: object = sys.modules[".".join(parts[:known])]
    rest = parts[known:]
    package_path = getattr(obj, "__path__", None)
    if rest and package_path is not None and not hasattr(obj, rest[0]):
        # A module of the package not imported in this run: does its file exist?
        return importlib.machinery.PathFinder.find_spec(rest[0], list(package_path)) is not None
    for name in rest:
        if not hasattr(obj, name):
            return False
        obj = getattr(obj, name)
    return True


def skipped_test_folders(start_dir: str | os.PathLike[str]) -> list[tuple[Path, Path]]:
    """Return ``[(folder, missing __init__.py)]`` for the folders under *start_dir*
    holding test files that discovery skips because a package is missing its
    ``__init__.py`` (the folder's own or one between it and *start_dir*)."""
    start_dir = Path(start_dir)
    skipped = []
    for dirpath, dirnames, filenames in os.walk(start_dir):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        folder = Path(dirpath)
        if folder == start_dir or not any(Path(f).match(TEST_FILE_PATTERN) for f in filenames):
            continue
        missing = _first_missing_init(start_dir, folder)
        if missing is not None:
            skipped.append((folder, missing))
    return skipped


def describe_skipped(skipped: Iterable[tuple[Path, Path]], base: Path) -> str:
    """Return a phrase naming the skipped folders and the ``__init__.py`` each needs."""
    parts = [
        f"{_relative(folder, base)} (no {_relative(missing / '__init__.py', base)})"
        for folder, missing in skipped
    ]
    return (
        "discovery skipped folders holding test files: " + ", ".join(parts)
        + "; unittest only looks inside packages: add the missing __init__.py files"
    )


def _first_missing_init(start_dir: Path, folder: Path) -> Path | None:
    """The first folder from *start_dir* (excluded) down to *folder* without __init__.py."""
    current = start_dir
    for part in folder.relative_to(start_dir).parts:
        current = current / part
        if not (current / "__init__.py").is_file():
            return current
    return None


def _relative(path: Path, base: Path) -> str:
    try:
        return str(Path(path).relative_to(base))
    except ValueError:
        return str(path)


def _load_target(loader: unittest.TestLoader, target: Target, command: Command) -> unittest.TestSuite:
    """Discover or load the tests of one target."""
    if target.start_dir is not None:
        try:
            return loader.discover(str(target.start_dir), top_level_dir=str(target.import_root))
        except ImportError as exc:
            raise UsageError(f"cannot discover tests in {target.start_dir}: {exc}") from None
    assert target.name is not None  # a Target without a start_dir has a name
    try:
        problem = why_unresolvable(target.name)
        if problem:
            raise LabelError(unknown_label_message(target.label, problem, command))
        return loader.loadTestsFromName(target.name)
    except SystemExit as exc:  # a module the name imports called sys.exit()
        raise import_failed(target.name, exc) from None


def _load_failure(failed_test: unittest.TestCase) -> UsageError:
    """Return the usage error for a test unittest's loader could not load."""
    name = failed_test._testMethodName
    try:
        importlib.import_module(name)
    except (Exception, SystemExit) as exc:  # noqa: BLE001 - the user's module, imported again to show its error
        return import_failed(name, exc)
    # The module imports now (or the failure was in its load_tests()): show
    # the last line unittest recorded.
    message = str(getattr(failed_test, "_exception", "")).strip().splitlines()
    return UsageError(f"cannot load tests from {name!r}: {message[-1] if message else 'unknown error'}")


def _top_package(target: Target) -> str | None:
    if target.name is not None:
        return target.name.split(".")[0]
    if target.start_dir is not None and target.start_dir != target.import_root:
        return target.start_dir.relative_to(target.import_root).parts[0]
    return None

