"""travel_to() and travel(): the app's clock moves for the test and comes back after it."""
import datetime as dt
import time

from proper_unittest import ProperTestCase

from tests.support.apps.journal.main import Entry
from tests.support.cases import APP, JournalCase


UTC = dt.timezone.utc


class TimeTravelTests(JournalCase):
    def test_travel_to_freezes_the_clock_for_the_test_and_its_requests(self):
        moment = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
        self.travel_to(moment)
        self.assertEqual(dt.datetime.now(UTC), moment)
        self.assertEqual(self.client.get("/now").body, moment.isoformat())
        self.client.post("/entries", body={"text": "dated"})
        self.assertEqual(Entry.get().created_at.year, 2030)

    def test_as_a_context_manager_it_is_undone_at_the_end_of_the_block(self):
        with self.travel_to("2031-06-01T12:00:00Z") as clock:
            self.assertEqual(dt.date.today(), dt.date(2031, 6, 1))
            clock.shift(dt.timedelta(days=1))
            self.assertEqual(self.client.get("/now").body, "2031-06-02T12:00:00+00:00")
        self.assertGreater(dt.date.today().year, 2025)
        self.assertLess(dt.date.today().year, 2031)

    def test_travel_moves_forward_from_now(self):
        before = time.time()
        self.travel(3600)
        self.assertGreaterEqual(time.time() - before, 3600)

    def test_a_bad_delta_is_refused(self):
        with self.assertRaises(TypeError):
            self.travel("tomorrow")

    def test_the_clock_is_back_after_a_failing_test(self):
        from tests.support.inner import run_inner

        class Inner(ProperTestCase):
            app = APP

            def test_fails_in_2040(self):
                self.travel_to(dt.datetime(2040, 1, 1, tzinfo=UTC))
                self.fail("on purpose")

        result, _ = run_inner(Inner)
        self.assertEqual(len(result.failures), 1)
        self.assertLess(dt.date.today().year, 2040)
