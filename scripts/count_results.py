"""Read a test run's output (the file $PY_LOG) and print "PASSED FAILED SKIPPED"
for scripts/test_all.sh, counting tests (a test with failing sub-tests is
one failed test).

The runner's closing line ("N passed, N failed, N skipped (...)") already
counts tests: it is taken as it is (its "not run" tests and dead test
processes count as failed). Otherwise, from unittest's output ("Ran N
tests", "FAILED (...)"): the failed tests are the distinct tests its
FAIL/ERROR/UNEXPECTED SUCCESS reports name (a failing setUpClass or
setUpModule, whose tests unittest does not count, as one); the skipped
ones unittest's "skipped=N", which also counts skipped sub-tests and
classes skipped in setUpClass (unittest's output cannot tell them apart).
From pytest's: the failed tests are the distinct tests its short summary
names (FAILED, ERROR, SUBFAILED), or its counts when it shows none.
"""
import os
import re
from pathlib import Path

text = Path(os.environ["PY_LOG"]).read_text(encoding="utf-8", errors="replace")


def count(pattern: str, source: str) -> int:
    """The number the pattern's group finds in source, or 0."""
    found = re.search(pattern, source)
    return int(found.group(1)) if found else 0


plain = re.findall(
    r"^(?:.*: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?(?:, (\d+) not run)?(?: \(.*\))?"
    r"(?:; (\d+) test process(?:es)? died outside any test)?\s*$",
    text, re.M,
)
ran = re.findall(r"^Ran (\d+) tests?", text, re.M)
if plain:
    passed, failed, skipped, not_run, crashed = (int(n or 0) for n in plain[-1])
    failed += not_run + crashed
elif ran:
    total = int(ran[-1])
    head = text[:text.rindex("Ran ")]
    tail = text[text.rindex("Ran "):]
    reported = re.findall(r"^(?:FAIL|ERROR|UNEXPECTED SUCCESS): (\w+) \(([\w.]+)\)", head, re.M)
    tests = {where for name, where in reported if name not in ("setUpClass", "setUpModule")}
    fixtures = {(name, where) for name, where in reported if name in ("setUpClass", "setUpModule")}
    if not reported:  # no reports shown: unittest's own counts
        tests = set(range(count(r"(?<!expected )failures=(\d+)", tail) + count(r"errors=(\d+)", tail)))
    skipped = count(r"skipped=(\d+)", tail)
    failed = len(tests) + len(fixtures)
    passed = max(total - len(tests) - skipped, 0)
else:
    lines = [line for line in text.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    last = lines[-1] if lines else ""
    named = re.findall(r"^(FAILED|ERROR|SUBFAILED\S*) (\S+::\S+)", text, re.M)
    failing = {node for _, node in named}
    only_subtests = failing - {node for kind, node in named if not kind.startswith("SUBFAILED")}
    passed = count(r"(\d+) passed", last) + count(r"(\d+) xfailed", last) - len(only_subtests)
    failed = len(failing) if named else count(r"(\d+) failed", last) + count(r"(\d+) errors?", last)
    skipped = count(r"(\d+) skipped", last)
print(passed, failed, skipped)
