"""Temporary changes to the app's config and cache, undone afterwards.

Both work as a context manager, as a decorator of a test method (sync or
async) and as a decorator of a whole TestCase class.
"""
import functools
import inspect

from proper import current
from proper.cache.sqlite_cache import SqliteCache


class _AppOverride:
    """Base of the overrides: finds the app, and adapts `apply`/`restore`
    to the three ways of use."""

    def __init__(self, app=None) -> None:
        self.app = app
        self._saved = []

    def apply(self, app):  # pragma: no cover - abstract
        """Make the change on `app`; return what :meth:`restore` needs."""
        raise NotImplementedError

    def restore(self, app, saved) -> None:  # pragma: no cover - abstract
        """Undo :meth:`apply`."""
        raise NotImplementedError

    def entered(self, app, saved):
        """What ``with ... as value`` gets; by default the app."""
        return app

    def __enter__(self):
        app = self.app or current.app
        saved = self.apply(app)
        self._saved.append((app, saved))
        return self.entered(app, saved)

    def __exit__(self, *exc_info) -> None:
        app, saved = self._saved.pop()
        self.restore(app, saved)

    def __call__(self, target):
        if inspect.isclass(target):
            return self._decorate_class(target)
        if inspect.iscoroutinefunction(target):
            @functools.wraps(target)
            async def async_wrapper(*args, **kwargs):
                with self._bound_to(args):
                    return await target(*args, **kwargs)
            return async_wrapper

        @functools.wraps(target)
        def wrapper(*args, **kwargs):
            with self._bound_to(args):
                return target(*args, **kwargs)
        return wrapper

    def _bound_to(self, args):
        # Decorating a test method: use the test case's own app.
        test_app = getattr(args[0], "app", None) if args else None
        if self.app is None and test_app is not None and not isinstance(test_app, str):
            return self._clone(test_app)
        return self

    def _clone(self, app):
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__, app=app, _saved=[])
        return clone

    def _decorate_class(self, cls):
        original_setup = cls.setUp

        def setUp(test):
            override = self._bound_to((test,))
            override.__enter__()
            test.addCleanup(override.__exit__, None, None, None)
            original_setup(test)

        cls.setUp = setUp
        return cls


class override_config(_AppOverride):
    """Change app config values: ``with override_config(DEBUG=True) as config:``
    or ``@override_config(FEATURE_X=True)``. As a context manager it gives
    the app's config (``app.config``, the changed values in place). Keys not
    in the config before are removed afterwards."""

    def __init__(self, app=None, **values) -> None:
        super().__init__(app)
        self.values = values

    def apply(self, app):
        config = app.config
        saved = {key: config[key] for key in self.values if key in config}
        for key, value in self.values.items():
            dict.__setitem__(config, key, value)
        return saved

    def entered(self, app, saved):
        """The app's config."""
        return app.config

    def restore(self, app, saved) -> None:
        for key in self.values:
            if key in saved:
                dict.__setitem__(app.config, key, saved[key])
            else:
                app.config.pop(key, None)


class override_cache(_AppOverride):
    """Use a real cache for a while: by default a fresh in-memory
    ``SqliteCache``, or the cache object given. Controllers and templates
    (``app_cache``) both see it; the app's own cache comes back afterwards.
    As a context manager it gives the cache in use:
    ``with override_cache() as cache: ... cache.get("key")``."""

    def __init__(self, cache=None, *, app=None) -> None:
        super().__init__(app)
        self.cache = cache

    def apply(self, app):
        saved = (app.cache, getattr(app.catalog.jinja_env, "app_cache", None))
        cache = self.cache
        if cache is None:
            cache = SqliteCache(":memory:")
            cache.made_by_override_cache = True
        set_app_cache(app, cache)
        return saved + (cache,)

    def entered(self, app, saved):
        """The cache in use inside the block."""
        return saved[-1]

    def restore(self, app, saved) -> None:
        previous, previous_template_cache, used = saved
        set_app_cache(app, previous, previous_template_cache)
        close_if_ours(used)


def close_if_ours(cache) -> None:
    """Close a cache that :class:`override_cache` made (not one it was given)."""
    if getattr(cache, "made_by_override_cache", False):
        cache.close()


def set_app_cache(app, cache, template_cache=None) -> None:
    """Point the app and its templates at `cache`."""
    app.cache = cache
    app.catalog.jinja_env.app_cache = template_cache if template_cache is not None else cache
    # Every SqliteCache binds the same module-level model to its own
    # database: bind it back to the cache in use.
    if isinstance(cache, SqliteCache):
        for model in cache.models:
            model.bind(cache.database)
