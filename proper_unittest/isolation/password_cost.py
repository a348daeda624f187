"""Password hashing at its scheme's minimum cost while testing.

A production password hash is slow on purpose (argon2 at Passlib's defaults
takes about 100 ms), and a test suite pays it for every user it creates,
every sign-in and the decoy hash Proper's ``Auth`` makes when the app is
built. Under APP_ENV=test the app's hasher keeps its scheme and uses that
scheme's minimum cost instead (argon2 ``t=1, m=8 KiB, p=1``; bcrypt and
PBKDF2 their minimum rounds). Verifying is unchanged: a hash carries its own
cost, so hashes made at any cost (fixtures, production dumps) still verify.

:func:`install` makes ``Auth`` start at the minimum cost, before its first
hash; :func:`cost_for_class` gives a class that sets
``fast_password_hashing = False`` (or a project that does) the app's own
cost back for its tests.
"""
import functools
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import passlib.hash
from passlib.context import CryptContext

from proper_unittest.discovery import env_switch, project_setting, switch
from proper_unittest.errors import ConfigurationError


SETTING = "fast_password_hashing"
ENV_VAR = "PROPER_UNITTEST_FAST_PASSWORD_HASHING"
# Argon2's minimum memory is 8 KiB per lane; one lane.
_ARGON2_MIN_COST = {"memory_cost": 8, "parallelism": 1}


@dataclass
class _Costs:
    """An ``Auth``'s hasher and decoy hash at the app's cost and at the
    minimum cost (each decoy made when first needed)."""
    app_hasher: CryptContext
    fast_hasher: CryptContext
    app_decoy: str | None = None
    fast_decoy: str | None = None

    def decoy(self, fast: bool) -> str:
        """The decoy hash at the minimum cost (`fast`) or at the app's, made
        when first needed."""
        if fast:
            if self.fast_decoy is None:
                self.fast_decoy = self.fast_hasher.hash("!")
            return self.fast_decoy
        if self.app_decoy is None:
            self.app_decoy = self.app_hasher.hash("!")
        return self.app_decoy


# id(auth) -> (auth, its costs); ``Auth`` has __slots__ and no weakref slot.
_known: dict[int, tuple[Any, _Costs]] = {}


def env_allows() -> bool:
    """False when PROPER_UNITTEST_FAST_PASSWORD_HASHING switches it off
    (``0``, ``false``, ``no``, ``off``)."""
    return env_switch(ENV_VAR) is not False


def at_minimum_cost(hasher: CryptContext) -> CryptContext:
    """A copy of `hasher` whose default scheme hashes at its minimum cost;
    it verifies everything `hasher` verifies."""
    scheme = hasher.default_scheme()
    handler = hasher.handler()
    settings: dict[str, Any] = {}
    if getattr(handler, "min_rounds", None) is not None:
        settings[f"{scheme}__default_rounds"] = handler.min_rounds
    if scheme == "argon2":
        settings.update({f"argon2__{name}": value for name, value in _ARGON2_MIN_COST.items()})
    return hasher.copy(**settings) if settings else hasher


_ABSENT = object()


@contextmanager
def _cheap_class_defaults(handler: Any) -> Iterator[None]:
    """Passlib's `handler` class hashes at its minimum cost inside the
    block (Proper hashes "test" with it to check the backend is installed)."""
    lowered: dict[str, Any] = {}
    if getattr(handler, "min_rounds", None) is not None:
        lowered["default_rounds"] = handler.min_rounds
    if handler is not None and handler is passlib.hash.argon2:
        lowered.update(_ARGON2_MIN_COST)
    saved = {name: vars(handler).get(name, _ABSENT) for name in lowered}
    try:
        for name, value in lowered.items():
            setattr(handler, name, value)
        yield
    finally:
        for name, value in saved.items():
            if value is _ABSENT:
                delattr(handler, name)
            else:
                setattr(handler, name, value)


