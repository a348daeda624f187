"""assertChanges/assertNoChanges, the task, broadcast and template
assertions, following redirects and time travel: each passing, and failing
with a message that says what was expected and what came."""
import datetime as dt
import time

from proper_unittest import AsyncChannelTestCase, ProperTestCase
from tests.apps.journal.main import Entry, failing_task, index_entry


APP = "tests.apps.journal.main:app"
UTC = dt.timezone.utc


class JournalCase(ProperTestCase):
    app = APP

    def failure(self, assertion, *args, **kwargs) -> str:
        """The message of the AssertionError `assertion` raises."""
        with self.assertRaises(AssertionError) as raised:
            assertion(*args, **kwargs)
        return str(raised.exception)

    def block_failure(self, manager, block) -> str:
        """The message of the AssertionError the context `manager` raises around `block`."""
        with self.assertRaises(AssertionError) as raised:
            with manager:
                block()
        return str(raised.exception)


class ChangeAssertionTests(JournalCase):
    def test_by_from_and_to_pass_when_they_hold(self):
        with self.assertChanges(lambda: Entry.select().count(), by=2, from_=0, to=2):
            self.client.post("/entries", body={"text": "one"})
            self.client.post("/entries", body={"text": "two"})

    def test_any_change_passes_without_by_or_to(self):
        entry = Entry.create(text="old")
        with self.assertChanges(lambda: Entry.get_by_id(entry.id).text):
            entry.text = "new"
            entry.save()

    def test_a_wrong_difference_says_by_how_much_and_the_values(self):
        message = self.block_failure(
            self.assertChanges(lambda: Entry.select().count(), by=2),
            lambda: self.client.post("/entries", body={"text": "only one"}),
        )
        self.assertIn("Entry.select().count()", message)
        self.assertIn("expected a change by 2, it changed by 1", message)
        self.assertIn("Before the block: 0", message)
        self.assertIn("After the block:  1", message)

    def test_no_change_fails_when_a_change_was_expected(self):
        message = self.block_failure(self.assertChanges(lambda: Entry.select().count()), lambda: None)
        self.assertIn("expected it to change", message)

    def test_a_wrong_start_fails_before_the_block_runs(self):
        ran = []
        message = self.block_failure(
            self.assertChanges(lambda: Entry.select().count(), from_=5), lambda: ran.append(1)
        )
        self.assertIn("to be 5 before the block, it was 0", message)
        self.assertEqual(ran, [])

    def test_a_wrong_end_value_is_named(self):
        message = self.block_failure(
            self.assertChanges(lambda: Entry.select().count(), to=3),
            lambda: Entry.create(text="x"),
        )
        self.assertIn("expected it to become 3", message)
        self.assertIn("After the block:  1", message)

    def test_a_named_function_is_described_by_its_name(self):
        def entry_count():
            return Entry.select().count()

        message = self.block_failure(self.assertNoChanges(entry_count), lambda: Entry.create(text="x"))
        self.assertIn("entry_count()", message)
        self.assertIn("expected no change", message)

    def test_no_changes_passes_when_the_value_stays(self):
        with self.assertNoChanges(lambda: Entry.select().count()):
            self.client.get("/entries")

    def test_a_value_instead_of_a_callable_is_refused_with_the_fix(self):
        with self.assertRaises(TypeError) as raised:
            with self.assertChanges(Entry.select().count(), by=1):
                pass
        self.assertIn("takes a callable", str(raised.exception))
        self.assertIn("lambda:", str(raised.exception))

    def test_by_on_values_that_do_not_subtract_says_to_use_from_and_to(self):
        entry = Entry.create(text="a")
        with self.assertRaises(TypeError) as raised:
            with self.assertChanges(lambda: Entry.get_by_id(entry.id).text, by=1):
                Entry.update(text="b").execute()
        self.assertIn("use from_= and to=", str(raised.exception))


