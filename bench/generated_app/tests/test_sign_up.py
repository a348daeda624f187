"""Port of the generated tests/controllers/test_sign_up.py."""
from proper_unittest import allow_network

from blog.main import app
from blog.models import Session, User

from .base import BlogTestCase


# A strong password (>= AUTH_PASSWORD_MINLEN)
GOOD_PASSWORD = "zx7-Qw9-mlp2-kte"
# A well-known breached password (>= AUTH_PASSWORD_MINLEN)
BAD_PASSWORD = "password123"


class SignUpTests(BlogTestCase):
    def setUp(self):
        # The generated autouse `stub_pwned_api`, which the test asking
        # for `real_pwned_api` opts out of.
        if not getattr(getattr(self, self._testMethodName), "real_pwned_api", False):
            self.stub_pwned_api()

    def test_new_renders_sign_up_page(self):
        response = self.client.get(app.url_for("SignUp.new"))
        self.assertStatus(response, 200)

    def test_new_redirects_when_already_authenticated(self):
        response = self.signed_client().get(app.url_for("SignUp.new"))
        self.assertStatus(response, 303)

    def test_create_signs_up_with_valid_data(self):
        response = self.client.post(
            app.url_for("SignUp.create"),
            body={
                "login": "alice",
                "password1": GOOD_PASSWORD,
                "password2": GOOD_PASSWORD,
            },
        )

        self.assertRedirects(response, "/")
        user = User.get_by_login("alice")
        self.assertIsNotNone(user)
        self.assertEqual(Session.select().where(Session.user == user).count(), 1)

    def test_create_normalizes_the_login(self):
        # Uppercase and surrounding whitespace must be normalized before storing.
        response = self.client.post(
            app.url_for("SignUp.create"),
            body={
                "login": "  ALICE  ",
                "password1": GOOD_PASSWORD,
                "password2": GOOD_PASSWORD,
            },
        )

        self.assertStatus(response, 303)
        self.assertIsNotNone(User.get_by_login("alice"))

    def test_create_with_taken_login_does_not_sign_up(self):
        User.create(login="bob", password=GOOD_PASSWORD)

        response = self.client.post(
            app.url_for("SignUp.create"),
            body={
                "login": "bob",
                "password1": GOOD_PASSWORD,
                "password2": GOOD_PASSWORD,
            },
        )

        self.assertStatus(response, 422)
        self.assertEqual(User.select().where(User.login == "bob").count(), 1)
        self.assertEqual(Session.select().count(), 0)

    def test_create_with_short_password_does_not_sign_up(self):
        response = self.client.post(
            app.url_for("SignUp.create"),
            body={"login": "carol", "password1": "short", "password2": "short"},
        )

        self.assertStatus(response, 422)
        self.assertIsNone(User.get_by_login("carol"))
        self.assertEqual(Session.select().count(), 0)

    def test_create_with_pwned_password_does_not_sign_up(self):
        self.stub_pwned_api(count=5)

        response = self.client.post(
            app.url_for("SignUp.create"),
            body={
                "login": "dave",
                "password1": GOOD_PASSWORD,
                "password2": GOOD_PASSWORD,
            },
        )

        self.assertStatus(response, 422)
        self.assertIsNone(User.get_by_login("dave"))
        self.assertEqual(Session.select().count(), 0)

    def test_create_with_mismatched_passwords_does_not_sign_up(self):
        response = self.client.post(
            app.url_for("SignUp.create"),
            body={
                "login": "erin",
                "password1": GOOD_PASSWORD,
                "password2": GOOD_PASSWORD + "-different",
            },
        )

        self.assertStatus(response, 422)
        self.assertIsNone(User.get_by_login("erin"))
        self.assertEqual(Session.select().count(), 0)

    def test_create_with_blank_fields_does_not_sign_up(self):
        response = self.client.post(
            app.url_for("SignUp.create"),
            body={"login": "", "password1": "", "password2": ""},
        )

        self.assertStatus(response, 422)
        self.assertEqual(Session.select().count(), 0)

    @allow_network
    def test_create_with_breached_password_uses_real_api(self):
        # No stub here: this exercises the real `get_pwned_count`. "password123" is
        # a well-known breached password, rejected whether the API is reachable
        # (live lookup) or not (local fallback list).
        response = self.client.post(
            app.url_for("SignUp.create"),
            body={"login": "frank", "password1": BAD_PASSWORD, "password2": BAD_PASSWORD},
        )

        self.assertStatus(response, 422)
        self.assertIsNone(User.get_by_login("frank"))
        self.assertEqual(Session.select().count(), 0)

    test_create_with_breached_password_uses_real_api.real_pwned_api = True
