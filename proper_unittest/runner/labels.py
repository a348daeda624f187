"""Turn the runner's command-line labels into test targets.

A label is resolved by the first rule that matches:

1. a name the command running the runner gives a project (see
   :class:`Command`: ``python -m proper_unittest`` names none, this
   repository's ``runtests.py`` names its example apps);
2. an existing path: a project directory holding ``tests/``, any other
   directory (taken as a tests directory itself), or a ``.py`` test file;
3. ``PROJECT:NAME``: a dotted test NAME inside PROJECT, where PROJECT is a
   project's name (rule 1) or a project directory
   (``myapp:tests.test_photos.PhotoTests.test_list``);
4. a dotted test name (``tests.test_x.SomeTests.test_y``) in the project of
   the current directory.

Without labels, the runner runs the project of the current directory
(:func:`current_project`), or the suites its :class:`Command` names.

This module only classifies labels (no imports of project code); whether a
dotted name is importable is checked later, by :func:`why_unresolvable`,
once ``sys.path`` has been set up for the project.
"""

import argparse
import importlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..discovery import SECTION, has_project_section
from ..errors import ConfigurationError
from .problems import UsageError, describe_user_exception

if TYPE_CHECKING:
    from _typeshed import StrPath

TESTS_DIRNAME = "tests"
PROJECT_CONFIG_FILES = ("setup.cfg", "pyproject.toml")

_DOTTED_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*\Z")


class LabelError(UsageError):
    """A label names nothing that can be run (a usage error)."""


class Command:
    """The command running the runner: as it is, ``python -m proper_unittest``.

    A repository with suites of its own runs them through a script that
    subclasses this and passes an instance to :func:`~.cli.main` (this
    repository's ``runtests.py`` does, for ``tests/`` and its example apps):
    the projects it names, the suites it runs without labels, its lines in
    ``--help``, and how its child processes start it again.
    """

    #: How a child process starts the runner again, after the Python executable.
    entry: Sequence[str] = ("-m", "proper_unittest")
    #: The same, in the commands printed for the user to type (after ``python``).
    shown_entry: Sequence[str] = ("-m", "proper_unittest")
    #: What a label can be, as said when one names nothing runnable.
    label_kinds = "a path or an importable test name"
    #: Lines of ``--help``: what runs without labels, label rules, examples.
    help_without_labels = help_label_rules = help_examples = ""

    def named_project(self, name: str) -> Path | None:
        """Return the project directory a label *name* (or a PROJECT:) stands for, or None."""
        return None

    def available(self) -> str:
        """Return what the messages about a label that names nothing add to it."""
        return ""

    def default_suites(self, args: argparse.Namespace) -> list[tuple[str, list[str]]] | None:
        """Return the ``(display name, labels)`` suites to run, one process each, when
        *args* has no labels; None: the project of the current directory."""
        return None


#: ``python -m proper_unittest`` and ``proper-unittest``.
PYTHON_M = Command()


@dataclass(frozen=True)
class Target:
    """What one label asks to run, and the project it belongs to.

    Either ``start_dir`` is set (discover tests there) or ``name`` is
    (load that dotted name).  ``import_root`` goes on ``sys.path`` and is
    discovery's top-level directory.
    """

    label: str
    project_dir: Path
    import_root: Path
    start_dir: Path | None = None
    name: str | None = None


def find_project(start: "StrPath") -> Path | None:
    """Return the nearest directory at or above *start* whose setup.cfg or
    pyproject.toml has this library's section, or None.

    A malformed config file on the way raises :class:`LabelError` naming
    the file and line.
    """
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        try:
            if has_project_section(folder):
                return folder
        except ConfigurationError as error:
            raise LabelError(str(error)) from None
    return None


def current_project(cwd: "StrPath") -> str:
    """Return the label of the project ``python -m proper_unittest`` runs without labels.

    That is the nearest project with this library's config section, else
    the current directory when it holds ``tests/``.
    """
    project = find_project(cwd)
    if project is None and (Path(cwd) / TESTS_DIRNAME).is_dir():
        project = Path(cwd).resolve()
    if project is None:
        raise LabelError(
            f"no project found at or above {Path(cwd).resolve()}: run from your project's folder "
            f"(the one holding {TESTS_DIRNAME}/, with [{SECTION}] app = ... in setup.cfg or "
            f"[tool.{SECTION}] in pyproject.toml), or name what to run"
        )
    return str(project)


def resolve_label(label: str, cwd: "StrPath", command: Command = PYTHON_M) -> Target:
    """Return the :class:`Target` for *label*, relative paths being taken from *cwd*.

    The names *command* gives projects come first.  Raises
    :class:`LabelError` when the label matches none of the rules.
    """
    named = command.named_project(label)
    if named is not None:
        return _project_target(label, named)
    path = Path(cwd, label)
    if path.exists():
        return _path_target(label, path.resolve())
    project, sep, name = label.rpartition(":")
    if sep and project:
        return _project_name_target(label, project, name, cwd, command)
    if _looks_like_path(label):
        raise LabelError(f"no such file or directory: {label!r}{command.available()}")
    if _DOTTED_NAME.match(label):
        root = find_project(cwd) or Path(cwd).resolve()
        return Target(label, project_dir=root, import_root=root, name=label)
    raise LabelError(unknown_label_message(label, command=command))


