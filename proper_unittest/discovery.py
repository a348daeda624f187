"""Finds the Proper app a test case is about.

Looked up, in order: the test class's ``app`` attribute (an ``App`` or a
``"package.module:attr"`` string), then the nearest project config above the
test module (or the current directory): ``setup.cfg`` ``[proper_unittest]``
or ``pyproject.toml`` ``[tool.proper_unittest]``, key ``app``. Also reads
the project's other settings, and yes/no words (settings and environment
switches).
"""
import configparser
import importlib
import importlib.util
import inspect
import os
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

from proper import App

from proper_unittest.environment import environment_value
from proper_unittest.errors import ConfigurationError



SECTION = "proper_unittest"
#: The words a yes/no setting or environment switch takes.
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
# Modules of an app package that register routes, channels and tasks when
# imported; an app whose package __init__ does not import them still works.
APP_SUBMODULES = ("models", "controllers", "channels", "tasks", "emails")

HOW_TO_CONFIGURE = (
    "Set it on the class (`app = \"myapp.main:app\"`), or in the project's "
    "setup.cfg:\n    [proper_unittest]\n    app = myapp.main:app\n"
    "or in pyproject.toml:\n    [tool.proper_unittest]\n    app = \"myapp.main:app\""
)


def app_for(test_class: type) -> App:
    """Return the Proper app `test_class` tests, importing it if needed."""
    target = getattr(test_class, "app", None)
    if isinstance(target, App):
        return target
    if isinstance(target, str) and target:
        return load_app(target, source=f"{test_class.__qualname__}.app")
    if target is not None:
        raise ConfigurationError(
            f"{test_class.__qualname__}.app is {target!r}: it must be a proper.App "
            f"or a 'module:attr' string. {HOW_TO_CONFIGURE}"
        )

    module_file, cwd = _module_file(test_class), os.getcwd()
    found = _app_spec_near(module_file, cwd)
    if found:
        spec, config_file = found
        return load_app(spec, source=str(config_file))

    looked = ", ".join(str(d) for d in dict.fromkeys(_start_dirs(module_file, cwd)))
    raise ConfigurationError(
        f"{test_class.__qualname__} has no app to test (no `app` attribute, and no "
        f"[proper_unittest] config found above {looked}). {HOW_TO_CONFIGURE}"
    )


@cache
def _app_spec_near(module_file: str | None, cwd: str) -> tuple[str, Path] | None:
    # Cached by plain strings, as _setting_for is: every test class's
    # set-up asks, and the Paths of the folders above cost most of it.
    for start in _start_dirs(module_file, cwd):
        found = find_project_app_spec(start)
        if found:
            return found
    return None


def _start_dirs(module_file: str | None, cwd: str) -> list[Path]:
    """Where a test class's app is looked for: its module's folder (the
    working directory for a module without a file), then the working directory."""
    return [_folder_of(module_file) if module_file else Path(cwd), Path(cwd)]


def find_project_app_spec(start: Path) -> tuple[str, Path] | None:
    """Return ``(app spec, config file)`` from the nearest project config
    at or above `start`, or None."""
    for folder in (start, *start.parents):
        found = _read_project_config(folder)
        if found:
            return found
    return None


@cache
def load_app(spec: str, *, source: str = "") -> App:
    """Import ``"package.module:attr"`` (``attr`` defaults to ``app``) and
    return the App, with the app package's route/channel/task modules loaded."""
    module_name, _, attr = spec.partition(":")
    attr = attr or "app"
    origin = f" (from {source})" if source else ""
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigurationError(
            f"Cannot import the app module {module_name!r} named by {spec!r}{origin}: "
            f"{error}. Check the name, and that the project folder is on sys.path "
            "(run from the project folder, or use runtests.py)."
        ) from error

    app = getattr(module, attr, None)
    if not isinstance(app, App):
        raise ConfigurationError(
            f"{spec!r}{origin} is {type(app).__name__}, not a proper.App: "
            f"point it at the App instance, e.g. '{module_name}:app'."
        )
    _import_app_submodules(module_name)
    return app


def _import_app_submodules(module_name: str) -> None:
    package = module_name.split(".")[0]
    if not hasattr(importlib.import_module(package), "__path__"):
        return  # a single-module app (``app = "app:app"``) has no submodules
    for name in APP_SUBMODULES:
        full_name = f"{package}.{name}"
        if importlib.util.find_spec(full_name) is not None:
            importlib.import_module(full_name)


@cache
def _read_project_config(folder: Path) -> tuple[str, Path] | None:
    # Both files are read first: a malformed one is reported even when the
    # other holds the settings (as pytest does).
    setup_cfg, pyproject = folder / "setup.cfg", folder / "pyproject.toml"
    parser = _read_setup_cfg(setup_cfg) if setup_cfg.is_file() else None
    tool = read_pyproject_section(pyproject) if pyproject.is_file() else {}
    if parser is not None and parser.has_option(SECTION, "app"):
        return parser.get(SECTION, "app").strip(), setup_cfg
    spec = tool.get("app")
    if spec:
        return str(spec).strip(), pyproject
    return None