class TaskAssertionTests(JournalCase):
    def test_tasks_run_inline_are_recorded_with_their_arguments(self):
        self.client.post("/entries", body={"text": "hello"})
        entry = Entry.get()
        self.assertEqual(entry.text, "hello [indexed:new]")  # it did run, inline
        calls = self.assertEnqueued(index_entry, count=1, args=(entry.id,))
        self.assertTrue(calls[0].run)
        self.assertEnqueued("index_entry", kwargs={})
        self.assertNotEnqueued(failing_task)

    def test_a_missing_task_lists_what_was_enqueued(self):
        self.client.post("/entries", body={"text": "hello"})
        message = self.failure(self.assertEnqueued, failing_task)
        self.assertIn("Expected failing_task to be enqueued at least once; it was 0 time(s)", message)
        self.assertIn("1. index_entry(", message)
        self.assertIn("[ran]", message)

    def test_wrong_arguments_or_count_fail_with_the_filters_named(self):
        index_entry(Entry.create(text="a").id, reason="manual")
        message = self.failure(self.assertEnqueued, index_entry, args=(999,))
        self.assertIn("with args=(999,)", message)
        message = self.failure(self.assertEnqueued, index_entry, count=2, kwargs={"reason": "manual"})
        self.assertIn("2 time(s) with kwargs={'reason': 'manual'}; it was 1 time(s)", message)

    def test_not_enqueued_fails_with_the_calls(self):
        self.client.post("/entries", body={"text": "x"})
        message = self.failure(self.assertNotEnqueued, index_entry)
        self.assertIn("Expected index_entry not to be enqueued; it was 1 time(s)", message)

    def test_no_task_at_all_says_so(self):
        self.assertIn("No task was enqueued in this test.", self.failure(self.assertEnqueued, index_entry))

    def test_captured_tasks_are_recorded_and_run_enqueued_runs_them_once(self):
        with self.captureTasks() as tasks:
            self.client.post("/entries", body={"text": "held"})
        entry = Entry.get()
        self.assertEqual(entry.text, "held")
        [call] = self.assertEnqueued(index_entry, args=(entry.id,))
        self.assertFalse(call.run)
        self.assertEqual(self.runEnqueued(), ["held [indexed:new]"])
        self.assertEqual(Entry.get().text, "held [indexed:new]")
        self.assertEqual(self.runEnqueued(), [])  # nothing left: not run twice
        self.assertEqual(len(tasks), 1)

    def test_run_enqueued_runs_what_a_non_immediate_queue_holds_and_what_tasks_enqueue(self):
        self.app.queue.immediate = False
        entry = Entry.create(text="e")
        index_entry(entry.id, reason="chain")
        self.assertEqual(Entry.get().text, "e")
        self.runEnqueued()
        self.assertEqual(Entry.get().text, "e [indexed:chain] [indexed:again]")
        self.assertEnqueued(index_entry, count=2)
        self.assertEqual(len(self.app.queue.pending()), 0)

    def test_run_enqueued_skips_tasks_captured_and_already_run(self):
        with self.captureTasks() as tasks:
            index_entry(Entry.create(text="c").id)
        tasks.run()
        self.assertEqual(self.runEnqueued(), [])
        self.assertEqual(Entry.get().text, "c [indexed:new]")

    def test_a_failing_task_raises_from_run_enqueued(self):
        with self.captureTasks():
            self.client.get("/fail-task")
        with self.assertRaisesRegex(RuntimeError, "on purpose"):
            self.runEnqueued()

    def test_something_else_than_a_task_is_refused(self):
        with self.assertRaises(TypeError) as raised:
            self.assertEnqueued(42)
        self.assertIn("Expected a huey task", str(raised.exception))


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
        from tests.inner import run_inner

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


class TemplateAssertionTests(JournalCase):
    def test_the_rendered_view_and_its_imports_are_on_the_response(self):
        result = self.client.get(f"/entries/{Entry.create(text='t').id}")
        self.assertEqual(result.templates, ["entries/show.jx", "layouts/page.jx"])
        self.assertTemplateUsed(result, "entries/show.jx")
        self.assertTemplateUsed(result, "entries/show")
        self.assertTemplateUsed(result, "layouts/page.jx")
        self.assertTemplateNotUsed(result, "entries/index.jx")

    def test_a_template_not_rendered_fails_with_those_that_were(self):
        result = self.client.get("/entries")
        message = self.failure(self.assertTemplateUsed, result, "entries/show.jx")
        self.assertIn("Expected template 'entries/show.jx' to be rendered by GET /entries", message)
        self.assertIn("entries/index.jx", message)
        message = self.failure(self.assertTemplateNotUsed, result, "entries/index")
        self.assertIn("Did not expect template 'entries/index'", message)

    def test_a_response_without_template_says_so(self):
        result = self.client.get("/now")
        message = self.failure(self.assertTemplateUsed, result, "entries/show.jx")
        self.assertIn("not rendered from a template", message)

    def test_each_response_has_only_its_own_templates(self):
        self.client.get("/entries")
        self.assertEqual(self.client.get("/now").templates, [])

    def test_something_else_than_a_response_is_refused(self):
        with self.assertRaises(TypeError):
            self.assertTemplateUsed("entries/show.jx", "entries/show.jx")


