"""The journal's lines: what json.dumps would write, read back whole."""
import json
import os
import tempfile
import unittest

from parameterized import parameterized

from proper_unittest.runner.journal import Journal, done_line, keep_journal_in, read_journal

PASSED = {
    "id": "tests.test_x.Case.test_one", "classname": "tests.test_x.Case", "name": "test_one",
    "file": "tests/test_x.py", "outcome": "passed", "time": 0.00612, "wall": 1.5e-05,
    "message": "", "detail": "",
}


class DoneLineTests(unittest.TestCase):
    @parameterized.expand([
        ("a passing test", PASSED),
        ("quotes, backslashes, control and non-ASCII text", {
            **PASSED, "message": 'AssertionError: "é" != \'\\n\'', "detail": "line\n\ttab \x00 ünï 💥",
        }),
        ("counts and flags", {**PASSED, "subtests_failed": 2, "unreached": True}),
        ("a time that is not finite", {**PASSED, "time": float("nan")}),
        ("a whole-number float and a huge one", {**PASSED, "time": 3.0, "wall": 1e300}),
        ("a key that needs quoting", {'odd "key"': "value"}),
        ("an empty record", {}),
    ])
    def test_the_line_is_what_json_dumps_writes(self, _, record):
        self.assertEqual(done_line(record), json.dumps({"done": record}) + "\n")


class JournalTests(unittest.TestCase):
    def setUp(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        self.path = os.path.join(folder, "journal")
        keep_journal_in(self.path)
        self.addCleanup(keep_journal_in, None)

    def journal(self):
        journal = Journal()
        self.addCleanup(lambda: journal._fd is not None and os.close(journal._fd))
        return journal

    def test_started_and_done_tests_are_read_back(self):
        journal = self.journal()
        journal.started(PASSED["id"])
        journal.done(PASSED)
        failed = {**PASSED, "id": "tests.test_x.Case.test_two", "outcome": "failure",
                  "message": "AssertionError: ✗", "subtests_failed": 1}
        journal.started(failed["id"])
        journal.done(failed)
        journal.started("tests.test_x.Case.test_three")
        records, current = read_journal(self.path)
        self.assertEqual(records, [PASSED, failed])
        self.assertEqual(current, "tests.test_x.Case.test_three")

    def test_a_test_that_closes_the_descriptor_and_opens_another_file_does_not_get_the_lines(self):
        journal = self.journal()
        journal.started(PASSED["id"])
        os.close(journal._fd)
        other = os.path.join(os.path.dirname(self.path), "other")
        fd = os.open(other, os.O_WRONLY | os.O_CREAT)  # likely the same number
        self.addCleanup(os.close, fd)
        journal.done(PASSED)
        with open(other, encoding="utf-8") as file:
            self.assertEqual(file.read(), "")
        self.assertEqual(read_journal(self.path), ([PASSED], None))


class ForeignLinesTests(unittest.TestCase):
    """Lines a test wrote into the journal itself are skipped, never a crash of the reader."""

    def test_lines_of_the_wrong_shape_or_bytes_are_skipped(self):
        folder = self.enterContext(tempfile.TemporaryDirectory())
        path = os.path.join(folder, "journal")
        with open(path, "wb") as file:
            file.write(('{"start": "%s"}\n' % PASSED["id"]).encode())
            file.write(json.dumps({"done": PASSED}).encode() + b"\n")
            for foreign in (b'{"done": {}}', b'{"start": 5}', b'{"done": {"id": "x"}}', b"[1, 2]", b'"text"',
                            b'{"done": {"id": 1, "classname": "c", "name": "n", "outcome": "passed"}}',
                            b"\xff\xfe not utf-8", b'{"start": "tests.test_x.Case.test_two"}'):
                file.write(foreign + b"\n")
        self.assertEqual(read_journal(path), ([PASSED], "tests.test_x.Case.test_two"))
