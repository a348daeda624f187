"""Model unit tests."""
from datetime import timedelta

import peewee as pw
from parameterized import parameterized
from peewee import IntegrityError

from myapp.main import db
from myapp.models import Message, Session, User
from myapp.models.concerns.authenticable import Authenticable
from myapp.models.photo import safe_filename
from proper_unittest import ProperTestCase

from .factories import PASSWORD, make_photo, make_user


class UserTests(ProperTestCase):
    """Users and the Authenticable concern."""

    def test_login_is_normalized_and_password_hashed(self):
        user = make_user(" Alice@Example.COM ")
        self.assertEqual(user.login, "alice@example.com")
        self.assertNotEqual(user.password, PASSWORD)
        self.assertTrue(user.check_password(PASSWORD))

    def test_login_must_be_unique(self):
        make_user("alice@example.com")
        with self.assertRaises(IntegrityError):
            make_user("ALICE@example.com")
        # The test can go on querying after the failed INSERT.
        self.assertEqual(User.select().count(), 1)

    @parameterized.expand([
        ("right_password", "alice@example.com", PASSWORD, True),
        ("login_in_capitals", "ALICE@EXAMPLE.COM", PASSWORD, True),
        ("wrong_password", "alice@example.com", "nope nope nope", False),
    ])
    def test_authenticate(self, _name, login, password, succeeds):
        alice = make_user("alice@example.com")
        self.assertEqual(User.authenticate(login, password), alice if succeeds else None)

    def test_authenticable_concern_has_no_table_of_its_own(self):
        tables = db.get_tables()
        self.assertIn(User._meta.table_name, tables)
        self.assertNotIn(Authenticable._meta.table_name, tables)
        self.assertIn("login", User._meta.fields)


class SessionTests(ProperTestCase):
    """Server-side sessions."""

    @classmethod
    def setUpTestData(cls):
        cls.user = make_user("alice@example.com")

    @parameterized.expand([("remembered", True, timedelta(days=60)), ("one_day", False, timedelta(hours=24))])
    def test_create_for_user_sets_the_lifetime(self, _name, remember, lifetime):
        session = Session.create_for_user(self.user, remember=remember)
        self.assertAlmostEqual(
            session.expires_at - session.created_at, lifetime, delta=timedelta(seconds=5)
        )

    def test_create_for_user_stores_a_token_and_hashed_user_agent(self):
        session = Session.create_for_user(self.user, ip_address="10.0.0.1", user_agent="Firefox")
        self.assertEqual(len(session.token), 43)
        self.assertEqual(len(session.user_agent_hash), 64)
        self.assertNotIn("Firefox", session.user_agent_hash)
        self.assertEqual(list(self.user.sessions), [session])

    def test_find_by_token_skips_unknown_and_expired_tokens(self):
        session = Session.create_for_user(self.user)
        self.assertEqual(Session.find_by_token(session.token), session)
        self.assertIsNone(Session.find_by_token("not-a-token"))
        Session.update(expires_at=pw.utcnow() - timedelta(seconds=1)).execute()
        self.assertIsNone(Session.find_by_token(session.token))

    def test_touch_updates_last_seen_only(self):
        session = Session.create_for_user(self.user)
        Session.update(last_seen_at=pw.utcnow() - timedelta(days=1)).execute()
        session = Session.get_by_id(session.id)
        before = session.last_seen_at
        with self.assertNumQueries(1):
            session.touch()
        self.assertGreater(Session.get_by_id(session.id).last_seen_at, before)


class PhotoAndMessageTests(ProperTestCase):
    """Photos and chat messages."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")

    def test_photo_to_dict(self):
        photo = make_photo(
            self.alice, "Sunset", image_filename="s.png", image_size=68, image_content_type="image/png"
        )
        self.assertEqual(photo.to_dict()["image"], {
            "filename": "s.png", "size": 68, "content_type": "image/png",
        })
        self.assertEqual(photo.to_dict()["owner"], "alice@example.com")
        self.assertEqual(list(self.alice.photos), [photo])

    @parameterized.expand([
        ("path", "../../etc/passwd", "passwd"),
        ("windows_path", "C:\\Users\\me\\pic.jpg", "pic.jpg"),
        ("spaces", "my holiday pic.png", "my-holiday-pic.png"),
    ])
    def test_safe_filename(self, _name, filename, expected):
        self.assertEqual(safe_filename(filename), expected)

    def test_recent_messages_are_oldest_first_and_limited(self):
        for i in range(5):
            Message.create(user=self.alice, room="general", body=f"m{i}")
        Message.create(user=self.alice, room="random", body="elsewhere")
        self.assertEqual([m.body for m in Message.recent("general", limit=3)], ["m2", "m3", "m4"])
