"""Nothing a test does reaches the next test, even when it fails or errors."""
import unittest

from proper import TestClient, current
from proper.cache import NoCache
from proper.cache.sqlite_cache import SqliteCache

from proper_unittest import ConfigurationError, ProperTestCase
from tests.support.apps.notes.main import Note, User, app
from tests.support.inner import NotesCase as Notes
from tests.support.inner import run_inner
from tests.support.cases import WithClassData




def outcome(result) -> dict:
    """{test method name: "failure" | "error" | "ok"} for an inner run."""
    names = {}
    for kind, entries in (("failure", result.failures), ("error", result.errors)):
        for test, _ in entries:
            names[getattr(test, "_testMethodName", str(test))] = kind
    return names


class LeakTests(unittest.TestCase):
    """Each inner class: test_1 changes something and fails, test_2 changes
    it and errors, test_3 checks it is back as it was."""

    def run_leak_case(self, change, check):
        class LeakCase(Notes):
            def test_1_fails(self):
                change(self)
                self.fail("on purpose")

            def test_2_errors(self):
                change(self)
                raise RuntimeError("on purpose")

            def test_3_clean(self):
                check(self)

        result, output = run_inner(LeakCase)
        self.assertEqual(outcome(result), {"test_1_fails": "failure", "test_2_errors": "error"}, output)
        self.assertEqual(result.testsRun, 3)

    def test_rows(self):
        def change(test):
            test.client.post("/notes", body={"title": f"leak {test._testMethodName}"})
            User.create(name=test._testMethodName)

        def check(test):
            test.assertEqual(Note.select().count(), 0)
            test.assertEqual(User.select().count(), 0)

        self.run_leak_case(change, check)
        self.assertEqual(Note.select().count(), 0, "nothing is left once the class is done")

    def test_outbox(self):
        def change(test):
            test.client.post("/notes", body={"title": "m", "mail": "a@example.com"})
            test.assertEmailSent(count=1)

        self.run_leak_case(change, lambda test: test.assertNoEmailSent())

    def test_cookies(self):
        def change(test):
            test.client.get("/remember", params={"color": "red"})
            test.sign_in(User.create(name="cookie monster"))
            test.assertIn("color", test.client.cookies)

        def check(test):
            test.assertEqual(test.client.cookies, {})
            sent = test.client.get("/cookies")
            test.assertStatus(sent, 200)
            test.assertEqual(sent.body, "")  # no cookie header at all

        self.run_leak_case(change, check)

    def test_current_values(self):
        def change(test):
            current.marker = "leaked"
            current.auth_session = object()  # would bypass authentication

        def check(test):
            test.assertIsNone(getattr(current, "marker", None))
            test.assertIsNone(current.auth_session)
            test.assertContains(test.client.get("/current"), "None")
            test.assertRedirects(test.client.get("/me"), "/sign-in")

        self.run_leak_case(change, check)
        self.assertIsNone(getattr(current, "marker", None))

    def test_cache_swap(self):
        def change(test):
            test.app.cache = SqliteCache(":memory:")
            test.addCleanup(test.app.cache.close)
            test.client.get("/visits")

        def check(test):
            test.assertIsInstance(test.app.cache, NoCache)
            test.assertContains(test.client.get("/visits"), "1")
            test.assertContains(test.client.get("/visits"), "1")

        self.run_leak_case(change, check)

    def test_config_and_debug(self):
        def change(test):
            test.app.config.NOTES_FLAG = "leaked"
            test.app.debug = True

        def check(test):
            test.assertContains(test.client.get("/flag"), "unset")
            test.assertFalse(test.app.config.DEBUG)
            test.assertFalse(test.app.router.debug)

        self.run_leak_case(change, check)

    def test_queue_mode(self):
        def change(test):
            test.app.queue.immediate = False
            test.client.post("/notes", body={"title": "q", "count": "1"})

        def check(test):
            test.assertTrue(test.app.queue.immediate)
            test.assertEqual(test.app.queue.pending_count(), 0)
            test.client.post("/notes", body={"title": "q", "count": "1"})
            test.assertEqual(Note.select().count(), 2, "the task ran inline again")

        self.run_leak_case(change, check)

    def test_run_sync_flag(self):
        def change(test):
            TestClient(test.app, sync=False)  # flips RUN_SYNC for the whole app

        def check(test):
            test.assertTrue(test.app.config.RUN_SYNC)
            test.client.post("/notes", body={"title": "inline"})
            test.assertEqual(Note.select().count(), 1, "the request ran in the test transaction")

        self.run_leak_case(change, check)

    def test_cable_listeners(self):
        class Listener:
            channel_name = "stray"

            def send(self, data):
                pass

        def change(test):
            test.app.cable.subscribe("room:stray", Listener())

        self.run_leak_case(change, lambda test: test.assertNotIn("room:stray", test.app.cable.streams))


