"""``--shard K/N``: a deterministic share of whole test classes.

Classes are weighed by the durations recorded for their tests (a test with
no recorded duration weighs the mean of those recorded; without any, every
test weighs 1, so classes are balanced by test count), then dealt heaviest
first, ties by name, each to the lightest shard so far.  The same tests and
durations give the same shards on every machine; each test is in exactly
one shard, and a shard keeps the run's order.
"""

import argparse
import re
import unittest
from collections.abc import Mapping, Sequence

_SHARD = re.compile(r"(\d+)/(\d+)\Z")


def parse_shard(text: str) -> tuple[int, int]:
    """Return ``(K, N)`` for ``K/N`` with 1 <= K <= N (argparse type)."""
    match = _SHARD.match(text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N (e.g. 2/4), got {text!r}")
    return int(match[1]), int(match[2])


def class_key(test: unittest.TestCase) -> str:
    """Return the class a test belongs to, as ``module.Class``."""
    cls = type(test)
    return f"{cls.__module__}.{cls.__qualname__}"


def plan_shards(
    tests: Sequence[unittest.TestCase], count: int, durations: Mapping[str, float]
) -> tuple[dict[str, int], list[float]]:
    """Return ``({class key: shard index 0..count-1}, [weight per shard])``."""
    known = [durations[test.id()] for test in tests if test.id() in durations]
    default = sum(known) / len(known) if known else 1.0
    weights: dict[str, float] = {}
    for test in tests:
        key = class_key(test)
        weights[key] = weights.get(key, 0.0) + durations.get(test.id(), default)
    loads = [0.0] * count
    shard_of: dict[str, int] = {}
    for key in sorted(weights, key=lambda key: (-weights[key], key)):
        shard = loads.index(min(loads))
        loads[shard] += weights[key]
        shard_of[key] = shard
    return shard_of, loads


def shard_tests(
    tests: Sequence[unittest.TestCase], index: int, count: int, durations: Mapping[str, float]
) -> list[unittest.TestCase]:
    """Return the tests of shard *index* (1-based) of *count*, in the order of *tests*."""
    shard_of, _ = plan_shards(tests, count, durations)
    return [test for test in tests if shard_of[class_key(test)] == index - 1]
