"""Tests that must not pass green by accident: an async test the class
cannot run, and email addresses matched as whole addresses."""
from proper.emails import EmailMessage

from proper_unittest import ProperTestCase, ProperTransactionTestCase
from tests.inner import NotesCase, run_inner


class AsyncTestInASyncClassTests(ProperTestCase):
    app = "tests.apps.notes.main:app"

    def test_an_async_test_in_ProperTestCase_fails_naming_the_class_to_use(self):
        ran = []

        class Inner(NotesCase):
            async def test_never_awaited(self):
                ran.append(True)

        result, _ = run_inner(Inner)
        self.assertEqual((result.testsRun, len(result.failures), len(result.errors)), (1, 1, 0))
        message = result.failures[0][1]
        self.assertIn("test_never_awaited is an async test, which Inner (a ProperTestCase) cannot run", message)
        self.assertIn("Make the class an AsyncChannelTestCase", message)
        self.assertEqual(ran, [])

    def test_a_sync_test_still_passes(self):
        class Inner(NotesCase):
            def test_plain(self):
                pass

        result, _ = run_inner(Inner)
        self.assertTrue(result.wasSuccessful())


class AsyncTestInATransactionClassTests(ProperTransactionTestCase):
    app = "tests.apps.notes.main:app"

    def test_in_ProperTransactionTestCase_too(self):
        class Inner(ProperTransactionTestCase):
            app = "tests.apps.notes.main:app"

            async def test_never_awaited(self):
                pass

        result, _ = run_inner(Inner)
        self.assertEqual(len(result.failures), 1)
        self.assertIn("(a ProperTransactionTestCase)", result.failures[0][1])


def send(**fields):
    EmailMessage(subject=fields.pop("subject", "Welcome aboard"), body="hello", **fields).send()


class EmailAddressTests(ProperTestCase):
    app = "tests.apps.notes.main:app"

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


class ReportOrderTests(ProperTestCase):
    app = "tests.apps.notes.main:app"

    def test_message_then_the_log_then_the_flight_recorder(self):
        class Inner(NotesCase):
            def test_fails(self):
                self.client.get("/boom")
                self.fail("the message")

        result, _ = run_inner(Inner)
        report = result.failures[0][1]
        positions = [report.find(part) for part in (
            "AssertionError: the message", "Logged during this test (proper, huey):",
            "---- Flight recorder: what this test did ----",
        )]
        self.assertNotIn(-1, positions, report)
        self.assertEqual(positions, sorted(positions), report)