def has_project_section(folder: Path) -> Path | None:
    """Return the config file in `folder` that has this library's section
    (setup.cfg ``[proper_unittest]`` or pyproject.toml
    ``[tool.proper_unittest]``), or None. Malformed files raise
    :class:`ConfigurationError` with the file and line, both files being
    read whichever holds the section."""
    setup_cfg, pyproject = folder / "setup.cfg", folder / "pyproject.toml"
    parser = _read_setup_cfg(setup_cfg) if setup_cfg.is_file() else None
    tool = read_pyproject_section(pyproject, whole_tool=True) if pyproject.is_file() else {}
    if parser is not None and parser.has_section(SECTION):
        return setup_cfg
    if SECTION in tool:
        return pyproject
    return None


def project_setting(test_class: type, key: str) -> tuple[Any, Path] | None:
    """``(value, config file)`` of `key` in this library's section of the
    nearest project config above `test_class`'s module (or the current
    directory), or None when that config does not set it."""
    return _setting_for(_module_file(test_class), os.getcwd(), key)


@cache
def _setting_for(module_file: str | None, cwd: str, key: str) -> tuple[Any, Path] | None:
    # Cached (as the configs it reads are), by plain strings: every test
    # class's set-up asks for several settings, and making the Paths and
    # walking up the folders is most of the cost of a lookup.
    module_dir = _folder_of(module_file) if module_file else Path(cwd)
    for start in dict.fromkeys((module_dir, Path(cwd))):
        for folder in (start, *start.parents):
            found = _read_project_setting(folder, key)
            if found is not _NOT_HERE:
                return found  # type: ignore[return-value]
    return None


_NOT_HERE = object()


@cache
def _read_project_setting(folder: Path, key: str) -> object:
    """`key` from `folder`'s config with this library's section: a
    ``(value, file)`` pair, None when that section does not set it, or
    _NOT_HERE when `folder` has no such section."""
    config_file = has_project_section(folder)
    if config_file is None:
        return _NOT_HERE
    if config_file.name == "setup.cfg":
        parser = _read_setup_cfg(config_file)
        return (parser.get(SECTION, key).strip(), config_file) if parser.has_option(SECTION, key) else None
    section = read_pyproject_section(config_file)
    return (section[key], config_file) if key in section else None


def _read_setup_cfg(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as error:
        raise ConfigurationError(f"{path} is malformed: {_configparser_problem(error)}") from None
    return parser


def _configparser_problem(error: configparser.Error) -> str:
    """configparser's error as one line that starts with the line number."""
    if isinstance(error, configparser.MissingSectionHeaderError):
        # A ParsingError without `errors` (AttributeError on 3.13).
        return (f"line {error.lineno}: {error.line.strip()!r} is not a [section] header, "
                "and the file must start with one")
    errors = getattr(error, "errors", None)
    if isinstance(error, configparser.ParsingError) and errors:
        lineno, line = errors[0][:2]
        return f"line {lineno}: cannot parse {line.strip()!r}"
    lineno_attr = getattr(error, "lineno", None)
    first = str(error).splitlines()[0]
    return f"line {lineno_attr}: {first}" if lineno_attr else first


def read_pyproject_section(path: Path, whole_tool: bool = False) -> dict[str, Any]:
    """This library's table of pyproject.toml `path` (the whole ``[tool]``
    table with `whole_tool`); a malformed file raises
    :class:`ConfigurationError` with the line."""
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except tomllib.TOMLDecodeError as error:
        raise ConfigurationError(f"{path} is not valid TOML: {error}") from None
    tool: dict[str, Any] = data.get("tool", {})
    section: dict[str, Any] = tool if whole_tool else tool.get(SECTION, {})
    return section



def _module_file(test_class: type) -> str | None:
    """The file of `test_class`'s module (None for one without a file)."""
    try:
        return inspect.getfile(test_class)
    except (TypeError, OSError):
        return None


@cache
def _folder_of(module_file: str) -> Path:
    # Resolved once per file: resolve() asks the file system about every
    # part of the path, and every test class's set-up looks here.
    return Path(module_file).resolve().parent


def project_option(test_class: type, key: str) -> tuple[str, Path] | None:
    """The value of `key` in the project config nearest to `test_class`'s
    module (or the current directory), as text (a pyproject.toml list
    joined with spaces), with its file; None when unset."""
    found = project_setting(test_class, key)
    if found is None:
        return None
    value, config_file = found
    return (" ".join(map(str, value)) if isinstance(value, list) else str(value)), config_file


def switch(value: object) -> bool | None:
    """True or False for a yes or no word (TRUE_WORDS, FALSE_WORDS; any
    case, spaces around ignored), None for anything else."""
    text = str(value).strip().lower()
    return True if text in TRUE_WORDS else False if text in FALSE_WORDS else None


def env_switch(variable: str) -> bool | None:
    """:func:`switch` of the environment variable `variable` (None when
    unset or empty); a ConfigurationError naming it when it holds another
    word, which would otherwise be read as unset."""
    value = environment_value(variable)
    if not value:
        return None
    answer = switch(value)
    if answer is None:
        raise ConfigurationError(
            f"{variable} is {value!r}: use one of {', '.join(TRUE_WORDS)} (on) or "
            f"{', '.join(FALSE_WORDS)} (off), or leave it unset."
        )
    return answer
