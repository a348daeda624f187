"""What ``with override_cache() as ...`` and ``with override_config() as ...`` give."""
import unittest

from proper.cache.sqlite_cache import SqliteCache

from proper_unittest import AsyncChannelTestCase, ProperTestCase, override_cache, override_config
# Imported here, as test_client.py does: an async test finds the app for a
# `with override_...()` block through `current.app`, which an
# IsolatedAsyncioTestCase copies when the test is constructed, before the
# test case sets it (an async-context gap left to the isolation work).
from tests.apps.notes import main  # noqa: F401


APP = "tests.apps.notes.main:app"


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


if __name__ == "__main__":
    unittest.main()
