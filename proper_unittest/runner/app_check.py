"""Load the app a project's config names and run the safety checks on it,
before any test runs; the same lookup the test cases use (see discovery.py)."""

from pathlib import Path

from proper import App

from .._provision import preflight
from ..discovery import find_project_app_spec, load_app
from ..errors import ConfigurationError
from .problems import UsageError, describe_user_exception, one_line, user_frames


class AppCheckError(UsageError):
    """The configured app cannot be loaded, is not a ``proper.App``, or is not safe to test."""


def check_configured_app(project_dir: Path) -> App | None:
    """Import the app named by the project's setup.cfg / pyproject.toml and check it is safe.

    Returns the app, or None when the project configures none.  Raises
    :class:`AppCheckError` with a message for the user otherwise.
    """
    try:
        found = find_project_app_spec(project_dir)
    except ConfigurationError as error:
        raise AppCheckError(one_line(error)) from None
    if found is None:
        return None
    spec, config_file = found
    try:
        app = load_app(spec, source=str(config_file))
    except ConfigurationError as error:
        raise AppCheckError(_load_problem(error)) from None
    except Exception as error:  # noqa: BLE001 - whatever the user's app module raised
        raise AppCheckError(
            f"the app {spec!r} (from {config_file}) raised an error while it was configured: "
            + describe_user_exception(error)
        ) from None
    check_app_is_safe(app)
    return app


def check_app_is_safe(app: App) -> None:
    """Run the library's safety checks on *app*, before any test: the test
    environment, the name of every database, and what existing ones hold.

    The one place the runner calls them; raises :class:`AppCheckError`
    (one line) for an :class:`UnsafeDatabaseError` or an unreachable
    server. Nothing is written.
    """
    try:
        preflight(app)
    except ConfigurationError as error:
        raise AppCheckError(one_line(error)) from None


def _load_problem(error: ConfigurationError) -> str:
    """The first line of a ConfigurationError, plus the user's frames of its cause."""
    message = str(error).splitlines()[0]
    cause = error.__cause__
    if cause is not None and user_frames(cause.__traceback__):
        message += "\n" + describe_user_exception(cause)
    return message
