"""Port of the generated tests/controllers/test_password_reset.py."""
from blog.main import app
from blog.models import Session, User

from .base import BlogTestCase


# A strong password (>= AUTH_PASSWORD_MINLEN)
GOOD_PASSWORD = "zx7-Qw9-mlp2-kte"
NEW_PASSWORD = "NewPass-9xkqz7"


def reset_token_for(user):
    return user.generate_token_for("password_reset")


class PasswordResetTests(BlogTestCase):
    def setUp(self):
        # The generated autouse `stub_pwned_api`; the outbox is the test's own.
        self.stub_pwned_api()

    def test_new_renders_request_page(self):
        response = self.client.get(app.url_for("PasswordReset.new"))
        self.assertStatus(response, 200)

    def test_new_redirects_when_already_authenticated(self):
        response = self.signed_client().get(app.url_for("PasswordReset.new"))
        self.assertStatus(response, 303)

    def test_create_with_valid_login_sends_email_and_redirects(self):
        User.create(login="alice", password=GOOD_PASSWORD)

        response = self.client.post(
            app.url_for("PasswordReset.create"),
            body={"login": "alice"},
        )

        self.assertRedirects(response, "/password-reset/sent")
        self.assertEqual(len(self.outbox), 1)
        message = self.outbox[-1]
        self.assertEqual(message["To"], "alice")
        self.assertEqual(message["Subject"], "Reset your password")

    def test_create_with_unknown_login_redisplays_form(self):
        response = self.client.post(
            app.url_for("PasswordReset.create"),
            body={"login": "nobody"},
        )

        self.assertStatus(response, 422)
        self.assertNoEmailSent()

    def test_create_with_blank_login_redisplays_form(self):
        response = self.client.post(
            app.url_for("PasswordReset.create"),
            body={"login": ""},
        )

        self.assertStatus(response, 422)

    def test_show_renders_sent_confirmation(self):
        response = self.client.get(app.url_for("PasswordReset.show", token="sent"))
        self.assertStatus(response, 200)

    def test_edit_with_valid_token_renders_form(self):
        user = User.create(login="bob", password=GOOD_PASSWORD)

        response = self.client.get(
            app.url_for("PasswordReset.edit", token=reset_token_for(user))
        )

        self.assertStatus(response, 200)

    def test_edit_with_invalid_token_shows_invalid_page(self):
        response = self.client.get(app.url_for("PasswordReset.edit", token="bogus"))
        self.assertStatus(response, 200)

    def test_update_with_valid_token_changes_password_and_signs_in(self):
        user = User.create(login="carol", password=GOOD_PASSWORD)

        response = self.client.patch(
            app.url_for("PasswordReset.update", token=reset_token_for(user)),
            body={"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )

        self.assertRedirects(response, "/")
        self.assertIsNotNone(User.authenticate(login="carol", password=NEW_PASSWORD))
        self.assertEqual(Session.select().where(Session.user == user).count(), 1)

    def test_update_with_short_password_redisplays_form(self):
        user = User.create(login="dave", password=GOOD_PASSWORD)

        response = self.client.patch(
            app.url_for("PasswordReset.update", token=reset_token_for(user)),
            body={"password1": "short", "password2": "short"},
        )

        self.assertStatus(response, 422)
        self.assertIsNone(User.authenticate(login="dave", password="short"))

    def test_update_with_pwned_password_redisplays_form(self):
        self.stub_pwned_api(count=5)
        user = User.create(login="erin", password=GOOD_PASSWORD)

        response = self.client.patch(
            app.url_for("PasswordReset.update", token=reset_token_for(user)),
            body={"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )

        self.assertStatus(response, 422)
        self.assertIsNone(User.authenticate(login="erin", password=NEW_PASSWORD))

    def test_update_with_mismatched_passwords_redisplays_form(self):
        user = User.create(login="frank", password=GOOD_PASSWORD)

        response = self.client.patch(
            app.url_for("PasswordReset.update", token=reset_token_for(user)),
            body={"password1": NEW_PASSWORD, "password2": NEW_PASSWORD + "-different"},
        )

        self.assertStatus(response, 422)
        self.assertIsNone(User.authenticate(login="frank", password=NEW_PASSWORD))

    def test_update_with_invalid_token_shows_invalid_page(self):
        response = self.client.patch(
            app.url_for("PasswordReset.update", token="bogus"),
            body={"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        )

        self.assertStatus(response, 200)
        self.assertEqual(Session.select().count(), 0)
