"""``--shard K/N``: a deterministic share of whole test classes.

The shares are :func:`~.order.partition_tests`'s, balanced by the durations
recorded in ``.proper_unittest/durations.json`` (by test count without
any): the same tests and durations give the same shards on every machine;
each test is in exactly one shard, and a shard keeps the run's order.
"""

import argparse
import re
import unittest
from collections.abc import Mapping, Sequence

from .order import partition_tests

_SHARD = re.compile(r"(\d+)/(\d+)\Z")


def parse_shard(text: str) -> tuple[int, int]:
    """Return ``(K, N)`` for ``K/N`` with 1 <= K <= N (argparse type)."""
    match = _SHARD.match(text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise argparse.ArgumentTypeError(f"expected K/N with 1 <= K <= N (e.g. 2/4), got {text!r}")
    return int(match[1]), int(match[2])


def shard_tests(
    tests: Sequence[unittest.TestCase], index: int, count: int, durations: Mapping[str, float]
) -> list[unittest.TestCase]:
    """Return the tests of shard *index* (1-based) of *count*, in the order of *tests*."""
    return partition_tests(tests, count, durations)[index - 1]
