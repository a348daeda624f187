"""Read a test run's output (the file $PY_LOG) and print "PASSED FAILED SKIPPED"
for scripts/test_all.sh. Understands the runner's "N passed, N failed" line,
unittest's "Ran N tests" summary and pytest's closing line."""
import os
import re
from pathlib import Path

text = Path(os.environ["PY_LOG"]).read_text(encoding="utf-8", errors="replace")


def count(pattern: str, source: str) -> int:
    """The number the pattern's group finds in source, or 0."""
    found = re.search(pattern, source)
    return int(found.group(1)) if found else 0


plain = re.findall(r"^(?:\w+: )?(\d+) passed, (\d+) failed(?:, (\d+) skipped)?\s*$", text, re.M)
ran = re.findall(r"^Ran (\d+) tests?", text, re.M)
if plain:
    passed, failed, skipped = (int(n or 0) for n in plain[-1])
elif ran:
    total = int(ran[-1])
    tail = text[text.rindex("Ran "):]
    # "expected failures=N" are not failures.
    failed = count(r"(?<!expected )failures=(\d+)", tail) + count(r"errors=(\d+)", tail)
    skipped = count(r"skipped=(\d+)", tail)
    passed = total - failed - skipped
else:
    lines = [line for line in text.splitlines() if re.search(r"\d+ (passed|failed|error)", line)]
    last = lines[-1] if lines else ""
    passed = count(r"(\d+) passed", last)
    failed = count(r"(\d+) failed", last) + count(r"(\d+) errors?", last)
    skipped = count(r"(\d+) skipped", last)
print(passed, failed, skipped)
