"""Opting in to what tests are otherwise refused: outside services and the network.

A test class lists what it may use in ``allow_outside`` (a tuple of the
names below); a project lists them in its config, ``allow_outside =
cache network`` in setup.cfg's ``[proper_unittest]`` (or a list in
pyproject.toml's ``[tool.proper_unittest]``). A single test opts in to the
network with :func:`~proper_unittest.isolation.network.allow_network`.
"""
import re
from collections.abc import Collection

from proper_unittest.discovery import project_option
from proper_unittest.errors import ConfigurationError

#: What can be opted in to: a storage service that is not on local disk,
#: a server-backed cache, queue or cable, connections to other hosts.
OPT_INS = ("storage", "cache", "queue", "cable", "network")
#: The class attribute and the project config key.
SETTING = "allow_outside"


def allowed(test_class: type, what: str) -> bool:
    """True when `test_class` (or its project) opted in to `what`."""
    return what in opted_in(test_class)


def opted_in(test_class: type) -> frozenset[str]:
    """Everything `test_class` and its project opted in to. An unknown
    name is a :class:`ConfigurationError` naming the valid ones."""
    own: Collection[str] = getattr(test_class, SETTING, ()) or ()
    if isinstance(own, str):
        own = own.split()
    names = set(_checked(own, f"{test_class.__qualname__}.{SETTING}"))
    found = project_option(test_class, SETTING)
    if found is not None:
        value, config_file = found
        names.update(_checked(re.split(r"[\s,]+", value.strip()), f"{SETTING} in {config_file}"))
    return frozenset(names)


def _checked(names: Collection[str], where: str) -> list[str]:
    names = [name for name in names if name]
    unknown = [name for name in names if name not in OPT_INS]
    if unknown:
        raise ConfigurationError(
            f"{where} names {', '.join(map(repr, unknown))}: the names it takes are "
            f"{', '.join(OPT_INS)}."
        )
    return names
