"""Test cases the flight-recorder tests run from inside a test; the module
name keeps discovery (unittest and pytest) from collecting them."""
from proper_unittest import ProperTestCase
from tests.support.apps.journal.main import Entry


APP = "tests.support.apps.journal.main:app"


class BusyFailingTest(ProperTestCase):
    """Does a bit of everything, then fails (run from inside the tests)."""

    app = APP

    def test_busy_then_fails(self):
        self.client.post("/entries", body={"text": "one", "mail": "ann@example.com"}, follow_redirects=True)
        self.client.post("/entries", body={"text": "two"})
        self.client.post("/entries", body={"text": "three"})
        self.client.get("/entries")
        self.assertEqual(Entry.select().count(), 99, "the count")
