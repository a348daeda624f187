"""The test client of ProperTestCase: requests inside the test transaction,
bodies, uploads, cookies, sign-in, assertions and their failure messages,
and the overrides and captures a test uses around requests."""
import asyncio
import gc
import re
import tempfile
import unittest
import warnings
from pathlib import Path

import multidict
from parameterized import parameterized
from proper.cache.sqlite_cache import SqliteCache
from proper.helpers import jsonplus

from proper_unittest import (
    AsyncChannelTestCase, InMemoryUpload, ProperTestCase, override_cache, override_config,
)
from tests.apps.notes.main import Note, Session, User
from tests.apps.testdb import backend
from tests.inner import run_inner


APP = "tests.apps.notes.main:app"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\xff"


def record_requests(test):
    """Have the app report, at the end of each request, what it parsed:
    the request's content type and every value of each form field. The
    hook is removed when `test` ends."""
    app = test.app
    seen = []

    def hook():
        from proper import current
        request = current.request
        form = request.form
        seen.append({
            "content_type": request.content_type,
            "form": {key: form.getall(key) for key in form},
        })

    saved = app._on_teardown
    app.on_teardown(hook)
    test.addCleanup(setattr, app, "_on_teardown", saved)
    return seen


def failure_text(result) -> str:
    """Every failure and error message of an inner run, joined."""
    return "\n".join(text for _, text in result.failures + result.errors)


class RequestsInTheTestTransactionTests(ProperTestCase):
    app = APP

    def test_a_row_created_by_a_request_is_visible_to_the_test(self):
        result = self.client.post("/notes", body={"title": "Groceries"})
        note = Note.get(Note.title == "Groceries")
        self.assertRedirects(result, f"/notes/{note.id}", status=303)
        self.assertEqual(result.location, f"/notes/{note.id}")
        self.assertContains(self.client.get(f"/notes/{note.id}"), "Groceries")

    def test_a_row_created_by_the_test_is_visible_to_requests(self):
        Note.create(title="made by the test")
        self.assertEqual(self.client.get("/notes").body, "made by the test")

    def test_rows_from_requests_are_gone_in_the_next_test(self):
        class Inner(ProperTestCase):
            app = APP

            def test_1_creates_through_a_request(self):
                self.assertStatus(self.client.post("/notes", body={"title": "leaky?"}), 303)
                self.assertEqual(Note.select().count(), 1)

            def test_2_sees_nothing(self):
                self.assertEqual(Note.select().count(), 0)
                self.assertEqual(self.client.get("/notes").body, "")

        result, output = run_inner(Inner)
        self.assertEqual(result.testsRun, 2, output)
        self.assertTrue(result.wasSuccessful(), output)
        self.assertEqual(Note.select().count(), 0)


