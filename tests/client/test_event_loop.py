"""The synchronous client's event loop: one per test (a loop the test left as new
serves the next one), and each request still runs in its own copy of the test's context."""
import asyncio
import contextlib
import gc
import os
import signal
import socket
import threading
import warnings

from parameterized import parameterized
from proper import current

from proper_unittest import ProperTestCase

from tests.support.apps.notes.main import Note, User
from tests.support.inner import NotesCase, run_inner
from tests.support.cases import after_each_request


APP = "tests.support.apps.notes.main:app"


class EventLoopTests(ProperTestCase):
    app = APP

    @parameterized.expand([("get",), ("post",), ("delete",)])
    def test_sync_client_inside_a_running_loop_says_what_to_use(self, verb):
        async def scenario():
            with self.assertRaises(RuntimeError) as caught:
                getattr(self.client, verb)("/notes")
            return str(caught.exception)

        with warnings.catch_warnings(record=True) as caught_warnings:
            warnings.simplefilter("always")
            message = asyncio.run(scenario())
            gc.collect()
        self.assertIn(f"await self.async_client.{verb}(", message)
        self.assertIn(f"client.{verb}() was called inside a running event loop", message)
        never_awaited = [w for w in caught_warnings if "never awaited" in str(w.message)]
        self.assertEqual(never_awaited, [])

    def test_async_client_under_asyncio_run_shares_transaction_and_cookies(self):
        async def scenario():
            created = await self.async_client.post("/notes", body={"title": "async note"})
            listing = await self.async_client.get("/notes")
            await self.async_client.get("/remember", params={"color": "plum"})
            return created, listing

        created, listing = asyncio.run(scenario())
        note = Note.get(Note.title == "async note")
        self.assertRedirects(created, f"/notes/{note.id}")
        self.assertEqual(listing.body, "async note")
        # One cookie jar for both clients.
        self.assertEqual(self.client.get("/cookies").body, "color=plum")
        self.sign_in(User.create(name="bea"))

        async def me():
            return await self.async_client.get("/me")

        self.assertEqual(asyncio.run(me()).body, "bea")


def _executor_threads():
    """The live threads of asyncio's default executors."""
    return [t.name for t in threading.enumerate() if t.name.startswith("asyncio_") and t.is_alive()]


def loops_of_two_tests(change_in_first=None):
    """Run an inner class of two tests that make one request each (in the
    first, `change_in_first` is given the running loop at the request's
    end); check they passed; return the loop of each request, in order."""
    loops = []

    class Inner(NotesCase):
        def test_one(self):
            if change_in_first is not None:
                after_each_request(self, lambda: change_in_first(asyncio.get_running_loop()))
            self._request_once()

        def test_two(self):
            self._request_once()

        def _request_once(self):
            seen = watch_requests(self)
            self.client.get("/cookies")
            loops.extend(seen["loops"])

    result, output = run_inner(Inner)
    if not result.wasSuccessful() or len(loops) != 2:
        raise AssertionError(f"expected two passing tests of one request each, got {loops!r}:\n{output}")
    return loops


def _thread_left_with(loop):
    """Start a thread that holds `loop` until _let_go_of_what_changes_left."""
    thread = threading.Thread(target=lambda: _release.wait() and loop, daemon=True)
    thread.start()
    _left_threads.append(thread)


_release = threading.Event()
_left_threads = []


def _socket_pair():
    """Two connected sockets, closed by _let_go_of_what_changes_left."""
    pair = socket.socketpair()
    _open_sockets.extend(pair)
    return pair


_open_sockets = []


def _let_go_of_what_changes_left():
    """End the threads and close the sockets the changes above left. (Not a
    tearDownModule: each inner run of this module's classes would run it.)"""
    _release.set()
    while _left_threads:
        _left_threads.pop().join()
    _release.clear()
    while _open_sockets:
        _open_sockets.pop().close()


def watch_requests(test, *, set_marker=None, leave_task=False):
    """At the end of each request of `test`, record the running loop (and,
    if asked, set ``current.marker`` or start a task that never ends).
    Returns the records; the hook is removed when `test` ends."""
    seen = {"loops": [], "tasks": []}

    def hook():
        loop = asyncio.get_running_loop()
        seen["loops"].append(loop)
        if set_marker is not None:
            current.marker = set_marker
        if leave_task:
            seen["tasks"].append(loop.create_task(asyncio.sleep(3600)))

    after_each_request(test, hook)
    return seen


