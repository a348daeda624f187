"""A cache, queue or cable on a server is refused in the test environment unless the tests opt
in; nothing on the server is flushed."""
import unittest
import uuid

import redis

from proper_unittest import ProperTestCase

from tests.support.cases import make_app
from tests.support.inner import run_inner
from tests.support.outcomes import failure_text


REDIS_URL = "redis://127.0.0.1:6379/15"


class ServerServiceTests(unittest.TestCase):
    def setUp(self):
        self.redis = redis.Redis.from_url(REDIS_URL)
        self.addCleanup(self.redis.close)
        self.key = f"proper_unittest:{uuid.uuid4().hex}"
        self.redis.set(self.key, "kept")
        self.addCleanup(self.redis.delete, self.key)

    def run_against(self, app, **attributes):
        ran = []

        class Case(ProperTestCase):
            def test_it(self):
                ran.append(self.id())

        Case.app = app
        for name, value in attributes.items():
            setattr(Case, name, value)
        result, output = run_inner(Case)
        return result, ran

    def assert_refused(self, app, *phrases):
        result, ran = self.run_against(app)
        self.assertEqual(ran, [], "no test ran")
        message = failure_text(result)
        self.assertIn("Refusing to run tests with", message)
        for phrase in phrases:
            self.assertIn(phrase, message)
        self.assertEqual(self.redis.get(self.key), b"kept", "nothing on the server was flushed")
        self.assertNotIn("Traceback (most recent call last):\n  File", message.split("UnsafeServiceError")[0][-200:])

    def test_redis_cache_is_refused_with_what_to_configure(self):
        app = make_app(CACHE={"type": "proper.cache.RedisCache", "url": REDIS_URL})
        self.assert_refused(app, "proper.cache.redis_cache.RedisCache (CACHE)", "proper.cache.NoCache",
                            'allow_outside = ("cache",)')

    def test_redis_queue_is_refused(self):
        app = make_app(QUEUE={"type": "huey.RedisHuey", "url": REDIS_URL, "immediate": True})
        self.assert_refused(app, "huey.api.RedisHuey (QUEUE)", "RedisStorage", "huey.MemoryHuey")

    def test_redis_cable_is_refused_with_the_in_process_cable_to_use(self):
        app = make_app(CABLE={"type": "proper.channels.RedisCable", "url": REDIS_URL})
        self.assert_refused(app, "RedisCable (CABLE)", "CABLE = {}", "proper.channels.Cable")

    def test_opting_in_on_the_class_runs_the_tests(self):
        app = make_app(CACHE={"type": "proper.cache.RedisCache", "url": REDIS_URL})
        result, ran = self.run_against(app, allow_outside=("cache",))
        self.assertEqual(len(ran), 1, failure_text(result))
        self.assertTrue(result.wasSuccessful(), failure_text(result))
        self.assertEqual(self.redis.get(self.key), b"kept")

    def test_an_unknown_opt_in_is_named(self):
        result, ran = self.run_against(make_app(), allow_outside=("redis",))
        self.assertEqual(ran, [])
        self.assertIn("names 'redis': the names it takes are storage, cache, queue, cable, network",
                      failure_text(result))

    def test_in_process_services_pass(self):
        app = make_app(CACHE={"type": "proper.cache.SqliteCache", "database": ":memory:"})
        result, ran = self.run_against(app)
        self.assertEqual(len(ran), 1, failure_text(result))