def unknown_label_message(label: str, detail: str | None = None, command: Command = PYTHON_M) -> str:
    """Return the one-line message for a label that names nothing runnable."""
    reason = f" ({detail})" if detail else ""
    return f"{label!r} is not {command.label_kinds}{reason}{command.available()}"


def why_unresolvable(name: str) -> str | None:
    """Return why dotted *name* names nothing, or None when it resolves.

    A module that exists but fails to import is the user's error: it raises
    :class:`UsageError` showing that error and where it happened.
    """
    parts = name.split(".")
    for count in range(len(parts), 0, -1):
        module_name = ".".join(parts[:count])
        try:
            obj: object = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if _is_missing(module_name, exc):
                continue
            raise import_failed(module_name, exc) from None
        except Exception as exc:  # noqa: BLE001 - whatever the user's module raised
            raise import_failed(module_name, exc) from None
        break
    else:
        return f"no module named {parts[0]!r}"
    path = module_name
    for attr in parts[count:]:
        if not hasattr(obj, attr):
            return f"{path!r} has no attribute {attr!r}"
        obj = getattr(obj, attr)
        path = f"{path}.{attr}"
    return None


def import_failed(module_name: str, exc: BaseException) -> UsageError:
    """Return the usage error for test module *module_name* failing to import with *exc*
    (a ``SystemExit``: it called ``sys.exit()`` while it was imported)."""
    message = f"cannot import {module_name!r}: {describe_user_exception(exc)}"
    if isinstance(exc, SystemExit):
        message += (
            "\nIt called sys.exit() while it was imported, which would end the run: move that "
            'call into a test, or under `if __name__ == "__main__":`.'
        )
    return UsageError(message)


def _is_missing(module_name: str, exc: ModuleNotFoundError) -> bool:
    """Tell whether *exc* says *module_name* itself (or a parent) does not exist."""
    missing = exc.name or ""
    return module_name == missing or module_name.startswith(missing + ".")


def _looks_like_path(label: str) -> bool:
    return label.endswith(".py") or "/" in label or os.sep in label


def _path_target(label: str, path: Path) -> Target:
    if path.is_dir():
        if (path / TESTS_DIRNAME).is_dir():
            return _project_target(label, path)
        return _tests_dir_target(label, path)
    if path.suffix == ".py":
        return _file_target(label, path)
    raise LabelError(f"{label!r} is neither a directory nor a .py test file")


def _project_target(label: str, project_dir: Path) -> Target:
    """Discover the ``tests/`` directory of a project directory."""
    start_dir = project_dir / TESTS_DIRNAME
    if not start_dir.is_dir():
        raise LabelError(f"no tests found: {label!r} has no {TESTS_DIRNAME}/ directory ({start_dir})")
    root = _import_root(start_dir) or start_dir
    return Target(label, project_dir=project_dir, import_root=root, start_dir=start_dir)


def _tests_dir_target(label: str, start_dir: Path) -> Target:
    """Discover a tests directory given directly."""
    root = _import_root(start_dir)
    if root is None:
        return Target(label, _bare_dir_project(start_dir), import_root=start_dir, start_dir=start_dir)
    return Target(label, project_dir=root, import_root=root, start_dir=start_dir)


def _file_target(label: str, path: Path) -> Target:
    """Load one test module given by its file path."""
    directory = path.parent
    root = _import_root(directory)
    if root is None:
        return Target(label, _bare_dir_project(directory), import_root=directory, name=path.stem)
    module = ".".join(path.relative_to(root).with_suffix("").parts)
    return Target(label, project_dir=root, import_root=root, name=module)


def _project_name_target(label: str, project: str, name: str, cwd: "StrPath", command: Command) -> Target:
    """Resolve ``PROJECT:NAME``."""
    if not _DOTTED_NAME.match(name):
        raise LabelError(f"{label!r}: {name!r} is not a dotted test name")
    project_dir = command.named_project(project)
    if project_dir is None and Path(cwd, project).is_dir():
        project_dir = Path(cwd, project).resolve()
    if project_dir is None:
        raise LabelError(unknown_label_message(label, f"no directory {project!r}", command))
    return Target(label, project_dir=project_dir, import_root=project_dir, name=name)


def _import_root(directory: Path) -> Path | None:
    """Return the directory above the outermost package holding *directory*.

    Returns None when *directory* is not a package (has no ``__init__.py``).
    """
    if not (directory / "__init__.py").is_file():
        return None
    while (directory / "__init__.py").is_file() and directory.parent != directory:
        directory = directory.parent
    return directory


def _bare_dir_project(directory: Path) -> Path:
    """Return the project of a directory that is not a package.

    It is its own project only if it holds a setup.cfg or pyproject.toml;
    otherwise it is a tests directory and its parent is the project.
    """
    if any((directory / name).is_file() for name in PROJECT_CONFIG_FILES):
        return directory
    return directory.parent
