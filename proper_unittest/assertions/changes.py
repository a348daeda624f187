"""assertChanges / assertNoChanges: how a value moves across a block."""
import copy
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from proper_unittest.assertions._base import TestCaseMixin


_UNSET: Any = object()


class ChangeAssertions(TestCaseMixin):
    """Assertions about a value computed before and after a block."""

    @contextmanager
    def assertChanges(self, expr: Callable[[], Any], by: Any = _UNSET, from_: Any = _UNSET, to: Any = _UNSET,
                      msg: Any = None) -> Iterator[None]:
        """Context manager: assert ``expr()`` changes across the block.

        ``by`` is the expected difference (``after - before``), ``from_`` the
        value before and ``to`` the value after; any may be combined. The
        value must change, unless ``by`` is given (then the difference
        decides: ``by=0`` passes on no change). With none of them, any
        change passes. The value before is a deep copy, so a list or dict
        changed in place counts as changed::

            with self.assertChanges(lambda: Photo.select().count(), by=1):
                self.client.post("/photos", body={"title": "Sunset"})
        """
        _check_callable(expr, "assertChanges")
        before = _snapshot(expr())
        if from_ is not _UNSET and before != from_:
            self.fail(self._formatMessage(
                msg, f"Expected {_describe(expr)} to be {from_!r} before the block, it was {before!r}."
            ))
        yield
        after = expr()
        problems = []
        if by is not _UNSET:
            difference = _difference(expr, before, after)
            if difference != by:
                problems.append(f"expected a change by {by!r}, it changed by {difference!r}")
        if to is not _UNSET and after != to:
            problems.append(f"expected it to become {to!r}")
        if by is _UNSET and after == before:
            problems.append("expected it to change")
        if problems:
            self.fail(self._formatMessage(
                msg, f"{_describe(expr)}: {'; '.join(problems)}.\n"
                     f"Before the block: {before!r}\nAfter the block:  {after!r}"
            ))

    @contextmanager
    def assertNoChanges(self, expr: Callable[[], Any], msg: Any = None) -> Iterator[None]:
        """Context manager: assert ``expr()`` is equal before and after the
        block (the value before is a deep copy: see :meth:`assertChanges`)."""
        _check_callable(expr, "assertNoChanges")
        before = _snapshot(expr())
        yield
        after = expr()
        if after != before:
            self.fail(self._formatMessage(
                msg, f"{_describe(expr)}: expected no change.\n"
                     f"Before the block: {before!r}\nAfter the block:  {after!r}"
            ))


def _snapshot(value: Any) -> Any:
    """A deep copy of `value`, so that a change made to it in place shows;
    the value itself when it cannot be copied."""
    try:
        return copy.deepcopy(value)
    except Exception:  # deepcopy raises what each type's __deepcopy__/__reduce__ does
        return value


def _check_callable(expr: object, name: str) -> None:
    if not callable(expr):
        raise TypeError(
            f"{name}() takes a callable that computes the value, got {expr!r}: "
            f"write {name}(lambda: Photo.select().count()), not {name}(Photo.select().count())."
        )


def _difference(expr: Callable[[], Any], before: Any, after: Any) -> Any:
    try:
        return after - before
    except TypeError:
        raise TypeError(
            f"assertChanges(by=...) needs values that can be subtracted; {_describe(expr)} "
            f"gave {before!r} then {after!r}: use from_= and to= instead."
        ) from None


def _describe(expr: Callable[[], Any]) -> str:
    """The lambda's source (``Photo.select().count()``) or the callable's name."""
    name = getattr(expr, "__name__", None)
    if name == "<lambda>":
        try:
            source = inspect.getsource(expr).strip()
        except (OSError, TypeError):
            source = ""
        start = source.find("lambda")
        if start >= 0:
            text = source[start:].split(":", 1)[-1].strip()
            text = _balanced(text)
            if text:
                return text
        return "the lambda's value"
    return f"{getattr(expr, '__qualname__', None) or repr(expr)}()"


def _balanced(text: str) -> str:
    """Cut `text` where the lambda's body ends (at an unmatched closer or a
    comma outside brackets)."""
    depth = 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                return text[:index].strip()
            depth -= 1
        elif char == "," and depth == 0:
            return text[:index].strip()
    return text.strip()
