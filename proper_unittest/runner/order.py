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


def partition_tests(
    tests: Sequence[unittest.TestCase], count: int,
    seconds: Mapping[str, float] | None = None, head_start: float = 0.0,
) -> list[list[unittest.TestCase]]:
    """Split *tests* into at most *count* lists, a test class never being split.

    Classes are dealt heaviest first: one to each list, then each to the
    list with the least work so far. A class weighs the recorded *seconds* of its tests (a test with
    no record counts as the mean of those recorded) or, with no records,
    its number of tests. With records, the first list starts *head_start*
    seconds behind the others: it goes to a process that is running already
    while the others start. Each list keeps the order of *tests*; empty
    lists are dropped.
    """
    classes = [class_tests for module in group_tests(tests) for class_tests in module]
    records = seconds or {}
    known = [records[test.id()] for test in tests if test.id() in records]
    default = sum(known) / len(known) if known else 1.0

    def weight(class_tests: list[unittest.TestCase]) -> float:
        if not known:
            return len(class_tests)
        return sum(records.get(test.id(), default) for test in class_tests)

    loads = [0.0] * count
    if known:
        loads[0] = -head_start
    worker_of: dict[type[unittest.TestCase], int] = {}
    for index, class_tests in enumerate(sorted(classes, key=weight, reverse=True)):
        # Every list gets a class before any gets a second one.
        worker = index if index < count else loads.index(min(loads))
        loads[worker] += weight(class_tests)
        worker_of[type(class_tests[0])] = worker
    parts: list[list[unittest.TestCase]] = [[] for _ in range(count)]
    for test in tests:
        parts[worker_of[type(test)]].append(test)
    return [part for part in parts if part]


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
