"""The welcome email."""
from myapp.emails import WelcomeEmail
from proper_unittest import ProperTestCase

from .factories import PASSWORD, make_user


class WelcomeEmailTests(ProperTestCase):
    """Sent when someone signs up, rendered from views/emails/welcome*.jx."""

    def sign_up(self, login="carol@example.com", password2=PASSWORD):
        return self.client.post("/sign-up", body={
            "login": login, "password1": PASSWORD, "password2": password2,
        })

    def test_signing_up_sends_one_welcome_email(self):
        self.sign_up()
        self.assertEmailSent(to="carol@example.com", subject="Welcome to MyApp", count=1)

    def test_welcome_email_links_to_the_dashboard(self):
        self.sign_up()
        self.assertEmailSent(contains="http://localhost:2300/dashboard")

    def test_welcome_email_has_html_and_text_bodies_and_a_sender(self):
        self.sign_up()
        (message,) = self.outbox
        html = message.get_body(("html",)).get_content()
        text = message.get_body(("plain",)).get_content()
        self.assertIn('<a href="http://localhost:2300/photos/new">', html)
        self.assertIn("Hi carol@example.com, welcome to MyApp!", text)
        self.assertNotIn("<p>", text)
        self.assertEqual(str(message["From"]), "MyApp <hello@myapp.example.com>")

    def test_failed_sign_up_sends_nothing(self):
        self.sign_up(password2="something else entirely")
        self.assertNoEmailSent()

    def test_send_renders_the_template_immediately(self):
        user = make_user("dave@example.com")
        WelcomeEmail(user).send(to=user.email)
        self.assertEmailSent(to="dave@example.com", contains="Hi dave@example.com")

    def test_a_failure_shows_the_first_lines_of_each_body(self):
        self.sign_up()
        with self.assertRaises(AssertionError) as caught:
            self.assertEmailSent(contains="Your password was reset")
        message = str(caught.exception)
        self.assertIn("Subject: Welcome to MyApp", message)
        self.assertIn("    text body: Hi carol@example.com, welcome to MyApp!", message)
        self.assertRegex(message, r"    HTML body: <")
