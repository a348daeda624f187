"""Comparing JSON-like data (request bodies, broadcasts, task arguments).

Python's ``==`` says ``True == 1 == 1.0``: an API that answers ``1`` where
``true`` was expected would pass. :func:`json_equal` compares the same way
except that a bool equals only a bool. An int still equals a float: JSON
has one number type.
"""
from typing import Any


def json_equal(expected: Any, actual: Any) -> bool:
    """Whether `actual` equals `expected`, recursively, where a bool equals
    only a bool: dicts by their keys, lists and tuples item by item, any
    other value by ``==``."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected == actual
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict) and expected.keys() == actual.keys()
            and all(json_equal(value, actual[key]) for key, value in expected.items())
        )
    if isinstance(expected, (list, tuple)):
        # A list never equals a tuple, as with ==.
        same_kind = isinstance(actual, list) if isinstance(expected, list) else isinstance(actual, tuple)
        return (
            same_kind and len(expected) == len(actual)
            and all(json_equal(item, got) for item, got in zip(expected, actual))
        )
    return bool(expected == actual)
