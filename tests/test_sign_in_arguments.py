"""sign_in() with something that is neither a Session nor a user."""
import unittest

from parameterized import parameterized

from proper_unittest import AsyncChannelTestCase, ConfigurationError, ProperTestCase
from tests.apps.notes.main import Note, Session, User


APP = "tests.apps.notes.main:app"
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


if __name__ == "__main__":
    unittest.main()