class ClassDataTests(unittest.TestCase):
    def test_load_fixtures_and_set_up_test_data(self):
        class WithData(WithClassData, Notes):
            def test_1_changes_its_copy(self):
                self.assertEqual(Note.select().count(), 1)
                self.alice.name = "changed in memory"
                self.alice.save()
                Note.create(title="extra")

            def test_2_sees_the_original(self):
                self.assertEqual(self.alice.name, "alice")
                self.assertEqual(User.get_by_id(self.alice.id).name, "alice")
                self.assertEqual([n.title for n in Note.select()], ["fixture"])

        result, output = run_inner(WithData)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(result.testsRun, 2)
        self.assertEqual(Note.select().count() + User.select().count(), 0, "class data is rolled back")
        self.assertEqual(WithData.__dict__.get("alice"), None, "class attributes are removed")


class MisuseTests(unittest.TestCase):
    def test_set_up_without_super_is_still_isolated(self):
        class ForgetfulSetUp(Notes):
            def setUp(self):
                self.title = "no super"

            def test_1_writes(self):
                Note.create(title=self.title)

            def test_2_reads(self):
                self.assertEqual(Note.select().count(), 0)

        result, output = run_inner(ForgetfulSetUp)
        self.assertTrue(result.wasSuccessful(), output)

    def test_set_up_class_without_super_is_a_clear_error(self):
        class ForgetfulSetUpClass(Notes):
            @classmethod
            def setUpClass(cls):
                pass

            def test_anything(self):
                pass

        result, output = run_inner(ForgetfulSetUpClass)
        self.assertEqual(len(result.errors), 1, output)
        self.assertIn("must call super().setUpClass()", output)
        self.assertIn(ConfigurationError.__name__, output)

    def test_bad_app_attribute_is_a_clear_error(self):
        class BadApp(ProperTestCase):
            app = 42

            def test_anything(self):
                pass

        result, output = run_inner(BadApp)
        self.assertEqual(len(result.errors), 1, output)
        self.assertIn("BadApp.app is 42: it must be a proper.App or a 'module:attr' string", output)

    def test_nested_config_changed_in_place_is_restored_for_every_test(self):
        # One config snapshot serves the whole class: it must still undo
        # each test's in-place change, not only the first one's.
        app.config.NOTES_NESTED = {"levels": [1, 2], "tags": {"a"}}
        self.addCleanup(app.config.pop, "NOTES_NESTED")
        seen = []

        class ChangesNested(Notes):
            def check_and_change(self):
                nested = self.app.config.NOTES_NESTED
                seen.append((list(nested["levels"]), set(nested["tags"])))
                nested["levels"].append(self._testMethodName)
                nested["tags"].add(self._testMethodName)
                nested["new"] = True

            test_1 = test_2 = test_3 = check_and_change

        result, output = run_inner(ChangesNested)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(seen, [([1, 2], {"a"})] * 3)
        self.assertEqual(app.config.NOTES_NESTED, {"levels": [1, 2], "tags": {"a"}})

    def test_a_config_change_made_between_tests_is_what_the_next_test_is_rolled_back_to(self):
        # As a pytest fixture around each test would: the config each test
        # starts with differs, and each test's undo returns to its own start.
        after_each = []

        class StartsDiffer(Notes):
            def run(self, result=None):
                after_each.append(self.app.config.get("NOTES_FLAG"))
                self.app.config.NOTES_FLAG = f"before {self._testMethodName}"
                return super().run(result)

            def change(self):
                self.assertEqual(self.app.config.NOTES_FLAG, f"before {self._testMethodName}")
                self.app.config.NOTES_FLAG = "changed by the test"

            test_1 = test_2 = test_3 = change

        result, output = run_inner(StartsDiffer)
        app.config.pop("NOTES_FLAG", None)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(after_each, [None, "before test_1", "before test_2"])

    def test_config_set_by_inner_tests_is_gone_afterwards(self):
        class SetsFlag(Notes):
            def test_sets(self):
                self.app.config.NOTES_FLAG = "leaked"

        result, output = run_inner(SetsFlag)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertNotIn("NOTES_FLAG", app.config)


