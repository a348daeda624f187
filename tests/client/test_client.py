"""The test client: requests inside the test transaction, bodies, uploads, cookies, sign-in,
redirects, and a database error in a request."""
import tempfile
import unittest
from pathlib import Path

import multidict
from parameterized import parameterized
from proper.helpers import jsonplus

from proper_unittest import AsyncChannelTestCase, ConfigurationError, InMemoryUpload, ProperTestCase

from tests.support.apps.journal.main import Entry
from tests.support.apps.notes.main import Note, Session, User
from tests.support.apps.testdb import backend
from tests.support.cases import JournalCase, WithAnn, after_each_request
from tests.support.inner import run_inner
from tests.support.outcomes import failures_of


APP = "tests.support.apps.notes.main:app"
PNG_BYTES = b"\x89PNG\r\n\x1a\n\x00\xff"


def record_requests(test):
    """Have the app report, at the end of each request, what it parsed:
    the request's content type and every value of each form field. The
    hook is removed when `test` ends."""
    seen = []

    def hook():
        from proper import current
        request = current.request
        form = request.form
        seen.append({
            "content_type": request.content_type,
            "form": {key: form.getall(key) for key in form},
        })

    after_each_request(test, hook)
    return seen


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

        differs, status, not_json = failures_of(self, run_inner(Inner), 3)
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


class CookiesAndSignInTests(WithAnn, ProperTestCase):
    app = APP

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


ACCEPTED = "sign_in() takes a Session (an object with a `token`"


class SignInArgumentTests(ProperTestCase):
    app = APP

    @parameterized.expand([
        ("none", None, "got NoneType None."),
        ("int", 42, "got int 42."),
        ("string", "ann", "got str 'ann'."),
        ("dict", {"token": "x"}, "got dict {'token': 'x'}."),
        ("user_class", User, "got the model class User."),
        ("session_class", Session, "got the model class Session."),
    ])
    def test_wrong_types_raise_a_TypeError_naming_what_is_accepted(self, _, value, got):
        with self.assertRaises(TypeError) as caught:
            self.sign_in(value)
        message = str(caught.exception)
        self.assertIn(ACCEPTED, message)
        self.assertIn("or a user model instance", message)
        self.assertTrue(message.endswith(got), message)
        self.assertNotIn("cookie", self.client.cookies)
        self.assertEqual(Session.select().count(), 0)

    def test_client_sign_in_checks_too(self):
        with self.assertRaises(TypeError):
            self.client.sign_in(None)

    def test_a_model_instance_without_a_session_model_is_a_configuration_error(self):
        note = Note.create(title="not a user")
        with self.assertRaisesRegex(ConfigurationError, "no model with a foreign key to Note"):
            self.sign_in(note)

    def test_a_user_and_a_session_still_work(self):
        ann = User.create(name="ann")
        session = self.sign_in(ann)
        self.assertEqual(session.user, ann)
        self.assertIs(self.sign_in(session), session)
        self.assertEqual(self.client.get("/me").body, "ann")


class AsyncSignInArgumentTests(AsyncChannelTestCase):
    app = APP

    async def test_wrong_type_in_an_async_test(self):
        with self.assertRaisesRegex(TypeError, "got int 7"):
            self.sign_in(7)
