#!/usr/bin/env python
"""What the per-test process-state check and network guard cost, as a share
of the per-test time of a typical test.

Per test, the library snapshots the process state (os.environ, the working
directory, sys.path, every logger's level/handlers/disabled flag, the
signal handlers, the threads) and compares it afterwards, and sets the
network guard's owner. This script times exactly that (nothing changed,
the passing path) in a loop, and a typical test (sign in, POST, GET on the
notes test app) in real inner runs, both in CPU time of this process, and
prints their ratio per round and the median.

    .venv/bin/python bench/process_state_cost.py [--tests 200] [--repeats 5]
"""
import argparse
import io
import os
import statistics
import sys
import time
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("APP_ENV", "test")

from proper_unittest.isolation import network as network_guard  # noqa: E402
from proper_unittest.isolation.process_state import ProcessState, report  # noqa: E402
from bench.isolation_cost import make_case  # noqa: E402


def per_test_seconds(tests: int) -> float:
    """CPU seconds per typical test, from an inner run of `tests` tests."""
    suite = unittest.TestLoader().loadTestsFromTestCase(make_case(tests))
    started = time.process_time()
    result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(suite)
    elapsed = time.process_time() - started
    assert result.wasSuccessful(), result.errors + result.failures
    return elapsed / tests


def guard_seconds(rounds: int) -> float:
    """CPU seconds of one test's process-state check and guard hand-over."""
    started = time.process_time()
    for _ in range(rounds):
        state = ProcessState()
        leave = network_guard.enter("bench", allow_all=False)
        leave()
        report("bench", state, strict=False)
    return (time.process_time() - started) / rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    per_test_seconds(20)  # warm up: schema, imports
    ratios = []
    for round_number in range(1, args.repeats + 1):
        test = per_test_seconds(args.tests)
        guard = guard_seconds(args.tests * 5)
        ratios.append(guard / test)
        print(f"round {round_number}: typical test {test * 1000:.2f} ms, check {guard * 1e6:.1f} us, "
              f"{guard / test:.2%}")
    print(f"median: {statistics.median(ratios):.2%} (range {min(ratios):.2%}-{max(ratios):.2%}) of the per-test time")


if __name__ == "__main__":
    main()
