#!/usr/bin/env python
"""What the isolation guards and the recording cost per test, as ratios.

1. The class-end check for escaped writes: counting the committed rows of the
   library's tables when a class starts and when it ends (``WriteWatch``),
   spread over the tests of a class (10, as in bench/run.py).
2. The async client's context copy: each ``await client.get(...)`` runs as a
   task in a copy of the context instead of directly in the test's context.
3. The per-test recording (requests, SQL for the flight recorder, tasks,
   broadcasts, templates): the same inner run with ``RecordedTestMixin.run``
   as shipped and bypassed, alternated round by round, in CPU time of this
   process (wall time on a shared machine moves by more than the effect).

The per-test time is measured on real inner runs of the notes test app
(``tests/support/apps/notes``): each test signs a user in, POSTs a note and GETs it.
Everything runs in this process, on TEST_DATABASE_URL's database.

    TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/proper_unittest_test \\
        .venv/bin/python bench/isolation_cost.py [--tests 200] [--repeats 5]
"""
import argparse
import asyncio
import contextvars
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

from proper_unittest import ProperTestCase  # noqa: E402
from proper_unittest.databases.leaks import WriteWatch  # noqa: E402
from proper_unittest.testcase import RecordedTestMixin  # noqa: E402
from proper_unittest.client.client import _exchange  # noqa: E402
from proper_unittest.databases.app import app_databases  # noqa: E402
from proper.helpers.asgi import make_test_scope  # noqa: E402
from tests.support.apps.notes.main import Note, User, app  # noqa: E402

TESTS_PER_CLASS = 10


def make_case(tests: int):
    """A ProperTestCase class with `tests` tests doing a typical request cycle."""

    def typical(self):
        user = User.create(name=f"user {self._testMethodName}")
        self.sign_in(user)
        response = self.client.post("/notes", body={"title": self._testMethodName})
        self.assertStatus(response, 303)
        self.assertContains(self.client.get(response.location), self._testMethodName)
        self.assertEqual(Note.select().count(), 1)

    body = {"app": "tests.support.apps.notes.main:app"}
    body.update({f"test_{n:04d}": typical for n in range(tests)})
    return type("Typical", (ProperTestCase,), body)


def per_test_seconds(tests: int, clock=time.perf_counter) -> float:
    """Time (wall, or `clock`) of an inner run of `tests` typical tests, per test."""
    suite = unittest.TestLoader().loadTestsFromTestCase(make_case(tests))
    start = clock()
    result = unittest.TextTestRunner(stream=io.StringIO(), verbosity=0).run(suite)
    elapsed = clock() - start
    if not result.wasSuccessful() or result.testsRun != tests:
        raise SystemExit(f"the typical tests did not all pass: {result}")
    return elapsed / tests


def class_check_seconds(rounds: int) -> float:
    """One class's start and end counts (the check), outside transactions."""
    databases = app_databases(app).values()
    start = time.perf_counter()
    for _ in range(rounds):
        watch = WriteWatch(databases)
        watch.changes()
        watch.close()
    return (time.perf_counter() - start) / rounds


def context_copy_seconds(rounds: int) -> float:
    """Extra time of an async request run as a task in a context copy,
    against the same request awaited directly."""
    scope = make_test_scope("/current", method="GET", params={}, headers=[])

    async def direct():
        start = time.perf_counter()
        for _ in range(rounds):
            await _exchange(app, scope, b"")
        return time.perf_counter() - start

    async def copied():
        start = time.perf_counter()
        for _ in range(rounds):
            await asyncio.create_task(_exchange(app, scope, b""), context=contextvars.copy_context())
        return time.perf_counter() - start

    async def both():
        await direct()  # warm-up
        return await direct(), await copied()

    plain, with_copy = asyncio.run(both())
    return max(with_copy - plain, 0.0) / rounds


def recording_ratios(tests: int, rounds: int) -> list[float]:
    """CPU time per test with the recording as shipped over the same run with
    it bypassed, one ratio per round (the two alternate within a round)."""
    shipped = RecordedTestMixin.run

    def bypassed(self, result=None):
        return super(RecordedTestMixin, self).run(result)

    ratios = []
    for _ in range(rounds):
        with_recording = per_test_seconds(tests, clock=time.process_time)
        RecordedTestMixin.run = bypassed
        try:
            without = per_test_seconds(tests, clock=time.process_time)
        finally:
            RecordedTestMixin.run = shipped
        ratios.append(with_recording / without)
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    per_test_seconds(20)  # warm-up: schema, imports
    per_test = statistics.median(per_test_seconds(args.tests) for _ in range(args.repeats))
    check = statistics.median(class_check_seconds(50) for _ in range(args.repeats))
    app.config.RUN_SYNC = True
    copy_cost = statistics.median(context_copy_seconds(500) for _ in range(args.repeats))

    recording = recording_ratios(args.tests, args.repeats)

    url = os.environ.get("TEST_DATABASE_URL", "sqlite:///:memory:")
    check_per_test = check / TESTS_PER_CLASS
    print(f"database: {url.split(':', 1)[0]}; medians of {args.repeats} runs")
    print(f"per-test time (typical test):         {per_test * 1000:.3f} ms")
    print(f"class-end check, per class:           {check * 1000:.3f} ms "
          f"-> per test ({TESTS_PER_CLASS} per class): {check_per_test * 1000:.4f} ms "
          f"= {check_per_test / per_test:.2%} of a test")
    print(f"async context copy, per request:      {copy_cost * 1000:.4f} ms "
          f"= {copy_cost / per_test:.2%} of a test (one async request per test)")
    print(f"per-test recording, CPU ratio (shipped / bypassed): median "
          f"{statistics.median(recording):.3f} (range {min(recording):.3f}-{max(recording):.3f})")


if __name__ == "__main__":
    main()
