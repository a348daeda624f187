"""Port of the generated tests/controllers/test_session.py."""
from blog.main import app
from blog.models import Session, User

from .base import BlogTestCase


class SessionTests(BlogTestCase):
    def test_new_renders_sign_in_page(self):
        response = self.client.get(app.url_for("Session.new"))
        self.assertStatus(response, 200)

    def test_new_redirects_when_already_authenticated(self):
        response = self.signed_client().get(app.url_for("Session.new"))
        self.assertStatus(response, 303)

    def test_create_signs_in_with_valid_credentials(self):
        user = User.create(login="bob", password="password123")

        response = self.client.post(
            app.url_for("Session.create"),
            body={"login": "bob", "password": "password123"},
        )

        self.assertRedirects(response, "/")
        self.assertEqual(Session.select().where(Session.user == user).count(), 1)

    def test_create_normalizes_the_login(self):
        user = User.create(login="carol", password="password123")

        # Uppercase and surrounding whitespace must resolve to the same user.
        response = self.client.post(
            app.url_for("Session.create"),
            body={"login": "  CAROL  ", "password": "password123"},
        )

        self.assertStatus(response, 303)
        self.assertEqual(Session.select().where(Session.user == user).count(), 1)

    def test_create_with_wrong_password_does_not_sign_in(self):
        User.create(login="dave", password="password123")

        response = self.client.post(
            app.url_for("Session.create"),
            body={"login": "dave", "password": "wrong-password"},
        )

        self.assertStatus(response, 422)
        self.assertEqual(Session.select().count(), 0)

    def test_create_with_unknown_login_does_not_sign_in(self):
        response = self.client.post(
            app.url_for("Session.create"),
            body={"login": "nobody", "password": "password123"},
        )

        self.assertStatus(response, 422)
        self.assertEqual(Session.select().count(), 0)

    def test_create_with_blank_fields_does_not_sign_in(self):
        response = self.client.post(
            app.url_for("Session.create"),
            body={"login": "", "password": ""},
        )

        self.assertStatus(response, 422)
        self.assertEqual(Session.select().count(), 0)

    def test_delete_redirects(self):
        response = self.signed_client().delete(app.url_for("Session.delete"))
        self.assertStatus(response, 303)
