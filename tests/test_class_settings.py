"""A test class's settings are checked when the class starts: a value of
the wrong kind is a ConfigurationError that names the setting, what it
holds and what it takes, before any of its tests run; the runner reports
it by its message alone (no traceback from inside the library), stops
and exits 2, as for every ConfigurationError (a misconfigured class, an
unsafe database, a driver that is not installed)."""

import os
import unittest
from unittest import mock

from proper_unittest import ConfigurationError, ProperTestCase
from proper_unittest.class_settings import check_class_settings
from tests.support.inner import write_tree
from tests.support.runner_projects import ProjectTestCase


def configured(**settings):
    """A ProperTestCase subclass with `settings` as class attributes (never run)."""
    return type("Configured", (ProperTestCase,), {"__qualname__": "Configured", **settings})


class CheckClassSettingsTests(unittest.TestCase):
    def refusal(self, **settings):
        with self.assertRaises(ConfigurationError) as raised:
            check_class_settings(configured(**settings))
        return str(raised.exception)

    def test_the_defaults_and_every_documented_form_pass(self):
        check_class_settings(configured())
        check_class_settings(configured(
            client_headers={"accept": "application/json"}, strict_process_state=True, flight_recorder=0,
            check_escaped_writes="test", timeout=2.5,
        ))
        check_class_settings(configured(timeout=0, flight_recorder=False, strict_process_state=1))

    def test_client_headers_must_map_strings_to_strings(self):
        for headers in ("accept: text/html", [("accept", "text/html")], {"accept": 1}, {1: "x"}):
            with self.subTest(headers=headers):
                text = self.refusal(client_headers=headers)
                self.assertIn(f"Configured.client_headers is {headers!r}: it must map header names to values", text)

    def test_a_switch_takes_true_or_false_not_a_word(self):
        text = self.refusal(strict_process_state="no")
        self.assertEqual(text, "Configured.strict_process_state is 'no': use True or False (make a test that "
                               "changes the process's state an error).")
        self.assertIn("Configured.flight_recorder is 3: use True or False", self.refusal(flight_recorder=3))

    def test_timeout_and_escaped_writes_are_checked_before_any_test(self):
        self.assertIn("Configured.timeout must be a number of seconds", self.refusal(timeout="soon"))
        self.assertIn("check_escaped_writes / PROPER_UNITTEST_CHECK_WRITES is '5'", self.refusal(check_escaped_writes=5))

    def test_a_switch_variable_holding_another_word_is_named(self):
        for variable in ("PROPER_UNITTEST_STRICT_STATE", "PROPER_UNITTEST_FLIGHT_RECORDER",
                         "PROPER_UNITTEST_FAST_PASSWORD_HASHING"):
            with self.subTest(variable=variable), mock.patch.dict(os.environ, {variable: "maybe"}):
                self.assertEqual(self.refusal(), f"{variable} is 'maybe': use one of 1, true, yes, on (on) or "
                                                 "0, false, no, off (off), or leave it unset.")

    def test_switch_variables_take_yes_and_no_words_in_any_case_or_nothing(self):
        for word in ("1", "TRUE", " yes ", "on", "0", "False", "no", "OFF", ""):
            with self.subTest(word=word), mock.patch.dict(os.environ, {"PROPER_UNITTEST_STRICT_STATE": word}):
                check_class_settings(configured())


MISCONFIGURED = """
    from proper_unittest import ProperTestCase
    from app import Item
    from tests.helpers import log


    class AFineTests(ProperTestCase):
        def test_fine(self):
            log("AFineTests.test_fine")
            Item.create(name="a")


    class BMisconfiguredTests(ProperTestCase):
        timeout = "soon"

        def test_never(self):
            log("BMisconfiguredTests.test_never")


    class CNeverReachedTests(ProperTestCase):
        def test_never(self):
            log("CNeverReachedTests.test_never")
"""


class MisconfiguredClassRunTests(ProjectTestCase):
    """A real run: the misconfigured class stops the run with exit 2."""

    def test_the_runner_reports_the_message_and_exits_2(self):
        write_tree(self.app_project, {"tests/test_items.py": MISCONFIGURED})
        proc = self.run_in_project()
        self.assertEqual(proc.returncode, 2, proc.stdout + proc.stderr)
        # Bad input, as at start-up: the message alone, no report of a run.
        self.assertIn("error: BMisconfiguredTests.timeout must be a number of seconds "
                      "(0 for no limit), not 'soon'.", proc.stderr)
        self.assertNotIn("ERROR: setUpClass", proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        self.assertFalse((self.app_project / ".proper_unittest" / "failed.json").exists(), "nothing is written")
        self.assertNotIn("Rerunning", proc.stderr)  # a refused run is not run again
        self.assertEqual(self.ran_tests(), ["AFineTests.test_fine"])


if __name__ == "__main__":
    unittest.main()
