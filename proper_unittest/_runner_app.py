"""Check, before running a project's tests, that the app its config names
is a Proper app; the same lookup the test cases use (see discovery.py)."""
from .discovery import find_project_app_spec, load_app
from .errors import ConfigurationError


class AppCheckError(Exception):
    """The configured app cannot be imported or is not a ``proper.App``."""


def check_configured_app(project_dir):
    """Import the app named by the project's setup.cfg / pyproject.toml.

    Returns the app, or None when the project configures none. Raises
    :class:`AppCheckError` with a one-line message otherwise.
    """
    found = find_project_app_spec(project_dir)
    if found is None:
        return None
    spec, config_file = found
    try:
        return load_app(spec, source=str(config_file))
    except ConfigurationError as error:
        raise AppCheckError(str(error).splitlines()[0]) from error
