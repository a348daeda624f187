"""The response, email and query-count assertions: their failure messages say what was
expected and what came."""
import logging
import re
import sys
import types
from contextlib import contextmanager

import peewee as pw
from proper.emails import EmailMessage

from proper_unittest import ProperTestCase, override_cache

from tests.support.apps.notes.main import Note
from tests.support.inner import run_inner
from tests.support.outcomes import failure_text, failures_of


APP = "tests.support.apps.notes.main:app"


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

        not_redirect, wrong_location, wrong_status, server_error = failures_of(self, run_inner(Inner), 4)
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

    def test_a_relative_location_matches_only_the_apps_own_origin(self):
        note = Note.create(title="n")
        for elsewhere in (f"https://evil.example.net/notes/{note.id}", f"//evil.example.net/notes/{note.id}",
                          f"https://example.com/notes/{note.id}", f"http://example.com:8080/notes/{note.id}"):
            with self.subTest(elsewhere):
                result = self.client.get("/go", params={"to": elsewhere})
                self.assertEqual(result.location, elsewhere)
                with self.assertRaises(AssertionError):
                    self.assertRedirects(result, f"/notes/{note.id}")
                self.assertRedirects(result, elsewhere)
        on_the_app = self.client.get("/go", params={"to": f"http://example.com/notes/{note.id}"})
        self.assertRedirects(on_the_app, f"/notes/{note.id}")
        on_https = self.client.get("https://example.com/go", params={"to": f"https://example.com/notes/{note.id}"})
        self.assertRedirects(on_https, f"/notes/{note.id}")

    def test_fragments_must_match_when_either_side_has_one(self):
        result = self.client.get("/go", params={"to": "/notes/1#wrong"})
        with self.assertRaises(AssertionError):
            self.assertRedirects(result, "/notes/1")
        with self.assertRaises(AssertionError):
            self.assertRedirects(result, "/notes/1#right")
        self.assertRedirects(result, "/notes/1#wrong")
        with self.assertRaises(AssertionError):
            self.assertRedirects(self.client.get("/go", params={"to": "/notes/1"}), "/notes/1#top")

    def test_a_followed_redirect_keeps_its_host_and_fragment(self):
        note = Note.create(title="n")
        offsite = self.client.get("/go", params={"to": f"https://evil.example.net/notes/{note.id}"},
                                  follow_redirects=True)
        self.assertEqual(offsite.redirect_chain, [(f"/notes/{note.id}", 303)])
        with self.assertRaises(AssertionError):
            self.assertRedirects(offsite, f"/notes/{note.id}")
        fragment = self.client.get("/go", params={"to": f"/notes/{note.id}#wrong"}, follow_redirects=True)
        with self.assertRaises(AssertionError):
            self.assertRedirects(fragment, f"/notes/{note.id}")
        self.assertRedirects(fragment, f"/notes/{note.id}#wrong")
        self.assertRedirects(self.client.get("/go", params={"to": f"/notes/{note.id}"}, follow_redirects=True),
                             f"/notes/{note.id}")

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

        count, missing, status, not_contains = failures_of(self, run_inner(Inner), 4)
        self.assertIn("Expected 'a' in the body 2 time(s), found 3", count)
        self.assertIn("aa,ab", count)
        self.assertIn("Expected 'zz' in the body at least once, found 0", missing)
        self.assertIn("Expected status 201", status)
        self.assertIn("Did not expect 'ab' in the body", not_contains)
        self.assertIn("aa,ab", not_contains)

    def test_empty_text_is_refused(self):
        result = self.client.get("/notes")
        for assertion in (self.assertContains, self.assertNotContains):
            with self.subTest(assertion.__name__), self.assertRaises(ValueError) as raised:
                assertion(result, "")
            self.assertIn("give the text to look for", str(raised.exception))

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

        too_few, too_many = failures_of(self, run_inner(Inner), 2)
        self.assertIn("Expected 3 queries, 1 ran:", too_few)
        self.assertRegex(too_few, r"1\. SELECT .* FROM [`\"]note[`\"]")
        self.assertIn("Expected 0 queries, 1 ran:", too_many)
        self.assertRegex(too_many, r"1\. INSERT INTO [`\"]note[`\"]")
        self.assertNotRegex(too_few + too_many, re.compile(r"SAVEPOINT|RELEASE", re.I))

    def assertBlockCountsOneQuery(self, silenced_during):
        """assertNumQueries(0) fails around a real query while `silenced_during`
        (a context manager) silences the "peewee" logger."""
        with self.assertRaises(AssertionError) as raised:
            with silenced_during(), self.assertNumQueries(0):
                list(Note.select())
        self.assertIn("Expected 0 queries, 1 ran:", str(raised.exception))

    def test_logging_disabled_does_not_hide_queries(self):
        @contextmanager
        def logging_disabled():
            logging.disable(logging.CRITICAL)
            try:
                yield
            finally:
                logging.disable(logging.NOTSET)

        self.assertBlockCountsOneQuery(logging_disabled)

    def test_a_disabled_peewee_logger_does_not_hide_queries(self):
        # What pytest's --log-disable=peewee does.
        @contextmanager
        def logger_disabled():
            logging.getLogger("peewee").disabled = True
            try:
                yield
            finally:
                logging.getLogger("peewee").disabled = False

        self.assertBlockCountsOneQuery(logger_disabled)

    def test_a_filter_on_the_peewee_logger_does_not_hide_queries(self):
        @contextmanager
        def filtered():
            def refuse(record):
                return False

            logging.getLogger("peewee").addFilter(refuse)
            try:
                yield
            finally:
                logging.getLogger("peewee").removeFilter(refuse)

        self.assertBlockCountsOneQuery(filtered)

    def test_silencing_inside_the_block_does_not_hide_queries(self):
        peewee_logger = logging.getLogger("peewee")
        level = peewee_logger.level
        with self.assertRaises(AssertionError):
            with self.assertNumQueries(0):
                peewee_logger.disabled = True
                peewee_logger.setLevel(logging.CRITICAL)
                try:
                    list(Note.select())
                finally:
                    peewee_logger.disabled = False
                    peewee_logger.setLevel(level)

    def test_the_yielded_counter_and_nested_blocks(self):
        Note.create(title="n")
        with self.assertNumQueries(2) as outer:
            list(Note.select())
            with self.assertNumQueries(1) as inner:
                self.client.get("/notes")
        self.assertEqual(inner.count, 1)
        self.assertEqual(outer.count, 2)
        self.assertEqual(len(outer.get_queries()), 2)
        self.assertRegex(inner.get_queries()[0].msg[0], r"SELECT .* FROM [`\"]note[`\"]")

    def test_the_peewee_logger_is_put_back_and_still_logs(self):
        peewee_logger = logging.getLogger("peewee")
        with self.assertNumQueries(1):
            self.assertIsNot(pw.logger, peewee_logger)
            with self.assertLogs("peewee", logging.DEBUG) as logged:
                list(Note.select())
        self.assertIs(pw.logger, peewee_logger)
        self.assertEqual(len(logged.records), 1)
        self.assertIsInstance(logged.records[0].msg, tuple)

    def test_every_module_holding_the_peewee_logger_counts(self):
        # As playhouse.apsw_ext does: `from peewee import logger`.
        driver = types.ModuleType("tests_driver_logging_queries")
        driver.logger = pw.logger
        sys.modules[driver.__name__] = driver
        self.addCleanup(sys.modules.pop, driver.__name__)
        with self.assertNumQueries(1) as counter:
            driver.logger.debug(("SELECT 1", ()))
        self.assertIs(driver.logger, logging.getLogger("peewee"))
        self.assertEqual(counter.get_queries()[0].msg, ("SELECT 1", ()))

    def test_a_sqlite_cache_counts(self):
        with override_cache():
            with self.assertRaises(AssertionError) as raised:
                with self.assertNumQueries(0):
                    self.client.get("/visits")
        self.assertRegex(str(raised.exception), r"Expected 0 queries, [1-9]\d* ran:")


