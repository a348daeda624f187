"""Password hashing at the scheme's minimum cost under the library, the
app's own cost when a class or project asks for it, and nothing changed
outside the test environment."""
import os
import subprocess
import sys
import unittest
from unittest import mock

import passlib.hash
from proper.auth import Auth

from proper_unittest import ConfigurationError, ProperTestCase
from tests.support.inner import NotesCase, REPO, run_inner, run_suite


NOTES = "tests.support.apps.notes.main:app"
KEYS = ["k" * 64]
# The notes app leaves AUTH_HASH_NAME unset: Proper's default, PBKDF2-SHA512,
# whose own cost is Passlib's default rounds.
APP_COST = f"$pbkdf2-sha512${passlib.hash.pbkdf2_sha512.default_rounds}$"
MIN_COST = f"$pbkdf2-sha512${passlib.hash.pbkdf2_sha512.min_rounds}$"


class MinimumCostInTests(ProperTestCase):
    """The default: the app's scheme at its minimum cost."""

    app = NOTES

    def test_a_hash_made_in_a_test_uses_the_minimum_cost_and_verifies(self):
        hashed = self.app.auth.hash_password("password123")
        self.assertTrue(hashed.startswith(MIN_COST), hashed)
        self.assertTrue(self.app.auth.password_is_valid("password123", hashed))
        self.assertFalse(self.app.auth.password_is_valid("password124", hashed))

    def test_a_production_cost_hash_still_verifies(self):
        hashed = passlib.hash.pbkdf2_sha512.hash("password123")
        self.assertTrue(hashed.startswith(APP_COST), hashed)
        self.assertTrue(self.app.auth.password_is_valid("password123", hashed))
        self.assertFalse(self.app.auth.password_is_valid("password124", hashed))

    def test_the_decoy_hash_is_at_the_minimum_cost(self):
        self.assertTrue(self.app.auth._decoy_password.startswith(MIN_COST))


class Argon2AtItsMinimum(unittest.TestCase):
    """An Auth built under APP_ENV=test (as the generated app's is) hashes,
    from its first hash, with argon2 t=1, m=8 KiB, p=1."""

    def test_decoy_and_new_hashes_use_the_minimum_and_other_costs_verify(self):
        auth = Auth(KEYS, hash_name="argon2")
        self.assertIn("$m=8,t=1,p=1$", auth._decoy_password)
        hashed = auth.hash_password("password123")
        self.assertTrue(hashed.startswith("$argon2id$v=19$m=8,t=1,p=1$"), hashed)
        self.assertTrue(auth.password_is_valid("password123", hashed))
        other_cost = passlib.hash.argon2.using(memory_cost=1024, rounds=2, parallelism=2).hash("password123")
        self.assertIn("$m=1024,t=2,p=2$", other_cost)
        self.assertTrue(auth.password_is_valid("password123", other_cost))
        self.assertFalse(auth.password_is_valid("password124", other_cost))

    def test_passlibs_own_defaults_are_left_as_they_were(self):
        Auth(KEYS, hash_name="argon2")
        self.assertEqual(passlib.hash.argon2.memory_cost, 65536)
        self.assertEqual(passlib.hash.pbkdf2_sha512.default_rounds, 25000)

    def test_configured_rounds_stay_the_apps_cost(self):
        from proper_unittest.isolation import password_cost as _password_cost
        auth = Auth(KEYS, hash_name="pbkdf2_sha256", rounds=1234)
        self.assertTrue(auth.hash_password("password123").startswith("$pbkdf2-sha256$1$"))
        restore = _password_cost.cost_for_class(mock.Mock(auth=auth), fast=False)
        self.assertTrue(auth.hash_password("password123").startswith("$pbkdf2-sha256$1234$"))
        restore()
        self.assertTrue(auth.hash_password("password123").startswith("$pbkdf2-sha256$1$"))


