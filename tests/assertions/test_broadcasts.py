"""The broadcast assertions."""
from proper_unittest import ProperTestCase

from tests.support.apps.journal.main import Entry
from tests.support.cases import APP, JournalCase


class BroadcastAssertionTests(JournalCase):
    def test_broadcasts_are_recorded_and_still_delivered(self):
        with self.captureBroadcasts("entries") as sent:  # a listener on the cable: still delivered
            self.client.post("/entries", body={"text": "hi"})
        entry = Entry.get()
        self.assertBroadcastOn("entries", {"id": entry.id, "text": "hi"})
        self.assertBroadcasts("entries", 1)
        self.assertNoBroadcasts("elsewhere")
        self.assertEqual(len(sent), 1)
        self.assertEqual(self.broadcasts[0].stream, "entries")

    def test_wrong_data_lists_the_broadcasts(self):
        self.app.cable.broadcast("entries", {"id": 1})
        message = self.failure(self.assertBroadcastOn, "entries", {"id": 2})
        self.assertIn("Expected a broadcast on 'entries' of {'id': 2}", message)
        self.assertIn("1. entries: {'id': 1}", message)

    def test_a_boolean_matches_only_a_boolean(self):
        self.app.cable.broadcast("flags", {"ok": 1, "items": [0]})
        self.assertBroadcastOn("flags", {"ok": 1.0, "items": [0]})
        self.failure(self.assertBroadcastOn, "flags", {"ok": True, "items": [0]})
        self.failure(self.assertBroadcastOn, "flags", {"ok": 1, "items": [False]})
        self.app.cable.broadcast("bare", True)
        self.assertBroadcastOn("bare", True)
        self.failure(self.assertBroadcastOn, "bare", 1)

    def test_wrong_count_and_unexpected_broadcasts_fail(self):
        self.app.cable.broadcast("a", 1)
        self.app.cable.broadcast("a", 2)
        self.assertIn("Expected 1 broadcast(s) on 'a', 2 sent", self.failure(self.assertBroadcasts, "a", 1))
        self.assertIn("Expected no broadcasts at all, 2 sent", self.failure(self.assertNoBroadcasts))
        self.assertIn("Expected no broadcasts on 'a'", self.failure(self.assertNoBroadcasts, "a"))
        self.assertNoBroadcasts("b")

    def test_nothing_broadcast_says_so(self):
        self.assertIn("Nothing was broadcast in this test.", self.failure(self.assertBroadcastOn, "x", 1))

    def test_the_cable_and_the_queue_are_put_back_after_each_test(self):
        from huey import signals
        from tests.support.inner import run_inner

        cable, queue = self.app.cable, self.app.queue
        broadcast_before = cable.broadcast  # this test's own wrapper
        receivers_before = {name: list(found) for name, found in queue._signal.receivers.items()}

        class Inner(ProperTestCase):
            app = APP

            def test_fails_after_a_broadcast(self):
                self.app.cable.broadcast("inner", 1)
                self.fail("on purpose")

        result, _ = run_inner(Inner)
        self.assertEqual(len(result.failures), 1)
        self.assertIs(cable.broadcast, broadcast_before)
        enqueued = signals.SIGNAL_ENQUEUED
        self.assertEqual(queue._signal.receivers.get(enqueued), receivers_before.get(enqueued))
        # The inner test's broadcast went through our wrapper too.
        self.assertEqual([b.stream for b in self.broadcasts], ["inner"])