class JSONComparisonTests(ProperTestCase):
    app = APP

    def test_a_boolean_equals_only_a_boolean(self):
        result = self.client.get("/api/status")
        self.assertJSON(result, {"ok": 1, "count": 1, "flags": [0, True]})  # one number type in JSON
        for expected in ({"ok": True, "count": 1, "flags": [0, True]},
                         {"ok": 1, "count": True, "flags": [0, True]},
                         {"ok": 1, "count": 1, "flags": [False, True]}):
            with self.subTest(expected=expected), self.assertRaises(AssertionError):
                self.assertJSON(result, expected)

    def test_partial_too(self):
        result = self.client.get("/api/status")
        self.assertJSON(result, {"ok": 1, "flags": [0, True]}, partial=True)
        for expected in ({"ok": True}, {"flags": [False, True]}, {"flags": [0, 1]}):
            with self.subTest(expected=expected), self.assertRaises(AssertionError) as raised:
                self.assertJSON(result, expected, partial=True)
            self.assertIn("does not contain the expected part", str(raised.exception))


def send(**fields):
    EmailMessage(subject=fields.pop("subject", "Welcome aboard"), body="hello", **fields).send()


class EmailAddressTests(ProperTestCase):
    app = "tests.support.apps.notes.main:app"

    def test_an_address_does_not_match_a_longer_one_containing_it(self):
        send(to="malice@example.com")
        with self.assertRaises(AssertionError) as caught:
            self.assertEmailSent(to="alice@example.com")
        self.assertIn("Expected at least one email matching to='alice@example.com'; 0 matched", str(caught.exception))
        self.assertIn("To: malice@example.com", str(caught.exception))
        self.assertEmailSent(to="malice@example.com", count=1)

    def test_nor_a_part_of_the_domain(self):
        send(to="alice@example.com.evil")
        with self.assertRaises(AssertionError):
            self.assertEmailSent(to="alice@example.com")

    def test_whole_addresses_in_to_and_cc_with_display_names_and_any_case(self):
        send(to=["Bob <bob@example.com>", "carol@example.com"], cc="Alice <Alice@Example.com>")
        self.assertEmailSent(to="alice@example.com", count=1)
        self.assertEmailSent(to="Carol <carol@example.com>", count=1)
        self.assertEmailSent(to="BOB@example.com", count=1)
        with self.assertRaises(AssertionError):
            self.assertEmailSent(to="example.com")

    def test_bcc_when_the_message_carries_it(self):
        send(to="bob@example.com", headers={"Bcc": "dave@example.com"})
        if self.outbox[0]["Bcc"] is None:
            self.skipTest("the mailer drops Bcc from the message")
        self.assertEmailSent(to="dave@example.com", count=1)

    def test_subject_is_exact_and_subject_contains_is_a_part(self):
        send(to="bob@example.com", subject="Welcome aboard, Bob")
        with self.assertRaises(AssertionError):
            self.assertEmailSent(subject="Welcome aboard")
        self.assertEmailSent(subject="Welcome aboard, Bob", count=1)
        self.assertEmailSent(subject_contains="aboard", count=1)
        with self.assertRaises(AssertionError) as caught:
            self.assertEmailSent(subject_contains="Goodbye")
        self.assertIn("subject_contains='Goodbye'", str(caught.exception))