class OutsideTheTestEnvironment(unittest.TestCase):
    """Nothing changes when APP_ENV is not ``test`` or the switch is off."""

    def test_another_app_env_keeps_the_apps_cost(self):
        with mock.patch.dict(os.environ, {"APP_ENV": "production"}):
            auth = Auth(KEYS)
        self.assertTrue(auth._decoy_password.startswith(APP_COST))
        self.assertTrue(auth.hash_password("password123").startswith(APP_COST))

    def test_the_environment_variable_switches_it_off(self):
        with mock.patch.dict(os.environ, {"PROPER_UNITTEST_FAST_PASSWORD_HASHING": "0"}):
            auth = Auth(KEYS)
        self.assertTrue(auth._decoy_password.startswith(APP_COST))

    def test_an_app_built_outside_tests_is_untouched_after_importing_the_library(self):
        code = (
            "import proper_unittest\n"
            "from tests.support.apps.notes.main import app\n"
            "print(app.env, app.auth._decoy_password.split('$')[2], "
            "app.auth.hash_password('password123').split('$')[2])\n"
        )
        env = {**os.environ, "APP_ENV": "production", "PYTHONPATH": str(REPO)}
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env,
                              capture_output=True, text=True, timeout=60)
        self.assertEqual(done.returncode, 0, done.stderr)
        rounds = str(passlib.hash.pbkdf2_sha512.default_rounds)
        self.assertEqual(done.stdout.split(), ["production", rounds, rounds])


class OptingOut(unittest.TestCase):
    """``fast_password_hashing = False`` gives a class the app's own cost,
    and the next class gets the minimum again."""

    def test_a_class_that_opts_out_hashes_at_the_apps_cost_then_it_is_put_back(self):
        seen = {}

        class AppCost(NotesCase):
            fast_password_hashing = False

            def test_hash(self):
                seen["hash"] = self.app.auth.hash_password("password123")
                seen["decoy"] = self.app.auth._decoy_password
                seen["verifies"] = self.app.auth.password_is_valid("password123", seen["hash"])

        class Fast(NotesCase):
            def test_hash(self):
                seen["after"] = self.app.auth.hash_password("password123")

        result, output = run_inner(AppCost, Fast)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertTrue(seen["hash"].startswith(APP_COST), seen["hash"])
        self.assertTrue(seen["decoy"].startswith(APP_COST), seen["decoy"])
        self.assertTrue(seen["verifies"])
        self.assertTrue(seen["after"].startswith(MIN_COST), seen["after"])

    def test_a_wrong_value_fails_the_class_with_what_to_write(self):
        class Unclear(NotesCase):
            fast_password_hashing = "sometimes"

            def test_nothing(self):
                pass  # pragma: no cover - the class fails before it

        result, output = run_inner(Unclear)
        self.assertEqual(len(result.errors), 1, output)
        self.assertIn("Unclear.fast_password_hashing is 'sometimes': use true", output)
        self.assertIn(ConfigurationError.__name__, output)


class ProjectSetting(unittest.TestCase):
    """``fast_password_hashing = false`` in the project's config section;
    a class's own attribute wins over it."""

    def test_the_project_config_switches_it_off_and_a_class_can_switch_it_back(self):
        test_module = (
            "import unittest\n"
            "from proper_unittest import ProperTestCase\n\n"
            "class ProjectCost(ProperTestCase):\n"
            "    def test_hash(self):\n"
            f"        assert self.app.auth.hash_password('password123').startswith({APP_COST!r})\n\n"
            "class ClassSaysFast(ProperTestCase):\n"
            "    fast_password_hashing = True\n\n"
            "    def test_hash(self):\n"
            f"        assert self.app.auth.hash_password('password123').startswith({MIN_COST!r})\n"
        )
        project = {"setup.cfg": f"[proper_unittest]\napp = {NOTES}\nfast_password_hashing = false\n",
                   "test_project_cost.py": test_module}
        # Its own database: this process may hold the notes app's.
        done = run_suite(project, "-m", "unittest", "test_project_cost", "-v",
                         env={"NOTES_DB_NAME": "notes_password_cost_test"},
                         drop=("PROPER_UNITTEST_FAST_PASSWORD_HASHING",))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("Ran 2 tests", done.stderr)