def install() -> None:
    """Make every ``proper.auth.Auth`` built while APP_ENV is ``test`` (and
    the environment variable allows it) hash at the minimum cost from the
    start, its decoy hash included. Idempotent."""
    from proper.auth.auth import Auth

    original = Auth._set_hasher
    if getattr(original, "__proper_unittest__", False):
        return

    @functools.wraps(original)
    def _set_hasher(self: Any, hash_name: str, rounds: int | None = None) -> None:
        if os.environ.get("APP_ENV") != "test" or not env_allows():
            original(self, hash_name, rounds)
            return
        handler = getattr(passlib.hash, hash_name.replace("-", "_"), None)
        if rounds is None and handler is not None:
            rounds = getattr(handler, "default_rounds", None)  # the app's cost, read before lowering it
        with _cheap_class_defaults(handler):
            original(self, hash_name, rounds)
        self.hasher = remember(self, app_hasher=self.hasher).costs.fast_hasher

    setattr(_set_hasher, "__proper_unittest__", True)
    Auth._set_hasher = _set_hasher


class _Switch:
    """Switches one ``Auth`` between its two costs."""

    def __init__(self, costs: _Costs) -> None:
        self.costs = costs

    def use_fast(self, auth: Any) -> None:
        """The minimum cost, hasher and decoy."""
        self._use(auth, self.costs.fast_hasher, fast=True)

    def use_app_cost(self, auth: Any) -> None:
        """The app's own cost, hasher and decoy."""
        self._use(auth, self.costs.app_hasher, fast=False)

    def _use(self, auth: Any, hasher: CryptContext, fast: bool) -> None:
        self._save_decoy(auth)
        auth.hasher = hasher
        auth._decoy_password = self.costs.decoy(fast)

    def _save_decoy(self, auth: Any) -> None:
        decoy = getattr(auth, "_decoy_password", None)
        if decoy is None:
            return  # Auth.__init__ has not made it yet
        if auth.hasher is self.costs.fast_hasher:
            self.costs.fast_decoy = decoy
        elif auth.hasher is self.costs.app_hasher:
            self.costs.app_decoy = decoy


def remember(auth: Any, *, app_hasher: CryptContext) -> _Switch:
    """Record `auth`'s hasher at the app's cost and return its switch."""
    costs = _Costs(app_hasher=app_hasher, fast_hasher=at_minimum_cost(app_hasher))
    _known[id(auth)] = (auth, costs)
    return _Switch(costs)


def _switch_for(auth: Any) -> _Switch:
    """`auth`'s switch; an ``Auth`` built before :func:`install` (the app
    imported before this library) is recorded at its current hasher."""
    known = _known.get(id(auth))
    if known is not None and known[0] is auth:
        costs = known[1]
        if auth.hasher in (costs.app_hasher, costs.fast_hasher):
            return _Switch(costs)
    return remember(auth, app_hasher=auth.hasher)


def wanted(test_class: type) -> bool:
    """Whether `test_class` hashes at the minimum cost: its
    ``fast_password_hashing`` attribute, else the project config's key of
    that name, else the environment variable; on by default."""
    value: Any = getattr(test_class, SETTING, None)
    source = f"{test_class.__qualname__}.{SETTING}"
    if value is None:
        found = project_setting(test_class, SETTING)
        if found is not None:
            value, config_file = found
            source = f"{SETTING} in {config_file}"
    if value is None:
        return env_allows()
    if isinstance(value, bool):
        return value
    answer = switch(value)
    if answer is not None:
        return answer
    raise ConfigurationError(
        f"{source} is {value!r}: use true (hash passwords at the minimum cost, the "
        "default) or false (the app's own cost)."
    )


def cost_for_class(app: Any, fast: bool) -> Callable[[], None]:
    """Put `app`'s hasher at the cost `fast` asks for; return what puts
    it back as it was."""
    auth = getattr(app, "auth", None)
    if auth is None or not hasattr(auth, "hasher"):
        return lambda: None
    known = _known.get(id(auth))
    if not fast and (known is None or known[0] is not auth):
        return lambda: None  # never lowered: it is at the app's cost
    switch = _switch_for(auth)
    was_fast = auth.hasher is switch.costs.fast_hasher
    if was_fast == fast:
        return lambda: None
    (switch.use_fast if fast else switch.use_app_cost)(auth)
    return lambda: (switch.use_fast if was_fast else switch.use_app_cost)(auth)
