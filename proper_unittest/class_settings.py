"""The settings a Proper test class is configured with, checked when the
class starts: a value of the wrong kind is a :class:`ConfigurationError`
naming the setting, what it holds and what it takes, before any test of
the class runs (instead of an error deep inside a test, or a string such
as ``"no"`` read as true).

The settings that are read where they are used check themselves there
(``allow_outside``, ``fast_password_hashing``, ``check_escaped_writes``,
``timeout``, and the environment variables that switch them); this module
runs those checks early and adds the ones that had none.
"""
from collections.abc import Mapping

from proper_unittest.databases.leaks import check_setting
from proper_unittest.errors import ConfigurationError
from proper_unittest.isolation.password_cost import wanted as fast_hashing_wanted
from proper_unittest.isolation.process_state import is_strict
from proper_unittest.isolation.timeout import limit_for
from proper_unittest.recording.flight_recorder import is_enabled as flight_recorder_enabled

# The on/off settings: (attribute, what it switches).
_SWITCHES = (
    ("strict_process_state", "make a test that changes the process's state an error"),
    ("flight_recorder", "the appendix on a failing test's report"),
)


def check_class_settings(test_class: type) -> None:
    """Raise ConfigurationError for the first setting of `test_class` that
    holds a value of the wrong kind (see the module doc)."""
    name = test_class.__qualname__
    headers = getattr(test_class, "client_headers", {})
    if not isinstance(headers, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in headers.items()
    ):
        raise ConfigurationError(
            f"{name}.client_headers is {headers!r}: it must map header names to values, both "
            'strings, e.g. client_headers = {"accept": "application/json"}.'
        )
    for attribute, does in _SWITCHES:
        value = getattr(test_class, attribute, False)
        if not isinstance(value, bool) and value not in (0, 1):
            raise ConfigurationError(
                f"{name}.{attribute} is {value!r}: use True or False ({does})."
            )
    # These read the environment variables too: a word that is not a yes
    # or no fails here, not in the middle of a test's report.
    check_setting(test_class)
    limit_for(test_class)
    is_strict(test_class)
    flight_recorder_enabled(test_class)
    fast_hashing_wanted(test_class)
