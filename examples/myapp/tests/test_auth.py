"""Sign-up, sign-in, sign-out and pages that need a signed-in user."""
from datetime import timedelta

import peewee as pw
from parameterized import parameterized

from myapp.models import Session, User
from proper_unittest import ProperTestCase

from .factories import PASSWORD, make_user


class SignInTests(ProperTestCase):
    """The sign-in form and what it protects."""

    @classmethod
    def setUpTestData(cls):
        cls.user = make_user("alice@example.com")

    def test_dashboard_redirects_anonymous_users_to_sign_in(self):
        self.assertRedirects(self.client.get("/dashboard"), "/sign-in", status=303)

    def test_dashboard_greets_the_signed_in_user(self):
        self.sign_in(self.user)
        self.assertContains(self.client.get("/dashboard"), "Hello, alice@example.com")

    def test_sign_in_page_renders_the_form(self):
        result = self.client.get("/sign-in")
        self.assertContains(result, '<form method="post" action="/sign-in">')
        self.assertContains(result, 'name="password"')

    def test_signing_in_through_the_form_starts_a_session(self):
        result = self.client.post(
            "/sign-in", body={"login": "  ALICE@Example.com ", "password": PASSWORD}
        )
        self.assertRedirects(result, "/dashboard")
        self.assertEqual(Session.select().where(Session.user == self.user).count(), 1)
        # The client kept the auth cookie, so the next page is the dashboard.
        self.assertContains(self.client.get("/dashboard"), "Welcome back!")

    @parameterized.expand([
        ("wrong_password", {"login": "alice@example.com", "password": "not it"}, "Wrong email or password"),
        ("unknown_login", {"login": "nobody@example.com", "password": PASSWORD}, "Wrong email or password"),
        ("blank_fields", {"login": "", "password": ""}, "This field is required"),
    ])
    def test_bad_credentials_rerender_the_form(self, _name, body, error):
        result = self.client.post("/sign-in", body=body)
        self.assertContains(result, error, status=422)
        self.assertEqual(Session.select().count(), 0)

    def test_after_signing_in_the_user_goes_back_to_the_page_they_wanted(self):
        self.assertRedirects(self.client.get("/photos/new"), "/sign-in")
        result = self.client.post(
            "/sign-in", body={"login": "alice@example.com", "password": PASSWORD}
        )
        self.assertRedirects(result, "/photos/new")

    def test_signed_in_users_skip_the_sign_in_page(self):
        self.sign_in(self.user)
        self.assertRedirects(self.client.get("/sign-in"), "/dashboard")

    def test_expired_sessions_are_not_accepted(self):
        session = Session.create_for_user(self.user)
        session.expires_at = pw.utcnow() - timedelta(minutes=1)
        session.save()
        self.sign_in(session)
        self.assertRedirects(self.client.get("/dashboard"), "/sign-in")

    def test_a_session_not_remembered_lasts_a_day(self):
        self.sign_in(Session.create_for_user(self.user, remember=False))
        with self.travel(timedelta(hours=23)):
            self.assertStatus(self.client.get("/dashboard"), 200)
        self.travel(timedelta(hours=25))
        self.assertRedirects(self.client.get("/dashboard"), "/sign-in")

    def test_each_authenticated_request_touches_the_session(self):
        session = self.sign_in(self.user)
        long_ago = pw.utcnow() - timedelta(days=3)
        Session.update(last_seen_at=long_ago).where(Session.id == session.id).execute()
        self.client.get("/dashboard")
        self.assertGreater(Session.get_by_id(session.id).last_seen_at, long_ago)


class SignOutTests(ProperTestCase):
    """Signing out really ends the server-side session."""

    def setUp(self):
        self.user = make_user("bob@example.com")
        self.session = self.sign_in(self.user)

    def test_sign_out_deletes_the_session_row(self):
        self.assertRedirects(self.client.delete("/sign-in"), "/")
        self.assertIsNone(Session.get_or_none(Session.id == self.session.id))

    def test_sign_out_form_uses_method_override(self):
        result = self.client.post("/sign-in", body={"_method": "delete"})
        self.assertRedirects(result, "/")
        self.assertEqual(self.user.sessions.count(), 0)

    def test_after_signing_out_pages_need_a_new_sign_in(self):
        self.client.delete("/sign-in")
        self.assertRedirects(self.client.get("/dashboard"), "/sign-in")
        # Even the old cookie is useless now: its session row is gone.
        self.sign_in(self.session)
        self.assertRedirects(self.client.get("/dashboard"), "/sign-in")


class SignUpTests(ProperTestCase):
    """Creating an account."""

    def test_sign_up_creates_the_user_and_signs_them_in(self):
        result = self.client.post("/sign-up", body={
            "login": "Carol@Example.com", "password1": PASSWORD, "password2": PASSWORD,
        })
        self.assertRedirects(result, "/dashboard")
        user = User.get(User.login == "carol@example.com")
        self.assertTrue(user.check_password(PASSWORD))
        self.assertContains(self.client.get("/dashboard"), "Hello, carol@example.com")

    def test_invalid_sign_up_rerenders_the_form_with_its_errors(self):
        make_user("alice@example.com")
        result = self.client.post("/sign-up", body={
            "login": "ALICE@example.com", "password1": PASSWORD, "password2": "typo",
        })
        self.assertContains(result, "This email is already registered", status=422)
        self.assertEqual(User.select().count(), 1)