class ConfigSnapshotReuseTests(unittest.TestCase):
    """One config snapshot serves the next test class of the same app while
    the config holds the same values in the same containers; otherwise a
    new one is taken, so a nested value is always put back where the app
    holds it."""

    def setUp(self):
        from proper_unittest.isolation.app_state import ConfigSnapshot

        self.ConfigSnapshot = ConfigSnapshot
        self.config = {"NOTES": {"labels": ["a", {"deep": 1}], "tags": {"x"}}, "FLAG": "off"}

    def test_an_unchanged_config_reuses_the_last_snapshot(self):
        first = self.ConfigSnapshot.of(self.config)
        self.assertIs(self.ConfigSnapshot.of(self.config), first)

    def test_a_changed_value_or_another_config_gets_a_new_one(self):
        first = self.ConfigSnapshot.of(self.config)
        self.config["NOTES"]["labels"][1]["deep"] = 2
        second = self.ConfigSnapshot.of(self.config)
        self.assertIsNot(second, first)
        self.assertIsNot(self.ConfigSnapshot.of(dict(self.config)), second)  # equal, but another object

    def test_an_equal_container_in_another_object_gets_a_new_one_that_restores_it_in_place(self):
        first = self.ConfigSnapshot.of(self.config)
        for replace in (
            lambda config: config["NOTES"].__setitem__("labels", ["a", {"deep": 1}]),
            lambda config: config["NOTES"]["labels"].__setitem__(1, {"deep": 1}),
            lambda config: config["NOTES"].__setitem__("tags", {"x"}),
        ):
            with self.subTest(replace=replace):
                replace(self.config)
                snapshot = self.ConfigSnapshot.of(self.config)
                self.assertIsNot(snapshot, first)
                held = self.config["NOTES"]["labels"][1]  # what the app holds now
                held["deep"] = "changed by a test"
                snapshot.restore()
                self.assertEqual(held, {"deep": 1}, "put back in the object the app holds")
                first = snapshot

    def test_two_classes_in_a_row_each_put_a_nested_value_back_in_place(self):
        app.config.NOTES_NESTED = {"limits": {"per_page": 10}}
        self.addCleanup(app.config.pop, "NOTES_NESTED", None)
        held = app.config.NOTES_NESTED["limits"]
        snapshots = []

        class First(Notes):
            def test_changes_it(self):
                snapshots.append(type(self)._test_config)
                held["per_page"] = 99

        class Second(Notes):
            def test_changes_it_again(self):
                snapshots.append(type(self)._test_config)
                self.assertEqual(held["per_page"], 10)
                held["per_page"] = 98

        for case in (First, Second):
            result, output = run_inner(case)
            self.assertTrue(result.wasSuccessful(), output)
            self.assertEqual(held, {"per_page": 10})
        self.assertIs(snapshots[0], snapshots[1], "the second class reused the first's snapshot")
