"""Form unit tests (no requests involved)."""
from parameterized import parameterized

from myapp.forms import PhotoForm, SignInForm, SignUpForm
from myapp.models import Photo
from proper_unittest import ProperTestCase

from .factories import PASSWORD, make_photo, make_user


class PhotoFormTests(ProperTestCase):
    """Title required (max 120), caption optional (max 500)."""

    @parameterized.expand([
        ("valid", {"title": "Sunset", "caption": "Over the bay"}, {}),
        ("longest_title", {"title": "x" * 120}, {}),
        ("missing_title", {"caption": "No title"}, {"title": "required"}),
        ("blank_title", {"title": "   "}, {"title": "required"}),
        ("title_too_long", {"title": "x" * 121}, {"title": "max_length"}),
        ("caption_too_long", {"title": "ok", "caption": "y" * 501}, {"caption": "max_length"}),
    ])
    def test_validation(self, _name, data, errors):
        form = PhotoForm(data)
        self.assertEqual(form.is_valid, not errors)
        self.assertEqual(form.get_errors(), errors)

    def test_error_messages_are_friendly(self):
        form = PhotoForm({"title": ""})
        self.assertTrue(form.is_invalid)
        self.assertEqual(form.title.error_message, "Please give your photo a title")

    def test_save_creates_a_photo_with_stripped_values(self):
        alice = make_user()
        photo = PhotoForm({"title": "  Sunset  ", "caption": " Nice "}).save(owner=alice)
        self.assertEqual(Photo.get_by_id(photo.id).title, "Sunset")
        self.assertEqual(photo.caption, "Nice")

    def test_form_for_an_existing_photo_is_prefilled_and_updates_it(self):
        photo = make_photo(make_user(), "Old title", caption="Keep me")
        self.assertEqual(PhotoForm(None, photo).title.value, "Old title")
        PhotoForm({"title": "New title"}, photo).save()
        photo = Photo.get_by_id(photo.id)
        self.assertEqual((photo.title, photo.caption), ("New title", "Keep me"))


class AuthFormTests(ProperTestCase):
    """Sign-up and sign-in forms."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")

    @parameterized.expand([
        ("valid", "carol@example.com", PASSWORD, PASSWORD, {}),
        ("taken_in_other_case", "ALICE@example.com", PASSWORD, PASSWORD, {"login": "login_taken"}),
        ("not_an_email", "carol", PASSWORD, PASSWORD, {"login": "pattern"}),
        ("short_password", "carol@example.com", "12345678", "12345678", {"password1": "password_short"}),
        ("mismatch", "carol@example.com", PASSWORD, "something else", {"password2": "password_mismatch"}),
    ])
    def test_sign_up_form(self, _name, login, password1, password2, errors):
        form = SignUpForm({"login": login, "password1": password1, "password2": password2})
        self.assertEqual(form.is_valid, not errors)
        self.assertEqual(form.get_errors(), errors)

    def test_sign_up_form_normalizes_the_login(self):
        form = SignUpForm({"login": "Carol@Example.com", "password1": PASSWORD, "password2": PASSWORD})
        self.assertEqual(form.save()["login"], "carol@example.com")

    def test_sign_in_form_finds_the_user(self):
        form = SignInForm({"login": "alice@example.com", "password": PASSWORD})
        self.assertTrue(form.is_valid)
        self.assertEqual(form.user, self.alice)

    def test_sign_in_form_rejects_a_wrong_password(self):
        form = SignInForm({"login": "alice@example.com", "password": "wrong password"})
        self.assertTrue(form.is_invalid)
        self.assertEqual(form.get_errors(), {"password": "credentials"})
