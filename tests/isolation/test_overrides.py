"""override_config() and override_cache(): on a test, a class, an async test, and what
``with ... as`` gives."""
from proper.cache.sqlite_cache import SqliteCache

from proper_unittest import AsyncChannelTestCase, ProperTestCase, override_cache, override_config

from tests.support.inner import run_inner


APP = "tests.support.apps.notes.main:app"


class OverrideConfigTests(ProperTestCase):
    app = APP

    @override_config(NOTES_FLAG="method")
    def test_decorator_on_a_sync_test(self):
        self.assertEqual(self.client.get("/flag").body, "method")

    def test_context_manager(self):
        self.assertEqual(self.client.get("/flag").body, "unset")
        with override_config(NOTES_FLAG="block"):
            self.assertEqual(self.client.get("/flag").body, "block")
            with override_config(NOTES_FLAG="inner"):
                self.assertEqual(self.client.get("/flag").body, "inner")
            self.assertEqual(self.client.get("/flag").body, "block")
        self.assertEqual(self.client.get("/flag").body, "unset")
        self.assertNotIn("NOTES_FLAG", self.app.config)

    def test_context_manager_restores_an_existing_value(self):
        with override_config(NOTES_FLAG="outer"):
            with override_config(NOTES_FLAG="inner"):
                pass
            self.assertEqual(self.app.config["NOTES_FLAG"], "outer")

    def test_values_are_gone_in_the_next_test(self):
        @override_config(NOTES_FLAG="whole class")
        class Decorated(ProperTestCase):
            app = APP

            def test_1_class_value(self):
                self.assertEqual(self.client.get("/flag").body, "whole class")

            @override_config(NOTES_FLAG="method wins")
            def test_2_method_value(self):
                self.assertEqual(self.client.get("/flag").body, "method wins")

        class Plain(ProperTestCase):
            app = APP

            @override_config(NOTES_FLAG="decorated")
            def test_1_decorated(self):
                self.assertEqual(self.client.get("/flag").body, "decorated")

            def test_2_left_open(self):
                override_config(NOTES_FLAG="never exited").__enter__()
                self.assertEqual(self.client.get("/flag").body, "never exited")

            def test_3_gone(self):
                self.assertEqual(self.client.get("/flag").body, "unset")

        result, output = run_inner(Decorated, Plain)
        self.assertEqual(result.testsRun, 5, output)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(self.client.get("/flag").body, "unset")


@override_config(NOTES_FLAG="on the class")
class OverrideConfigOnAClassTests(ProperTestCase):
    app = APP

    def test_class_decorator_applies(self):
        self.assertEqual(self.client.get("/flag").body, "on the class")

    def test_class_decorator_applies_to_every_test(self):
        self.assertEqual(self.app.config["NOTES_FLAG"], "on the class")


class OverrideConfigOnAsyncTests(AsyncChannelTestCase):
    app = APP

    @override_config(NOTES_FLAG="async")
    async def test_decorator_on_an_async_test(self):
        result = await self.client.get("/flag")
        self.assertEqual(result.body, "async")

    async def test_context_manager_in_an_async_test(self):
        with override_config(NOTES_FLAG="async block"):
            self.assertEqual((await self.client.get("/flag")).body, "async block")
        self.assertEqual((await self.client.get("/flag")).body, "unset")


class OverrideCacheTests(ProperTestCase):
    app = APP

    def visits(self, times=3):
        return [self.client.get("/visits").body for _ in range(times)]

    def test_without_a_real_cache_visits_never_count(self):
        self.assertEqual(self.visits(), ["1", "1", "1"])

    def test_context_manager(self):
        with override_cache():
            self.assertEqual(self.visits(), ["1", "2", "3"])
        self.assertEqual(self.visits(), ["1", "1", "1"])
        with override_cache():  # a fresh cache each time
            self.assertEqual(self.visits(2), ["1", "2"])

    @override_cache()
    def test_decorator(self):
        self.assertEqual(self.visits(), ["1", "2", "3"])

    def test_given_cache_object(self):
        cache = SqliteCache(":memory:")
        self.addCleanup(cache.close)
        cache.set("visits", 41)
        with override_cache(cache):
            self.assertIs(self.app.cache, cache)
            self.assertEqual(self.visits(1), ["42"])
        self.assertEqual(cache.get("visits"), 42)

    def test_cache_is_gone_in_the_next_test(self):
        left_open = []

        class Inner(ProperTestCase):
            app = APP

            def test_1_counts(self):
                override_cache().__enter__()  # never exited by the test
                left_open.append(self.app.cache)
                self.assertEqual(self.client.get("/visits").body, "1")
                self.assertEqual(self.client.get("/visits").body, "2")

            def test_2_back_to_no_cache(self):
                self.assertEqual(self.client.get("/visits").body, "1")
                self.assertEqual(self.client.get("/visits").body, "1")

        result, output = run_inner(Inner)
        self.assertTrue(left_open[0].database.is_closed(), "the test case closes a cache override left open")
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(self.visits(2), ["1", "1"])


class OverrideCacheValueTests(ProperTestCase):
    app = APP

    def test_the_block_gets_the_fresh_cache_the_app_uses(self):
        with override_cache() as cache:
            self.assertIsInstance(cache, SqliteCache)
            self.assertIs(self.app.cache, cache)
            self.client.get("/visits")
            self.client.get("/visits")
            self.assertEqual(cache.get("visits"), 2)
        self.assertIsNot(self.app.cache, cache)
        self.assertTrue(cache.database.is_closed(), "a cache the override made is closed after the block")

    def test_the_block_gets_the_cache_it_was_given(self):
        given = SqliteCache(":memory:")
        self.addCleanup(given.close)
        with override_cache(given) as cache:
            self.assertIs(cache, given)
            self.client.get("/visits")
        self.assertEqual(given.get("visits"), 1)
        self.assertFalse(given.database.is_closed(), "a cache the test passed in stays open")

    def test_nested_blocks_each_get_their_own_cache(self):
        with override_cache() as outer:
            with override_cache() as inner:
                self.assertIsNot(inner, outer)
                self.assertIs(self.app.cache, inner)
            self.assertIs(self.app.cache, outer)


class OverrideConfigValueTests(ProperTestCase):
    app = APP

    def test_the_block_gets_the_apps_config_with_the_new_values(self):
        with override_config(NOTES_FLAG="on", DEBUG=True) as config:
            self.assertIs(config, self.app.config)
            self.assertEqual((config["NOTES_FLAG"], config["DEBUG"]), ("on", True))
            self.assertEqual(self.client.get("/flag").body, "on")
        self.assertNotIn("NOTES_FLAG", self.app.config)


class OverrideValuesInAsyncTests(AsyncChannelTestCase):
    app = APP

    async def test_values_in_an_async_test(self):
        with override_cache() as cache, override_config(NOTES_FLAG="async") as config:
            await self.client.get("/visits")
            self.assertEqual(cache.get("visits"), 1)
            self.assertEqual(config["NOTES_FLAG"], "async")