class OneLoopPerTestTests(ProperTestCase):
    app = APP

    def test_the_requests_of_a_test_run_in_one_loop(self):
        seen = watch_requests(self)
        self.client.get("/cookies")
        self.client.post("/notes", body={"title": "one loop"})
        self.client.get("/notes")
        self.assertEqual(len(seen["loops"]), 3)
        self.assertEqual(len({id(loop) for loop in seen["loops"]}), 1)
        self.assertFalse(seen["loops"][0].is_running())

    def test_a_loop_a_test_left_as_new_serves_the_next_test(self):
        loops = loops_of_two_tests()
        self.assertIs(loops[0], loops[1])
        self.assertFalse(loops[0].is_closed())  # kept for the next test: closed at exit or before a fork

    @parameterized.expand([
        ("a callback scheduled", lambda loop: loop.call_later(3600, print, "late")),
        ("a task factory",
         lambda loop: loop.set_task_factory(lambda loop, coro, **kw: asyncio.Task(coro, loop=loop, **kw))),
        ("an exception handler", lambda loop: loop.set_exception_handler(lambda loop, context: None)),
        ("debug on", lambda loop: loop.set_debug(True)),
        ("a slow callback duration", lambda loop: setattr(loop, "slow_callback_duration", 5.0)),
        ("a watched descriptor", lambda loop: loop.add_reader(_socket_pair()[0], print, "readable")),
        ("a signal handler", lambda loop: loop.add_signal_handler(signal.SIGUSR2, print, "signal")),
        ("a thread that may still call it", lambda loop: _thread_left_with(loop)),
    ])
    def test_a_loop_a_test_changed_is_closed_and_the_next_test_gets_a_new_one(self, _, change):
        self.addCleanup(_let_go_of_what_changes_left)
        loops = loops_of_two_tests(change_in_first=change)
        self.assertIsNot(loops[0], loops[1])
        self.assertTrue(loops[0].is_closed())

    def test_a_kept_loop_is_closed_before_a_fork(self):
        kept = loops_of_two_tests()[-1]
        self.assertFalse(kept.is_closed())
        pid = os.fork()
        if pid == 0:
            os._exit(0 if kept.is_closed() else 1)
        _, status = os.waitpid(pid, 0)
        self.assertEqual(os.waitstatus_to_exitcode(status), 0)  # the child got it closed
        self.assertTrue(kept.is_closed())

    def test_what_a_request_leaves_to_shut_down_is_shut_down_when_the_test_ends(self):
        # A suspended async generator is closed (its finally runs) and the
        # default executor's threads are ended, as asyncio.run does.
        seen = {}

        class Inner(NotesCase):
            def test_one(self):
                def hook():
                    async def held():
                        try:
                            yield 1
                        finally:
                            seen["generator closed"] = True

                    generator = held()
                    with contextlib.suppress(StopIteration):
                        generator.__anext__().send(None)  # suspended at its yield
                    seen["generator"] = generator
                    loop = asyncio.get_running_loop()
                    seen["executor"] = loop.run_in_executor(None, int)
                    seen["loop"] = loop

                after_each_request(self, hook)
                self.client.get("/cookies")
                seen["executor threads"] = _executor_threads()
                seen["closed during the test"] = seen.get("generator closed", False)

        result, output = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertFalse(seen["closed during the test"])
        self.assertTrue(seen["generator closed"])
        self.assertNotEqual(seen["executor threads"], [])
        self.assertEqual(_executor_threads(), [])
        self.assertTrue(seen["loop"].is_closed())

    def test_a_callback_a_request_leaves_ready_runs_when_the_test_ends(self):
        # asyncio.run's shut-down runs the loop once more, which runs it.
        seen = {}

        class Inner(NotesCase):
            def test_one(self):
                def hook():
                    loop = asyncio.get_running_loop()
                    # Scheduled by a callback of the request's last loop
                    # pass: still waiting when the request returns.
                    loop.call_soon(loop.call_soon, seen.setdefault, "ran", True)

                after_each_request(self, hook)
                self.client.get("/cookies")
                seen["ran during the test"] = seen.get("ran", False)

        result, output = run_inner(Inner)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(seen, {"ran during the test": False, "ran": True})

    def test_a_keyboard_interrupt_in_a_request_goes_on_to_the_test_and_nowhere_else(self):
        # Not also logged by asyncio as "Task exception was never retrieved"
        # when the request's task is collected after the loop closed.
        class Inner(NotesCase):
            def test_one(self):
                def hook():
                    raise KeyboardInterrupt

                after_each_request(self, hook)
                with self.assertRaises(KeyboardInterrupt):
                    self.client.get("/cookies")

        with self.assertNoLogs("asyncio", level="ERROR"):
            result, output = run_inner(Inner)
            gc.collect()
        self.assertTrue(result.wasSuccessful(), output)

    def test_nothing_a_request_sets_in_current_reaches_the_test_or_the_next_request(self):
        watch_requests(self, set_marker="set by a request")
        self.client.get("/cookies")
        self.assertIsNone(getattr(current, "marker", None))
        self.assertEqual(self.client.get("/current").body, "None")
        self.assertEqual(self.client.get("/current").body, "None")

    def test_every_request_sees_what_the_test_set_in_current_just_before(self):
        current.marker = "first"
        self.assertEqual(self.client.get("/current").body, "'first'")
        current.marker = "second"
        self.assertEqual(self.client.get("/current").body, "'second'")

    def test_tasks_a_request_leaves_behind_are_cancelled_when_it_returns(self):
        seen = watch_requests(self, leave_task=True)
        self.client.get("/cookies")
        self.assertTrue(seen["tasks"][0].cancelled())
        self.client.get("/cookies")
        self.assertTrue(seen["tasks"][1].cancelled())

    def test_asyncio_run_between_requests_still_works(self):
        seen = watch_requests(self)
        self.client.post("/notes", body={"title": "before"})

        async def in_its_own_loop():
            response = await self.async_client.post("/notes", body={"title": "during"})
            return response.status, asyncio.get_running_loop()

        status, other_loop = asyncio.run(in_its_own_loop())
        self.assertEqual(status, 303)
        self.assertTrue(other_loop.is_closed())
        self.assertEqual(self.client.get("/notes").body, "before,during")
        self.assertIs(seen["loops"][0], seen["loops"][-1])
        self.assertIsNot(seen["loops"][0], other_loop)

    def test_a_request_from_another_thread_runs_in_a_loop_of_its_own(self):
        seen = watch_requests(self)
        self.client.get("/cookies")
        replies = []
        worker = threading.Thread(target=lambda: replies.append(self.client.get("/cookies").status))
        worker.start()
        worker.join()
        self.assertEqual(replies, [200])
        self.assertIsNot(seen["loops"][0], seen["loops"][1])
        self.assertTrue(seen["loops"][1].is_closed())  # asyncio.run's loop
        self.assertFalse(seen["loops"][0].is_closed())  # the test's, until it ends
