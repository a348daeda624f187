"""Order, select and split the tests of a suite.

Reordering never splits a test class (so ``setUpClass`` runs once) nor a
module (so ``setUpModule`` runs once): modules, the classes within each
module and the tests within each class are reordered, each as a block.
"""

import random
import unittest
from collections.abc import Iterable, Iterator, Mapping, Sequence


def iter_tests(suite: unittest.TestSuite) -> Iterator[unittest.TestCase]:
    """Yield the individual tests of a (possibly nested) suite, in order."""
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from iter_tests(item)
        else:
            yield item


def group_tests(tests: Iterable[unittest.TestCase]) -> list[list[list[unittest.TestCase]]]:
    """Group *tests* as ``[[[test, ...] per class] per module]``, keeping first-seen order."""
    modules: dict[str, dict[type[unittest.TestCase], list[unittest.TestCase]]] = {}
    for test in tests:
        cls = type(test)
        modules.setdefault(cls.__module__, {}).setdefault(cls, []).append(test)
    return [list(classes.values()) for classes in modules.values()]


def ungroup(groups: list[list[list[unittest.TestCase]]]) -> list[unittest.TestCase]:
    """Flatten the result of :func:`group_tests` back to a list of tests."""
    return [test for classes in groups for tests in classes for test in tests]


def shuffle_tests(tests: Iterable[unittest.TestCase], seed: int) -> list[unittest.TestCase]:
    """Return *tests* in a random order, reproducible with the same *seed*."""
    rng = random.Random(seed)
    groups = group_tests(tests)
    rng.shuffle(groups)
    for classes in groups:
        rng.shuffle(classes)
        for class_tests in classes:
            rng.shuffle(class_tests)
    return ungroup(groups)


def reverse_tests(tests: Iterable[unittest.TestCase]) -> list[unittest.TestCase]:
    """Return *tests* in reverse order (modules, classes and tests each reversed)."""
    groups = group_tests(tests)
    for classes in groups:
        for class_tests in classes:
            class_tests.reverse()
        classes.reverse()
    groups.reverse()
    return ungroup(groups)


def class_key(test: unittest.TestCase) -> str:
    """Return the class a test belongs to, as ``module.Class``."""
    cls = type(test)
    return f"{cls.__module__}.{cls.__qualname__}"


def partition_tests(
    tests: Sequence[unittest.TestCase], count: int, seconds: Mapping[str, float] | None = None,
) -> list[list[unittest.TestCase]]:
    """Split *tests* into *count* lists balanced by *seconds*, a test class never being split.

    The one algorithm of ``--shard`` and ``--parallel``.  A class weighs the
    recorded *seconds* of its tests (a test with no record weighs the mean
    of those recorded; with no records, every test weighs 1, so classes are
    balanced by test count).  Classes are dealt heaviest first, ties by
    name: one to each list, then each to the lightest list so far.  The
    same tests and seconds give the same lists on every machine; each list
    keeps the order of *tests*, and is empty when there are fewer classes
    than lists.
    """
    records = seconds or {}
    known = [records[test.id()] for test in tests if test.id() in records]
    default = sum(known) / len(known) if known else 1.0
    weights: dict[str, float] = {}
    for test in tests:
        key = class_key(test)
        weights[key] = weights.get(key, 0.0) + records.get(test.id(), default)
    loads = [0.0] * count
    part_of: dict[str, int] = {}
    for index, key in enumerate(sorted(weights, key=lambda key: (-weights[key], key))):
        # Every list gets a class before any gets a second one.
        part = index if index < count else loads.index(min(loads))
        loads[part] += weights[key]
        part_of[key] = part
    parts: list[list[unittest.TestCase]] = [[] for _ in range(count)]
    for test in tests:
        parts[part_of[class_key(test)]].append(test)
    return parts


def select_by_id(
    tests: Iterable[unittest.TestCase], ids: Iterable[str]
) -> tuple[list[unittest.TestCase], list[str]]:
    """Return ``(selected, missing_ids)``: the tests whose ``id()`` is in *ids*, in *ids* order."""
    by_id: dict[str, list[unittest.TestCase]] = {}
    for test in tests:
        by_id.setdefault(test.id(), []).append(test)
    selected: list[unittest.TestCase] = []
    missing: list[str] = []
    for test_id in ids:
        candidates = by_id.get(test_id)
        if candidates:
            selected.append(candidates.pop(0))
        else:
            missing.append(test_id)
    return selected, missing
