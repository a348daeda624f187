#!/usr/bin/env python
"""What a system test costs, against the same flow with the in-process client.

The flow (the example app): create a user, sign in, open /photos/new,
fill the title and caption, submit, check the flash, count the rows. In
process it is ``self.client.post(...)`` and a GET of the redirect; in the
browser, ``SystemTestCase`` with Playwright's locators and ``expect``.

Per round, each style runs a class of 1 test and a class of N tests, in
this process, on TEST_DATABASE_URL's database; per test = (T_N - T_1) /
(N - 1), per class = T_1 - per test (noisy, as a difference). The live
server's start and stop (once per system class) and the browser's start
(once per process) are also timed on their own. Medians, with the range
over rounds.

    TEST_DATABASE_URL=sqlite:///:memory: .venv/bin/python bench/system_cost.py [--tests 10] [--repeats 3]
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
os.environ["APP_ENV"] = "test"
sys.path[:0] = [str(REPO), str(REPO / "examples" / "myapp")]

from myapp.models import Photo, User  # noqa: E402
from proper_unittest import ProperTestCase, SystemTestCase  # noqa: E402
from proper_unittest.system.browser import BrowserSettings, browser_for, find_executable  # noqa: E402
from proper_unittest.system.live_server import LiveServer  # noqa: E402
from proper_unittest.system import expect  # noqa: E402


def in_process_test(self):
    user = User.create(login="alice@example.com", password="correct horse battery")
    self.sign_in(user)
    result = self.client.post("/photos", body={"title": "Sunset", "caption": "Bay"})
    self.assertIn("Photo was created", result.follow().body)
    self.assertEqual(Photo.select().count(), 1)


def system_test(self):
    user = User.create(login="alice@example.com", password="correct horse battery")
    self.sign_in(user)
    self.visit("/photos/new")
    self.page.get_by_label("Title").fill("Sunset")
    self.page.get_by_label("Caption").fill("Bay")
    self.page.get_by_role("button", name="Create photo").click()
    expect(self.page.locator(".flash")).to_have_text("Photo was created")
    self.assertEqual(Photo.select().count(), 1)


def timed_class(base, body, tests):
    """Seconds to run a class of `tests` copies of `body` (set-up included)."""
    methods = {f"test_{i:03d}": body for i in range(tests)}
    case = type(f"Bench{base.__name__}{tests}", (base,), {"app": "myapp.main:app", **methods})
    suite = unittest.defaultTestLoader.loadTestsFromTestCase(case)
    start = time.perf_counter()
    result = unittest.TextTestRunner(stream=io.StringIO()).run(suite)
    elapsed = time.perf_counter() - start
    if not result.wasSuccessful() or result.skipped:
        problems = result.failures + result.errors
        raise SystemExit(f"the benchmark's tests did not pass: {problems or result.skipped}")
    return elapsed


def summary(values, unit=1000.0):
    values = [v * unit for v in values]
    return f"{statistics.median(values):7.1f} ({min(values):.1f}-{max(values):.1f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tests", type=int, default=10, help="tests in the larger class")
    parser.add_argument("--repeats", type=int, default=3, help="rounds")
    options = parser.parse_args()
    n = options.tests

    start = time.perf_counter()
    browser_for(BrowserSettings(find_executable(None), headless=True))
    browser_start = time.perf_counter() - start

    for base, body in ((ProperTestCase, in_process_test), (SystemTestCase, system_test)):
        timed_class(base, body, 1)  # warm-up: schema, imports, first page

    per_test = {"in-process": [], "system": []}
    per_class = {"in-process": [], "system": []}
    for _ in range(options.repeats):
        for name, base, body in (("in-process", ProperTestCase, in_process_test),
                                 ("system", SystemTestCase, system_test)):
            one = timed_class(base, body, 1)
            many = timed_class(base, body, n)
            test_cost = (many - one) / (n - 1)
            per_test[name].append(test_cost)
            per_class[name].append(one - test_cost)
    server = []
    from myapp.main import app  # noqa: PLC0415 - after the classes set the app up
    for _ in range(5):
        start = time.perf_counter()
        LiveServer(app).start().stop()
        server.append(time.perf_counter() - start)
    ratios = [s / p for s, p in zip(per_test["system"], per_test["in-process"])]
    database = os.environ.get("TEST_DATABASE_URL", "sqlite:///:memory:").split(":")[0]
    print(f"database: {database}; {n} tests a class, {options.repeats} rounds; median (range), ms")
    print(f"browser start, once per process: {browser_start * 1000:.0f} ms")
    for name in per_test:
        print(f"{name:>10}: per test {summary(per_test[name])}  per class {summary(per_class[name])}")
    print(f"live server start + stop (per system class), 5 times: {summary(server)}")
    print(f"system / in-process, per test: {statistics.median(ratios):.0f}x ({min(ratios):.0f}-{max(ratios):.0f})")


if __name__ == "__main__":
    main()