class RedirectTests(JournalCase):
    def test_follow_redirects_keeps_the_chain_and_the_final_page(self):
        result = self.client.get("/hop/2", follow_redirects=True)
        self.assertEqual(result.status, 200)
        self.assertEqual(result.redirect_chain, [("/hop/1", 303), ("/hop/0", 303), ("/entries", 303)])
        self.assertRedirects(result, "/entries")
        self.assertTemplateUsed(result, "entries/index.jx")

    def test_a_post_is_followed_by_a_get(self):
        result = self.client.post("/entries", body={"text": "x"}, follow_redirects=True)
        entry = Entry.get()
        self.assertEqual(result.request, f"GET /entries/{entry.id}")
        self.assertRedirects(result, f"/entries/{entry.id}")
        self.assertContains(result, "x [indexed:new]")

    def test_307_repeats_the_method_and_body(self):
        result = self.client.post("/keep", body={"text": "again"}, follow_redirects=True)
        self.assertEqual(result.body, "kept again")
        self.assertRedirects(result, "/kept", status=307)

    def test_follow_goes_one_hop_at_a_time(self):
        first = self.client.get("/hop/1")
        self.assertRedirects(first, "/hop/0")
        second = first.follow()
        self.assertEqual(second.redirect_chain, [("/hop/0", 303)])
        third = second.follow()
        self.assertEqual(third.redirect_chain, [("/hop/0", 303), ("/entries", 303)])
        self.assertRedirects(third, "/entries")

    def test_a_chain_that_ends_elsewhere_fails_with_the_hops(self):
        result = self.client.get("/hop/1", follow_redirects=True)
        message = self.failure(self.assertRedirects, result, "/elsewhere")
        self.assertIn("Expected a 303 redirect ending at '/elsewhere' with a 200 page", message)
        self.assertIn("1. 303 -> /hop/0", message)
        self.assertIn("2. 303 -> /entries", message)
        message = self.failure(self.assertRedirects, result, "/entries", target_status=404)
        self.assertIn("with a 404 page", message)
        self.assertIn("GET /entries returned 200", message)

    def test_following_a_non_redirect_fails_clearly(self):
        message = self.failure(self.client.get("/now").follow)
        self.assertIn("GET /now returned 200 without a Location, not a redirect", message)

    def test_a_redirect_loop_stops_with_the_chain(self):
        message = self.failure(self.client.get, "/loop", follow_redirects=True)
        self.assertIn("More than 20 redirects", message)
        self.assertIn("/loop (303)", message)

    def test_not_following_leaves_an_empty_chain(self):
        result = self.client.get("/hop/0")
        self.assertEqual(result.redirect_chain, [])
        self.assertEqual(result.status, 303)


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
        from tests.inner import run_inner

        class Inner(ProperTestCase):
            app = APP

            def test_fails_in_2040(self):
                self.travel_to(dt.datetime(2040, 1, 1, tzinfo=UTC))
                self.fail("on purpose")

        result, _ = run_inner(Inner)
        self.assertEqual(len(result.failures), 1)
        self.assertLess(dt.date.today().year, 2040)


class AsyncAssertionTests(AsyncChannelTestCase):
    """The same assertions in an async test case, with the async client."""

    app = APP

    async def test_changes_tasks_broadcasts_and_templates(self):
        with self.assertChanges(lambda: Entry.select().count(), by=1):
            result = await self.client.post("/entries", body={"text": "async"}, follow_redirects=True)
        entry = Entry.get()
        self.assertRedirects(result, f"/entries/{entry.id}")
        self.assertTemplateUsed(result, "entries/show.jx")
        self.assertEnqueued(index_entry, args=(entry.id,))
        self.assertBroadcastOn("entries", {"id": entry.id, "text": "async"})
        with self.assertRaises(AssertionError) as raised:
            self.assertBroadcasts("entries", 2)
        self.assertIn("Expected 2 broadcast(s) on 'entries', 1 sent", str(raised.exception))

    async def test_follow_is_awaited_with_the_async_client(self):
        first = await self.client.get("/hop/1")
        second = await first.follow()
        self.assertEqual(second.redirect_chain, [("/hop/0", 303)])

    async def test_time_travel_reaches_async_requests(self):
        self.travel_to(dt.datetime(2032, 3, 4, tzinfo=UTC))
        result = await self.client.get("/now")
        self.assertEqual(result.body, "2032-03-04T00:00:00+00:00")

    async def test_run_enqueued_in_an_async_test(self):
        with self.captureTasks():
            await self.client.post("/entries", body={"text": "later"})
        self.runEnqueued()
        self.assertEqual(Entry.get().text, "later [indexed:new]")
