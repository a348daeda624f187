"""Temporary changes to the app's config and cache, undone afterwards.

Both work as a context manager, as a decorator of a test method (sync or
async) and as a decorator of a whole TestCase class.
"""
import functools
import inspect
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast

from proper import current
from proper.cache.sqlite_cache import SqliteCache


#: What a decorated function, method or class is; the decorator keeps its type.
_Target = TypeVar("_Target", bound=Callable[..., Any])
#: What ``with override as value`` gives.
_Entered = TypeVar("_Entered")


class _AppOverride(Generic[_Entered]):
    """Base of the overrides: finds the app, and adapts `apply`/`restore`
    to the three ways of use."""

    def __init__(self, app: Any = None) -> None:
        self.app = app
        self._saved: list[tuple[Any, Any]] = []

    def apply(self, app: Any) -> Any:  # pragma: no cover - abstract
        """Make the change on `app`; return what :meth:`restore` needs."""
        raise NotImplementedError

    def restore(self, app: Any, saved: Any) -> None:  # pragma: no cover - abstract
        """Undo :meth:`apply`."""
        raise NotImplementedError

    def entered(self, app: Any, saved: Any) -> _Entered:
        """What ``with ... as value`` gets; by default the app."""
        return cast(_Entered, app)

    def __enter__(self) -> _Entered:
        app = self.app or current.app
        saved = self.apply(app)
        self._saved.append((app, saved))
        return self.entered(app, saved)

    def __exit__(self, *exc_info: object) -> None:
        app, saved = self._saved.pop()
        self.restore(app, saved)

    def __call__(self, target: _Target) -> _Target:
        """Decorate a test method (sync or async) or a TestCase class; the
        decorated object keeps its type."""
        if inspect.isclass(target):
            return cast(_Target, self._decorate_class(target))
        if inspect.iscoroutinefunction(target):
            @functools.wraps(target)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with self._bound_to(args):
                    return await target(*args, **kwargs)
            return cast(_Target, async_wrapper)

        @functools.wraps(target)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self._bound_to(args):
                return target(*args, **kwargs)
        return cast(_Target, wrapper)

    def _bound_to(self, args: tuple[Any, ...]) -> "_AppOverride[_Entered]":
        # Decorating a test method: use the test case's own app.
        test_app = getattr(args[0], "app", None) if args else None
        if self.app is None and test_app is not None and not isinstance(test_app, str):
            return self._clone(test_app)
        return self

    def _clone(self, app: Any) -> "_AppOverride[_Entered]":
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__, app=app, _saved=[])
        return clone

    def _decorate_class(self, cls: type[Any]) -> type[Any]:
        original_setup = cls.setUp

        def setUp(test: Any) -> None:
            override = self._bound_to((test,))
            override.__enter__()
            test.addCleanup(override.__exit__, None, None, None)
            original_setup(test)

        cls.setUp = setUp
        return cls


class override_config(_AppOverride[Any]):
    """Change app config values: ``with override_config(DEBUG=True) as config:``
    or ``@override_config(FEATURE_X=True)``. As a context manager it gives
    the app's config (``app.config``, the changed values in place). Keys not
    in the config before are removed afterwards."""

    def __init__(self, app: Any = None, **values: Any) -> None:
        super().__init__(app)
        self.values = values

    def apply(self, app: Any) -> dict[str, Any]:
        config = app.config
        saved = {key: config[key] for key in self.values if key in config}
        for key, value in self.values.items():
            dict.__setitem__(config, key, value)
        return saved

    def entered(self, app: Any, saved: Any) -> Any:
        """The app's config (Proper's config object)."""
        return app.config

    def restore(self, app: Any, saved: Any) -> None:
        for key in self.values:
            if key in saved:
                dict.__setitem__(app.config, key, saved[key])
            else:
                app.config.pop(key, None)


class override_cache(_AppOverride[Any]):
    """Use a real cache for a while: by default a fresh in-memory
    ``SqliteCache``, or the cache object given. Controllers and templates
    (``app_cache``) both see it; the app's own cache comes back afterwards.
    As a context manager it gives the cache in use:
    ``with override_cache() as cache: ... cache.get("key")``."""

    def __init__(self, cache: Any = None, *, app: Any = None) -> None:
        super().__init__(app)
        self.cache = cache

    def apply(self, app: Any) -> tuple[Any, Any, Any]:
        saved = (app.cache, getattr(app.catalog.jinja_env, "app_cache", None))
        cache = self.cache
        if cache is None:
            cache = SqliteCache(":memory:")
            cache.made_by_override_cache = True
        set_app_cache(app, cache)
        return saved + (cache,)

    def entered(self, app: Any, saved: Any) -> Any:
        """The cache in use inside the block."""
        return saved[-1]

    def restore(self, app: Any, saved: Any) -> None:
        previous, previous_template_cache, used = saved
        set_app_cache(app, previous, previous_template_cache)
        close_if_ours(used)


def close_if_ours(cache: Any) -> None:
    """Close a cache that :class:`override_cache` made (not one it was given)."""
    if getattr(cache, "made_by_override_cache", False):
        cache.close()


def set_app_cache(app: Any, cache: Any, template_cache: Any = None) -> None:
    """Point the app and its templates at `cache`."""
    app.cache = cache
    app.catalog.jinja_env.app_cache = template_cache if template_cache is not None else cache
    # Every SqliteCache binds the same module-level model to its own
    # database: bind it back to the cache in use.
    if isinstance(cache, SqliteCache):
        for model in cache.models:
            model.bind(cache.database)
