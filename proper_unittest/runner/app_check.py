"""Load the app a project's config names and run the safety checks on it,
before any test runs; the same lookup the test cases use (see discovery.py).
Once the tests are loaded, check the outside services each test class
would use (see :func:`check_test_classes`)."""

import unittest
from collections.abc import Iterable
from pathlib import Path

from proper import App

from ..databases.provision import preflight
from ..discovery import app_for, find_project_app_spec, load_app
from ..errors import ConfigurationError, UnsafeServiceError
from ..isolation.server_services import check_server_services
from ..isolation.storage_roots import check_storage
from ..testcase import _ProperTestMixin
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


def check_test_classes(tests: Iterable[unittest.TestCase]) -> None:
    """Refuse the run, before any test, when a loaded Proper test class
    would use a server-backed cache, queue or cable or a storage service
    not on local disk without opting in (the checks each class makes in
    its set-up). Raises :class:`AppCheckError` naming the service, the fix
    and the classes; nothing is touched.

    A class whose app cannot be found or loaded is left alone here: it
    fails with its own message when it runs.
    """
    refusals: dict[str, list[str]] = {}
    for test_class in dict.fromkeys(type(test) for test in tests):
        if not issubclass(test_class, _ProperTestMixin):
            continue
        try:
            app = app_for(test_class)
            check_server_services(app, test_class)
            check_storage(app, test_class)
        except UnsafeServiceError as error:
            refusals.setdefault(str(error), []).append(f"{test_class.__module__}.{test_class.__qualname__}")
        except Exception:  # noqa: BLE001, S112 - the class reports it when it runs
            continue
    if refusals:
        raise AppCheckError("\n".join(
            f"{message} The test classes refused: {', '.join(classes)}." for message, classes in refusals.items()
        ))


def _load_problem(error: ConfigurationError) -> str:
    """The first line of a ConfigurationError, plus the user's frames of its cause."""
    message = str(error).splitlines()[0]
    cause = error.__cause__
    if cause is not None and user_frames(cause.__traceback__):
        message += "\n" + describe_user_exception(cause)
    return message
