"""What class-level hooks change stays in the class; the async client's
requests keep their ``current`` to themselves."""
import asyncio
import unittest

from proper import TestClient, current
from proper.cache import NoCache
from proper.cache.sqlite_cache import SqliteCache

from proper_unittest import AsyncChannelTestCase
from tests.support.apps.notes.main import Note, User, app
from tests.support.inner import NotesCase as Notes
from tests.support.inner import run_inner


class _Listener:
    channel_name = "stray"

    def send(self, data):
        pass


def change_everything(cls, where: str) -> None:
    """What a careless class hook might do to the shared app."""
    current.marker = where
    current.auth_session = object()  # would bypass authentication
    cls.app.config.MAILERS["memory"]["leaked"] = where      # nested dict
    cls.app.config.SECRET_KEYS.append("leaked-" + "x" * 60)  # nested list
    cls.app.config.NOTES_FLAG = where
    cls.app.debug = True
    cache = SqliteCache(":memory:")
    cls.addClassCleanup(cache.close)
    cls.app.cache = cache
    cls.app.queue.immediate = False
    cls.app.cable.subscribe("room:stray", _Listener())
    TestClient(cls.app, sync=False)  # flips RUN_SYNC for the whole app


def assert_pristine(test) -> None:
    """The app as a class that changed nothing should find it."""
    test.assertIsNone(getattr(current, "marker", None))
    test.assertIsNone(current.auth_session)
    test.assertNotIn("leaked", app.config.MAILERS["memory"])
    test.assertEqual(len(app.config.SECRET_KEYS), 1)
    test.assertNotIn("NOTES_FLAG", app.config)
    test.assertFalse(app.config.DEBUG)
    test.assertFalse(app.router.debug)
    test.assertIsInstance(app.cache, NoCache)
    test.assertTrue(app.queue.immediate)
    test.assertNotIn("room:stray", app.cable.streams)
    test.assertIsNot(app.config.get("RUN_SYNC"), False)


class LaterClass(Notes):
    """Runs after the class that changed things: finds nothing of it."""

    def test_app_is_pristine(self):
        assert_pristine(self)

    def test_authentication_is_not_bypassed(self):
        self.assertRedirects(self.client.get("/me"), "/sign-in")
        self.assertContains(self.client.get("/flag"), "unset")
        self.client.post("/notes", body={"title": "inline", "count": "1"})
        self.assertEqual(Note.select().count(), 2, "tasks run inline, in the test transaction")


class ClassLevelStateTests(unittest.TestCase):
    def run_hook_case(self, hook_name):
        seen = {}

        class ChangesInHook(Notes):
            @classmethod
            def setUpClass(cls):
                super().setUpClass()
                if hook_name == "setUpClass":
                    change_everything(cls, hook_name)

            @classmethod
            def load_fixtures(cls):
                if hook_name == "load_fixtures":
                    change_everything(cls, hook_name)

            @classmethod
            def setUpTestData(cls):
                if hook_name == "setUpTestData":
                    change_everything(cls, hook_name)

            def test_sees_the_class_context(self):
                seen["marker"] = getattr(current, "marker", None)
                current.marker = "changed by the test"

            def test_next_test_sees_the_class_value_again(self):
                seen["marker again"] = getattr(current, "marker", None)

        result, output = run_inner(ChangesInHook, LaterClass)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(result.testsRun, 4)
        self.assertEqual(seen, {"marker": hook_name, "marker again": hook_name})
        assert_pristine(self)

    def test_set_up_class(self):
        self.run_hook_case("setUpClass")

    def test_load_fixtures(self):
        self.run_hook_case("load_fixtures")

    def test_set_up_test_data(self):
        self.run_hook_case("setUpTestData")

    def test_tear_down_class(self):
        class ChangesInTearDown(Notes):
            @classmethod
            def tearDownClass(cls):
                change_everything(cls, "tearDownClass")
                super().tearDownClass()

            def test_nothing(self):
                pass

        result, output = run_inner(ChangesInTearDown, LaterClass)
        self.assertTrue(result.wasSuccessful(), output)
        assert_pristine(self)

    def test_nested_config_is_restored_after_each_test(self):
        class ChangesNested(Notes):
            def test_1_changes(self):
                self.app.config.MAILERS["memory"]["leaked"] = True
                self.app.config.SECRET_KEYS.append("leaked-" + "x" * 60)

            def test_2_checks(self):
                self.assertNotIn("leaked", self.app.config.MAILERS["memory"])
                self.assertEqual(len(self.app.config.SECRET_KEYS), 1)

        result, output = run_inner(ChangesNested)
        self.assertTrue(result.wasSuccessful(), output)


class TestDataCopyTests(unittest.TestCase):
    def test_attribute_replacing_a_class_body_attribute_gets_copied(self):
        class Replaces(Notes):
            tags = ["from the class body"]

            @classmethod
            def setUpTestData(cls):
                cls.tags = ["from setUpTestData"]
                cls.alice = User.create(name="alice")

            def test_1_changes_its_copy(self):
                self.tags.append("changed")
                self.alice.name = "changed"

            def test_2_sees_the_original(self):
                self.assertEqual(self.tags, ["from setUpTestData"])
                self.assertEqual(self.alice.name, "alice")

        result, output = run_inner(Replaces)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(vars(Replaces)["tags"], ["from the class body"], "the class body value is back")
        self.assertNotIn("alice", vars(Replaces))


class AsyncNotes(AsyncChannelTestCase):
    app = "tests.support.apps.notes.main:app"


class AsyncClientContextTests(unittest.TestCase):
    def test_requests_keep_current_to_themselves(self):
        class SignsInAndOut(AsyncNotes):
            async def test_switch_users(self):
                alice, bob = User.create(name="alice"), User.create(name="bob")
                self.sign_in(alice)
                self.assertContains(await self.client.get("/me"), "alice")
                self.assertIsNone(current.user, "the request's user stays in the request")
                self.assertIsNone(current.auth_session)
                self.sign_in(bob)
                self.assertContains(await self.client.get("/me"), "bob")
                self.sign_out()
                self.assertRedirects(await self.client.get("/me"), "/sign-in")

            async def test_marker_set_by_the_test_reaches_requests_but_not_back(self):
                current.marker = "from the test"
                self.assertContains(await self.client.get("/current"), "from the test")
                self.assertEqual(current.marker, "from the test")

        result, output = run_inner(SignsInAndOut)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(result.testsRun, 2)

    def test_async_client_in_a_proper_test_case(self):
        class Scenario(Notes):
            def test_sign_out(self):
                self.sign_in(User.create(name="carol"))

                async def scenario():
                    self.assertContains(await self.async_client.get("/me"), "carol")
                    self.assertIsNone(current.user)
                    self.sign_out()
                    self.assertRedirects(await self.async_client.get("/me"), "/sign-in")

                asyncio.run(scenario())

        result, output = run_inner(Scenario)
        self.assertTrue(result.wasSuccessful(), output)


if __name__ == "__main__":  # pragma: no cover
    unittest.main()