class BodiesTests(ProperTestCase):
    app = APP

    def test_json_sends_a_json_body_with_its_content_type(self):
        seen = record_requests(self)
        result = self.client.post("/api/notes", json={"title": "From JSON"})
        self.assertStatus(result, 201)
        self.assertEqual(seen[-1]["content_type"], "application/json")
        self.assertEqual(seen[-1]["form"], {"title": ["From JSON"]})
        note = Note.get(Note.title == "From JSON")
        self.assertEqual(result.json(), {"id": note.id, "title": "From JSON"})
        self.assertEqual(result.mimetype, "application/json")

    def test_json_keeps_an_explicit_content_type(self):
        seen = record_requests(self)
        result = self.client.post(
            "/api/notes", json={"title": "vendor"},
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        self.assertStatus(result, 201)
        self.assertEqual(seen[-1]["form"], {"title": ["vendor"]})

    def test_a_raw_json_string_without_content_type_is_not_parsed(self):
        # What json= adds: without the content type the app sees no form.
        result = self.client.post("/api/notes", body=jsonplus.dumps({"title": "raw"}))
        self.assertEqual(result.status, 500)
        self.assertFalse(Note.select().where(Note.title == "raw").exists())

    @parameterized.expand([("put",), ("patch",), ("delete",), ("query",)])
    def test_json_on_other_verbs(self, verb):
        seen = record_requests(self)
        result = getattr(self.client, verb)("/api/notes", json={"title": "x"})
        self.assertEqual(result.status, 405)  # /api/notes is POST only, but the body got there
        self.assertEqual(seen, [{"content_type": "application/json", "form": {"title": ["x"]}}])

    def test_assertJSON_passes_and_returns_the_data(self):
        result = self.client.post("/api/notes", json={"title": "ok"})
        note = Note.get(Note.title == "ok")
        data = self.assertJSON(result, {"id": note.id, "title": "ok"}, status=201)
        self.assertEqual(data["title"], "ok")

    def test_assertJSON_failure_messages(self):
        class Inner(ProperTestCase):
            app = APP

            def test_1_differs(self):
                self.assertJSON(self.client.post("/api/notes", json={"title": "real"}),
                                {"title": "expected"}, status=201)

            def test_2_wrong_status(self):
                self.assertJSON(self.client.post("/api/notes", json={"title": "x"}), {"title": "x"})

            def test_3_not_json(self):
                self.assertJSON(self.client.get("/notes"), [])

        result, output = run_inner(Inner)
        self.assertEqual(len(result.failures), 3, output)
        differs, status, not_json = (text for _, text in result.failures)
        self.assertIn("JSON body differs", differs)
        self.assertIn('"expected"', differs)
        self.assertIn('"real"', differs)
        self.assertIn("POST /api/notes", differs)
        self.assertIn("Expected status 200", status)
        self.assertIn("POST /api/notes returned 201 Created", status)
        self.assertIn("Expected a JSON body", not_json)
        self.assertIn("GET /notes returned 200 OK", not_json)

    def test_binary_response_keeps_its_bytes(self):
        result = self.client.get("/png")  # not valid UTF-8: Proper's client would raise
        self.assertStatus(result, 200)
        self.assertEqual(result.mimetype, "image/png")
        self.assertEqual(result.content, PNG_BYTES)
        self.assertIsInstance(result.content, bytes)
        self.assertIsInstance(result.body, str)
        self.assertTrue(result.body.startswith("\ufffdPNG"))

    @parameterized.expand([
        ("dict_with_a_list", {"title": ["first", "second"]}),
        ("multidict", multidict.MultiDict([("title", "first"), ("title", "second")])),
    ])
    def test_repeated_form_fields(self, _, body):
        seen = record_requests(self)
        result = self.client.post("/api/notes", body=body)
        self.assertEqual(seen[-1]["content_type"], "application/x-www-form-urlencoded")
        self.assertEqual(seen[-1]["form"], {"title": ["first", "second"]})
        self.assertJSON(result, {"id": Note.get().id, "title": "second"}, status=201)  # last one wins

    def test_multidict_body_with_uploads(self):
        seen = record_requests(self)
        result = self.client.post(
            "/upload",
            body=multidict.MultiDict([("tag", "a"), ("tag", "b"), ("other", "c")]),
            upload_files=[("file", InMemoryUpload("n.txt", "hi"))],
        )
        self.assertEqual(result.body, "n.txt:2:text/plain")
        self.assertTrue(seen[-1]["content_type"].startswith("multipart/form-data"))
        self.assertEqual(seen[-1]["form"]["tag"], ["a", "b"])
        self.assertEqual(seen[-1]["form"]["other"], ["c"])

    def test_params_go_in_the_query_string(self):
        result = self.client.get("/remember", params={"color": "green"})
        self.assertEqual(self.client.cookies["color"], "green")
        self.assertStatus(result, 200)


class UploadsTests(ProperTestCase):
    app = APP

    @parameterized.expand([
        ("guessed_type", InMemoryUpload("sunset.png", PNG_BYTES), f"sunset.png:{len(PNG_BYTES)}:image/png"),
        ("text_content", InMemoryUpload("notes.txt", "héllo"), "notes.txt:6:text/plain"),
        ("explicit_type", InMemoryUpload("data.bin", b"\x00\x01\x02", content_type="application/x-thing"),
         "data.bin:3:application/x-thing"),
        ("unknown_type", InMemoryUpload("blob", b"1234"), "blob:4:application/octet-stream"),
    ])
    def test_in_memory_upload(self, _, upload, echoed):
        result = self.client.post("/upload", upload_files=[("file", upload)])
        self.assertContains(result, echoed)
        self.assertEqual(result.body, echoed)

    def test_upload_from_a_path_sends_the_base_name(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "deep" / "photo.jpg"
            path.parent.mkdir()
            path.write_bytes(b"j" * 10)
            as_str = self.client.post("/upload", upload_files=[("file", str(path))])
            as_path = self.client.post("/upload", upload_files=[("file", path)])
        self.assertEqual(as_str.body, "photo.jpg:10:image/jpeg")
        self.assertEqual(as_path.body, "photo.jpg:10:image/jpeg")

    def test_several_files_in_one_field(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "b.txt"
            path.write_text("bbb")
            result = self.client.post("/upload", upload_files=[
                ("file", InMemoryUpload("a.png", PNG_BYTES)),
                ("file", str(path)),
            ])
        self.assertEqual(result.body, f"a.png:{len(PNG_BYTES)}:image/png;b.txt:3:text/plain")

    def test_form_fields_with_uploads_repeat_list_values(self):
        result = self.client.post(
            "/api/notes", body={"title": ["one", "two"]},
            upload_files=[("file", InMemoryUpload("a.txt", "a"))],
        )
        self.assertJSON(result, {"id": Note.get().id, "title": "two"}, status=201)

    def test_uploads_need_a_dict_body(self):
        with self.assertRaises(ValueError):
            self.client.post("/upload", body="raw", upload_files=[("file", InMemoryUpload("a.txt", "a"))])

    def test_from_path_reads_the_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "x.png"
            path.write_bytes(PNG_BYTES)
            upload = InMemoryUpload.from_path(path)
        self.assertEqual(
            (upload.filename, upload.content, upload.mimetype), ("x.png", PNG_BYTES, "image/png")
        )


class CookiesAndSignInTests(ProperTestCase):
    app = APP

    @classmethod
    def setUpTestData(cls):
        cls.ann = User.create(name="ann")

    def test_set_cookie_is_stored_and_sent_back(self):
        self.assertEqual(self.client.get("/cookies").body, "")
        self.client.get("/remember", params={"color": "red"})
        self.assertEqual(self.client.cookies, {"color": "red"})
        self.assertEqual(self.client.get("/cookies").body, "color=red")
        self.client.get("/remember", params={"color": "teal"})  # replaced, not added
        self.assertEqual(self.client.get("/cookies").body, "color=teal")

    def test_expired_cookies_are_removed_and_live_ones_kept(self):
        self.client.get("/remember", params={"color": "red", "max_age": "3600"})
        self.assertEqual(self.client.cookies, {"color": "red"})
        self.client.get("/forget")  # Max-Age=0 and an Expires of now
        self.assertEqual(self.client.cookies, {})
        self.assertEqual(self.client.get("/cookies").body, "")
        self.client.get("/remember", params={"color": "red"})
        self.client.get("/remember", params={"color": "blue", "max_age": "-1"})
        self.assertEqual(self.client.cookies, {})

    def test_a_quoted_cookie_value_is_unquoted(self):
        self.client.get("/remember", params={"color": '"sea green"'})
        self.assertEqual(self.client.cookies, {"color": "sea green"})

    def test_anonymous_me_redirects_to_sign_in(self):
        result = self.client.get("/me")
        self.assertRedirects(result, "/sign-in", status=303)

    def test_sign_in_with_a_user_creates_a_session(self):
        self.assertEqual(Session.select().count(), 0)
        session = self.sign_in(self.ann)
        self.assertIsInstance(session, Session)
        self.assertEqual(session.user_id, self.ann.id)
        self.assertEqual(Session.select().where(Session.user == self.ann).count(), 1)
        self.assertContains(self.client.get("/me"), "ann")

    def test_sign_in_with_a_session_uses_it(self):
        existing = Session.create_for_user(self.ann)
        returned = self.sign_in(existing)
        self.assertIs(returned, existing)
        self.assertEqual(Session.select().count(), 1)
        self.assertEqual(self.client.get("/me").body, "ann")

    def test_client_sign_in_accepts_a_user(self):
        self.client.sign_in(self.ann)  # a user, through the client: still works
        self.assertEqual(self.client.get("/me").body, "ann")

    def test_sign_in_keeps_other_cookies_and_sign_out_removes_only_auth(self):
        self.client.get("/remember", params={"color": "red"})
        self.sign_in(self.ann)
        sent = self.client.get("/cookies").body
        self.assertIn("color=red", sent)
        self.assertIn("_auth=", sent)
        self.assertEqual(self.client.get("/me").body, "ann")

        self.sign_out()
        sent = self.client.get("/cookies").body
        self.assertIn("color=red", sent)
        self.assertNotIn("_auth=", sent)
        self.assertRedirects(self.client.get("/me"), "/sign-in")
        self.assertEqual(Session.select().count(), 1)  # the DB session is left alone

    def test_a_fresh_test_starts_without_cookies(self):
        ann_id = self.ann.id

        class Inner(ProperTestCase):
            app = APP

            def test_1_collects_cookies(self):
                self.client.get("/remember", params={"color": "red"})
                self.sign_in(User.get_by_id(ann_id))
                self.assertEqual(self.client.get("/me").body, "ann")

            def test_2_starts_clean(self):
                self.assertEqual(self.client.cookies, {})
                self.assertEqual(self.client.get("/cookies").body, "")
                self.assertRedirects(self.client.get("/me"), "/sign-in")

        result, output = run_inner(Inner)
        self.assertEqual(result.testsRun, 2, output)
        self.assertTrue(result.wasSuccessful(), output)


class FailureMessagesTests(ProperTestCase):
    app = APP

    def test_passing_assertions(self):
        Note.create(title="aa")
        Note.create(title="ab")
        result = self.client.get("/notes")
        self.assertStatus(result, 200)
        self.assertContains(result, "aa")
        self.assertContains(result, "a", count=3)
        self.assertContains(result, "zz", count=0)
        self.assertNotContains(result, "zz")
        self.assertContains(self.client.get("/notes/999"), "no such note", status=404)
        self.assertNotContains(self.client.get("/notes/999"), "aa", status=404)

    def test_assertStatus_failure_shows_status_and_body(self):
        class Inner(ProperTestCase):
            app = APP

            def test_it(self):
                self.assertStatus(self.client.get("/notes/999"), 200)

        result, _ = run_inner(Inner)
        text = failure_text(result)
        self.assertEqual(len(result.failures), 1, text)
        self.assertIn("Expected status 200", text)
        self.assertIn("GET /notes/999 returned 404 Not Found", text)
        self.assertIn("no such note", text)

    def test_assertRedirects_failures(self):
        class Inner(ProperTestCase):
            app = APP

            def test_1_not_a_redirect(self):
                self.assertRedirects(self.client.get("/notes"), "/elsewhere")

            def test_2_wrong_location(self):
                self.assertRedirects(self.client.post("/notes", body={"title": "t"}), "/elsewhere")

            def test_3_wrong_status(self):
                result = self.client.post("/notes", body={"title": "t"})
                self.assertRedirects(result, result.location, status=302)

            def test_4_server_error(self):
                self.assertRedirects(self.client.get("/boom"), "/notes")

        result, output = run_inner(Inner)
        self.assertEqual(len(result.failures), 4, output)
        not_redirect, wrong_location, wrong_status, server_error = (text for _, text in result.failures)
        self.assertIn("Expected a 303 redirect to '/elsewhere'", not_redirect)
        self.assertIn("GET /notes returned 200 OK", not_redirect)
        self.assertIn("POST /notes returned 303 See Other", wrong_location)
        self.assertRegex(wrong_location, r"Location: /notes/\d+")
        self.assertIn("Expected a 302 redirect to", wrong_status)
        self.assertIn("returned 303 See Other", wrong_status)
        self.assertIn("GET /boom returned 500 Internal Server Error", server_error)
        self.assertIn("kaboom from the notes app", server_error)
        self.assertIn("Traceback", server_error)
        self.assertIn("raise ValueError", server_error)

    def test_assertContains_and_assertNotContains_failures(self):
        class Inner(ProperTestCase):
            app = APP

            def setUp(self):
                Note.create(title="aa")
                Note.create(title="ab")

            def test_1_count(self):
                self.assertContains(self.client.get("/notes"), "a", count=2)

            def test_2_missing(self):
                self.assertContains(self.client.get("/notes"), "zz")

            def test_3_status(self):
                self.assertContains(self.client.get("/notes"), "aa", status=201)

            def test_4_not_contains(self):
                self.assertNotContains(self.client.get("/notes"), "ab")

        result, output = run_inner(Inner)
        self.assertEqual(len(result.failures), 4, output)
        count, missing, status, not_contains = (text for _, text in result.failures)
        self.assertIn("Expected 'a' in the body 2 time(s), found 3", count)
        self.assertIn("aa,ab", count)
        self.assertIn("Expected 'zz' in the body at least once, found 0", missing)
        self.assertIn("Expected status 201", status)
        self.assertIn("Did not expect 'ab' in the body", not_contains)
        self.assertIn("aa,ab", not_contains)

    def test_msg_is_added_to_the_failure(self):
        class Inner(ProperTestCase):
            app = APP

            def test_it(self):
                self.assertStatus(self.client.get("/notes"), 404, msg="listing should be hidden")

        result, _ = run_inner(Inner)
        text = failure_text(result)
        self.assertIn("listing should be hidden", text)
        self.assertIn("Expected status 404", text)

    def test_a_server_error_keeps_the_app_traceback(self):
        result = self.client.get("/boom")
        self.assertEqual(result.status, 500)
        self.assertEqual(result.request, "GET /boom")
        self.assertEqual(len(result.app_tracebacks), 1)
        self.assertIn("ValueError: kaboom from the notes app", result.app_tracebacks[0])
        self.assertEqual(self.client.get("/notes").app_tracebacks, [])

    def test_traceback_is_still_recorded_after_an_inner_run(self):
        # The inner class's log is uninstalled at its class end; the outer
        # test's log must be the active one again.
        class Inner(ProperTestCase):
            app = APP

            def test_it(self):
                pass

        run_inner(Inner)
        result = self.client.get("/boom")
        self.assertEqual(result.status, 500)
        self.assertEqual(len(result.app_tracebacks), 1)

    def test_assertStatus_on_a_500_shows_the_traceback(self):
        class Inner(ProperTestCase):
            app = APP

            def test_it(self):
                self.assertStatus(self.client.get("/boom"), 200)

        result, _ = run_inner(Inner)
        text = failure_text(result)
        self.assertIn("GET /boom returned 500 Internal Server Error", text)
        self.assertIn("The app raised:", text)
        self.assertIn('main.py", line', text)
        self.assertIn("ValueError: kaboom from the notes app", text)


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


class DatabaseErrorTests(ProperTestCase):
    app = APP

    def test_integrity_error_in_a_request_leaves_the_test_usable(self):
        # On PostgreSQL the failed INSERT aborts the transaction; the client
        # rolls back to its savepoint. SQLite and MySQL go on by themselves.
        Note.create(title="before")
        self.client.post("/notes", body={"title": "dup"})
        result = self.client.post("/notes", body={"title": "dup"})
        self.assertEqual(result.status, 500)
        self.assertIn("IntegrityError", result.app_tracebacks[-1])
        self.assertEqual(sorted(n.title for n in Note.select()), ["before", "dup"])
        self.assertStatus(self.client.post("/notes", body={"title": "after"}), 303)
        self.assertEqual(self.client.get("/notes").body, "before,dup,after")

    @unittest.skipUnless(backend() == "postgresql", "the aborted-transaction problem is PostgreSQL's")
    def test_integrity_error_on_postgresql_does_not_poison_the_next_query(self):
        self.client.post("/notes", body={"title": "dup"})
        self.assertEqual(self.client.post("/notes", body={"title": "dup"}).status, 500)
        self.assertEqual(Note.select().count(), 1)  # would be InternalError: transaction is aborted


class NumQueriesTests(ProperTestCase):
    app = APP

    def test_exact_count_passes(self):
        Note.create(title="x")
        with self.assertNumQueries(1):
            self.client.get("/notes")
        with self.assertNumQueries(2):
            Note.create(title="y")
            self.client.get("/notes")
        with self.assertNumQueries(0):
            self.client.get("/flag")

    def test_failure_lists_the_queries(self):
        class Inner(ProperTestCase):
            app = APP

            def test_too_few(self):
                with self.assertNumQueries(3):
                    self.client.get("/notes")

            def test_too_many(self):
                with self.assertNumQueries(0):
                    self.client.post("/notes", body={"title": "q"})

        result, output = run_inner(Inner)
        self.assertEqual(len(result.failures), 2, output)
        too_few, too_many = (text for _, text in result.failures)
        self.assertIn("Expected 3 queries, 1 ran:", too_few)
        self.assertRegex(too_few, r"1\. SELECT .* FROM [`\"]note[`\"]")
        self.assertIn("Expected 0 queries, 1 ran:", too_many)
        self.assertRegex(too_many, r"1\. INSERT INTO [`\"]note[`\"]")
        self.assertNotRegex(too_few + too_many, re.compile(r"SAVEPOINT|RELEASE", re.I))


class CaptureTasksTests(ProperTestCase):
    app = APP

    def test_tasks_are_captured_not_run(self):
        with self.captureTasks() as tasks:
            result = self.client.post("/notes", body={"title": "t", "count": "1"})
        self.assertStatus(result, 303)
        self.assertEqual(tasks.names, ["count_note"])
        self.assertEqual(tasks[0].args, ("t",))
        self.assertEqual([n.title for n in Note.select()], ["t"])  # nothing ran

        self.assertEqual(tasks.run(), ["T"])
        self.assertEqual([n.title for n in Note.select().order_by(Note.id)], ["t", "counted:t"])
        self.assertEqual(len(tasks), 0)

    def test_outside_the_capture_tasks_run_inline_again(self):
        with self.captureTasks() as tasks:
            pass
        self.assertEqual(tasks.names, [])
        self.client.post("/notes", body={"title": "u", "count": "1"})
        self.assertTrue(Note.select().where(Note.title == "counted:u").exists())


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


if __name__ == "__main__":
    unittest.main()
