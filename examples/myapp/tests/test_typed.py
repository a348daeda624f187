"""The example's tests as a team that checks them with ``mypy --strict``
writes them: every name from proper_unittest is typed, so a typo such as
``self.assertStatuss`` or a missing ``await`` is a type error. CI runs mypy
on this module (tests/test_typing.py); it also runs as the other tests do.
"""
from datetime import UTC, datetime, timedelta

from myapp.models import Photo, Session, User
from proper_unittest import AsyncChannelTestCase, ProperTestCase, override_cache, override_config


PASSWORD = "correct horse battery"


def make_user(login: str) -> User:
    """A user who can sign in with `PASSWORD`."""
    user: User = User.create(login=login, password=PASSWORD)
    return user


def photo_count() -> int:
    """How many photos there are."""
    count: int = Photo.select().count()
    return count


class TypedPhotoTests(ProperTestCase):
    """Requests, assertions, overrides and time travel, fully typed."""

    # The project's setup.cfg names it too; set here, ``self.app`` is still
    # the App under mypy (with the proper_unittest.mypy_plugin plugin) and pyright.
    app = "myapp.main:app"
    alice: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.alice = make_user("alice@example.com")

    def test_posting_a_photo_adds_one_and_redirects_to_it(self) -> None:
        self.sign_in(self.alice)
        with self.assertChanges(photo_count, by=1):
            result = self.client.post("/photos", body={"title": "Sunset"})
        photo: Photo = Photo.get(Photo.title == "Sunset")
        self.assertRedirects(result, f"/photos/{photo.id}")
        self.assertContains(self.client.get(f"/photos/{photo.id}"), "Sunset")

    def test_anonymous_users_are_sent_to_sign_in(self) -> None:
        response = self.client.get("/dashboard")
        self.assertStatus(response, 303)
        self.assertEqual(response.location, "/sign-in")

    @override_config(AUTH_PASSWORD_MINLEN=40)
    def test_override_config_as_a_decorator(self) -> None:
        result = self.client.post("/sign-up", body={
            "login": "carol@example.com", "password1": PASSWORD, "password2": PASSWORD,
        })
        self.assertContains(result, "at least 40 characters", status=422)

    def test_override_config_as_a_context_manager(self) -> None:
        with override_config(AUTH_PASSWORD_MINLEN=40) as config:
            self.assertEqual(config.AUTH_PASSWORD_MINLEN, 40)
        self.assertEqual(self.app.config.AUTH_PASSWORD_MINLEN, 9)

    @override_cache()
    def test_override_cache_gives_a_real_cache(self) -> None:
        self.client.get("/stats")
        self.assertIsNotNone(self.app.cache.get("stats:photo-count"))

    def test_a_session_not_remembered_ends_after_a_day(self) -> None:
        session: Session = Session.create_for_user(self.alice, remember=False)
        self.sign_in(session)
        self.assertStatus(self.client.get("/dashboard"), 200)
        self.travel_to(datetime.now(UTC) + timedelta(hours=25))
        self.assertRedirects(self.client.get("/dashboard"), "/sign-in")


class TypedAsyncTests(AsyncChannelTestCase):
    """The async client: every request is awaited."""

    alice: User

    @classmethod
    def setUpTestData(cls) -> None:
        cls.alice = make_user("alice@example.com")

    async def test_awaited_requests(self) -> None:
        self.assertRedirects(await self.client.get("/dashboard"), "/sign-in")
        self.sign_in(self.alice)
        self.assertContains(await self.client.get("/dashboard"), "Hello, alice@example.com")
        with self.assertChanges(photo_count, by=1):
            result = await self.client.post("/photos", body={"title": "Lake"})
        self.assertStatus(result, 303)

    async def test_channel_assertions(self) -> None:
        self.sign_in(self.alice)
        ws = await self.connect()
        await self.assertSubscriptionRejected(ws, "ChatChannel", room="secret")
