"""environment_value answers as os.environ.get does, for every change made
through os.environ."""
import os
import unittest
from unittest import mock

from proper_unittest.environment import environment_value

NAME = "PROPER_UNITTEST_TEST_ENVIRONMENT_VALUE"


class EnvironmentValueTests(unittest.TestCase):
    def setUp(self):
        self.addCleanup(os.environ.pop, NAME, None)

    def test_an_unset_name_gives_the_default(self):
        os.environ.pop(NAME, None)
        self.assertEqual(environment_value(NAME), "")
        self.assertEqual(environment_value(NAME, "fallback"), "fallback")

    def test_a_value_set_removed_and_set_again_is_seen_each_time(self):
        os.environ[NAME] = "first"
        self.assertEqual(environment_value(NAME), "first")
        del os.environ[NAME]
        self.assertEqual(environment_value(NAME, "gone"), "gone")
        os.environ[NAME] = "second"
        self.assertEqual(environment_value(NAME), "second")

    def test_a_patched_environment_is_seen_and_its_end_too(self):
        with mock.patch.dict(os.environ, {NAME: "patched"}):
            self.assertEqual(environment_value(NAME), "patched")
        self.assertEqual(environment_value(NAME), "")

    def test_non_ascii_and_undecodable_values_come_back_as_os_environ_gives_them(self):
        for value in ("grüße ☃", "caf\udce9"):  # the second: a byte that is not UTF-8
            with self.subTest(value=value):
                os.environ[NAME] = value
                self.assertEqual(environment_value(NAME), os.environ[NAME])

    def test_an_empty_value_is_a_value(self):
        os.environ[NAME] = ""
        self.assertEqual(environment_value(NAME, "default"), "")
