"""Each test class's own copy of the context (``current.*`` and other
context variables), so what its set-up hooks set never reaches another class.

``setUpClass`` (and with it ``load_fixtures()`` and ``setUpTestData()``)
runs in a fresh copy of the context; ``tearDownClass`` runs in the same
copy; each test of the class runs in a copy of it. So a test sees what the
class set-up put in ``current``, and nothing of it outlives the class.
"""
import contextvars
import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

_Hook = TypeVar("_Hook", bound=Callable[..., Any])

# Only wraps the class hooks: unittest and pytest leave these frames out of
# tracebacks, as they do testcase.py's.
__unittest = True
__tracebackhide__ = True

# Which class's context the code is running in, so that nested hooks
# (``super().setUpClass()``) do not start another copy.
_owner: contextvars.ContextVar[type | None] = contextvars.ContextVar(
    "proper_unittest_class_context_owner", default=None
)


def runs_inside(hook: _Hook) -> _Hook:
    """Wrap a ``setUpClass``/``tearDownClass`` function (taking ``cls``) so
    it runs in the class's own context copy; ``setUpClass`` starts it."""

    @functools.wraps(hook)
    def run_hook(cls: type, *args: Any, **kwargs: Any) -> Any:
        if _owner.get() is cls:
            return hook(cls, *args, **kwargs)
        context = vars(cls).get("_class_context")
        if context is None or hook.__name__ == "setUpClass":
            context = contextvars.copy_context()
            type.__setattr__(cls, "_class_context", context)
        return context.run(_run_as, cls, hook, args, kwargs)

    setattr(run_hook, "__proper_class_context__", True)
    return cast(_Hook, run_hook)


def for_test(cls: type) -> contextvars.Context:
    """A fresh copy of `cls`'s context for one test (or of the current
    context when the class set-up has not run)."""
    context: contextvars.Context | None = vars(cls).get("_class_context")
    return context.copy() if context is not None else contextvars.copy_context()


def forget(cls: type) -> None:
    """Drop `cls`'s context once the class is done."""
    if "_class_context" in vars(cls):
        type.__delattr__(cls, "_class_context")


def _run_as(cls: type, hook: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    _owner.set(cls)
    return hook(cls, *args, **kwargs)
