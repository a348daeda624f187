"""Reading the environment variables the library looks at for every test.

``os.environ.get`` of an unset name raises and catches a ``KeyError``
inside ``os.environ``; the library asks for several unset switches per
test (the flight recorder, the time limit, strict process state...), and
that exception path cost each test more than the lookups' purpose. On
POSIX the same answer comes from ``os.environ``'s own byte mapping, which
every change through ``os.environ`` (``monkeypatch.setenv`` included)
updates.
"""
import os
import sys

# How os.environ encodes names and values on POSIX.
_ENCODING = sys.getfilesystemencoding()


def environment_value(name: str, default: str = "") -> str:
    """``os.environ.get(name, default)``, without the exception path."""
    raw = getattr(os.environ, "_data", None) if os.name == "posix" else None
    if raw is None:
        return os.environ.get(name, default)
    value = raw.get(name.encode(_ENCODING, "surrogateescape"))
    return default if value is None else value.decode(_ENCODING, "surrogateescape")


#: The variable pytest names the running test (and phase) in.
PYTEST_TEST_VARIABLE = "PYTEST_CURRENT_TEST"


def pytest_runs_the_test() -> bool:
    """True while pytest runs a test (it names it in PYTEST_CURRENT_TEST):
    then its function fixtures run between one test's end and the next
    one's start, outside the test."""
    return bool(environment_value(PYTEST_TEST_VARIABLE))
