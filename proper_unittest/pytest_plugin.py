"""pytest plugin: the library's test classes beside Proper's generated conftest.

Proper generates a ``tests/conftest.py`` with a session fixture ``db_setup``
(drops and creates the tables) and an autouse ``db_reset`` (a transaction
around each test, rolled back). Around a ``ProperTestCase`` test, which
manages its own class transaction and savepoints, that transaction makes
every test fail ("no such savepoint"). This plugin, registered through the
``pytest11`` entry point, removes those fixtures, and every autouse fixture
that needs them, from the library's test items only: the generated
pytest-style tests keep them and run unchanged in the same session.

Before such a fixture runs for a pytest-style test, the library claims the
app's test databases (its safety checks, creating a missing server
database, its marker): the generated ``db_setup`` then drops and creates
tables in a database the library's classes may use too, whichever runs
first. The names come from the ini option ``proper_unittest_skip_fixtures``
(default: ``db_reset`` and ``db_setup``).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest


SKIP_OPTION = "proper_unittest_skip_fixtures"
DEFAULT_SKIPPED = ["db_reset", "db_setup"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the ini option naming the fixtures the library's classes skip."""
    parser.addini(
        SKIP_OPTION,
        "fixtures (and the autouse fixtures needing them) not run around "
        "proper_unittest test classes, which manage the database themselves",
        type="linelist",
        default=list(DEFAULT_SKIPPED),
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drop the skipped fixtures from the closure of each library test item."""
    from proper_unittest.testcase import _ProperTestMixin

    skipped = set(config.getini(SKIP_OPTION))
    library_classes: list[type[Any]] = []
    for item in items:
        cls = getattr(item, "cls", None)
        if not (isinstance(cls, type) and issubclass(cls, _ProperTestMixin)):
            continue
        library_classes.append(cls)
        # pytest keeps an item's fixtures in its (private) FuncFixtureInfo:
        # ``names_closure`` is what setup fills, in order; it is the same
        # list as ``item.fixturenames``.
        info = getattr(item, "_fixtureinfo", None)
        if info is None:
            continue
        keep = _closure_without(info.initialnames, info.name2fixturedefs, skipped)
        info.names_closure[:] = [name for name in info.names_closure if name in keep]
    config.stash[_FIRST_CLASS] = library_classes[0] if library_classes else None


_FIRST_CLASS = pytest.StashKey["type[Any] | None"]()


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[Any], request: pytest.FixtureRequest) -> None:
    """Claim the app's test databases before a skipped fixture (the
    generated ``db_setup``) runs for a pytest-style test."""
    if fixturedef.argname not in set(request.config.getini(SKIP_OPTION)):
        return
    cls = request.config.stash.get(_FIRST_CLASS, None)
    if cls is None:
        return
    from proper_unittest.databases.provision import claim_app_databases
    from proper_unittest.discovery import app_for
    from proper_unittest.errors import ConfigurationError

    try:
        claim_app_databases(app_for(cls), f"{fixturedef.argname} (pytest fixture)")
    except ConfigurationError as error:
        raise error.with_traceback(None)  # the message says it all


def _closure_without(
    roots: Iterable[str],
    definitions: Mapping[str, Sequence[Any]],
    skipped: set[str],
) -> set[str]:
    """The fixtures reachable from ``roots``, leaving out the skipped ones and
    every fixture that needs one of them (directly or through others)."""
    def needs(name: str) -> tuple[str, ...]:
        defs = definitions.get(name)
        return tuple(defs[-1].argnames) if defs else ()

    def needs_skipped(name: str, seen: frozenset[str] = frozenset()) -> bool:
        if name in skipped:
            return True
        return any(needs_skipped(child, seen | {name}) for child in needs(name) if child not in seen)

    keep: set[str] = set()
    pending = [name for name in roots if not needs_skipped(name)]
    while pending:
        name = pending.pop()
        if name not in keep:
            keep.add(name)
            pending.extend(needs(name))
    return keep
