"""Check that the app a project's config names is a Proper app.

The app is read from ``setup.cfg`` (``[proper_unittest] app = module:attr``)
or, failing that, ``pyproject.toml`` (``[tool.proper_unittest] app``).
A project without such a setting is not checked.
"""

import configparser
import importlib
import tomllib


class AppCheckError(Exception):
    """The configured app cannot be imported or is not a ``proper.App``."""


def configured_app(project_dir):
    """Return ``(reference, source)`` for the project's configured app, or None.

    *reference* is the ``module:attr`` string and *source* says where it was
    found, for error messages.
    """
    setup_cfg = project_dir / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser()
        try:
            parser.read(setup_cfg, encoding="utf-8")
        except configparser.Error as exc:
            raise AppCheckError(f"cannot read {setup_cfg}: {_one_line(exc)}") from exc
        value = parser.get("proper_unittest", "app", fallback="").strip()
        if value:
            return value, f"{setup_cfg} [proper_unittest] app"
    pyproject = project_dir / "pyproject.toml"
    if pyproject.is_file():
        try:
            with pyproject.open("rb") as file:
                data = tomllib.load(file)
        except tomllib.TOMLDecodeError as exc:
            raise AppCheckError(f"cannot read {pyproject}: {_one_line(exc)}") from exc
        value = str(data.get("tool", {}).get("proper_unittest", {}).get("app", "")).strip()
        if value:
            return value, f"{pyproject} [tool.proper_unittest] app"
    return None


def check_configured_app(project_dir):
    """Import the project's configured app and check it is a ``proper.App``.

    Returns the app, or None when the project configures no app.
    Raises :class:`AppCheckError` with a one-line message otherwise.
    """
    found = configured_app(project_dir)
    if found is None:
        return None
    reference, source = found
    app = import_app(reference, source)
    app_class = _proper_app_class()
    if not isinstance(app, app_class):
        raise AppCheckError(
            f"{reference!r} (from {source}) is not a Proper app: it is a "
            f"{type(app).__module__}.{type(app).__qualname__}, not a proper.App"
        )
    return app


def import_app(reference, source):
    """Import and return the object named by ``module:attr`` *reference* (``attr`` defaults to ``app``)."""
    module_name, _, attr_path = reference.partition(":")
    attr_path = attr_path or "app"
    if not module_name:
        raise AppCheckError(f"{source} = {reference!r} must look like 'package.module:attribute'")
    try:
        obj = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is reported the same way
        raise AppCheckError(
            f"cannot import app module {module_name!r} (from {source} = {reference}): "
            f"{type(exc).__name__}: {_one_line(exc)}"
        ) from exc
    for attr in attr_path.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError as exc:
            raise AppCheckError(
                f"app module {module_name!r} has no attribute {attr_path!r} (from {source} = {reference})"
            ) from exc
    return obj


def _proper_app_class():
    try:
        import proper
    except ImportError as exc:
        raise AppCheckError(f"cannot import proper: {_one_line(exc)}") from exc
    return proper.App


def _one_line(exc):
    """Return the first line of an exception's message."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else ""
