"""What changes when the app has a real cache (tests use NoCache)."""
from myapp.controllers.pages_controller import STATS_CACHE_KEY
from myapp.models import Photo
from proper_unittest import ProperTestCase, override_cache

from .factories import PASSWORD, make_photo, make_user


class StatsCacheTests(ProperTestCase):
    """GET /stats keeps the photo count in `app.cache` for 5 minutes."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")
        make_photo(cls.alice, "First")

    def test_with_a_real_cache_the_count_is_reused(self):
        with override_cache():
            self.assertContains(self.client.get("/stats"), "1 photo<")
            make_photo(self.alice, "Second")
            self.assertContains(self.client.get("/stats"), "1 photo<")
            self.assertEqual(self.app.cache.get(STATS_CACHE_KEY), 1)
        # Back to NoCache: fresh again.
        self.assertContains(self.client.get("/stats"), "2 photos")

    def test_without_a_cache_every_request_counts_the_photos(self):
        for _ in range(2):
            with self.assertNumQueries(1):
                self.assertContains(self.client.get("/stats"), "1 photo<")

    def test_a_cache_hit_survives_the_rows_going_away(self):
        with override_cache():
            self.client.get("/stats")
            Photo.delete().execute()
            self.assertContains(self.client.get("/stats"), "1 photo<")
        self.assertContains(self.client.get("/stats"), "0 photos")


class SignInRateLimitTests(ProperTestCase):
    """Five failed sign-ins per login within 15 minutes; needs a real cache."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")

    def attempt(self, password="wrong password!", login="alice@example.com"):
        return self.client.post("/sign-in", body={"login": login, "password": password})

    def test_nocache_never_rate_limits(self):
        for _ in range(8):
            self.assertStatus(self.attempt(), 422)

    @override_cache()
    def test_sixth_attempt_is_refused_with_a_real_cache(self):
        for _ in range(5):
            self.assertStatus(self.attempt(), 422)
        result = self.attempt(password=PASSWORD)
        self.assertStatus(result, 429)
        self.assertIn("Too many sign-in attempts", result.body)
        self.assertEqual(self.alice.sessions.count(), 0)

    @override_cache()
    def test_limit_is_per_login(self):
        for _ in range(5):
            self.attempt()
        self.assertStatus(self.attempt(login="someone-else@example.com"), 422)

    @override_cache()
    def test_successful_sign_in_resets_the_count(self):
        for _ in range(4):
            self.attempt()
        self.assertRedirects(self.attempt(password=PASSWORD), "/dashboard")
        self.sign_out()
        for _ in range(5):
            self.assertStatus(self.attempt(), 422)
