"""Background tasks: run inline by the test queue, or captured."""
from myapp.models import Photo
from myapp.tasks import generate_thumbnail
from proper_unittest import ProperTestCase

from .factories import PASSWORD, make_photo, make_user


class ThumbnailTaskTests(ProperTestCase):
    """`generate_thumbnail`, queued by the photo create action."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")

    def test_creating_a_photo_runs_the_task_inline(self):
        self.sign_in(self.alice)
        self.client.post("/photos", body={"title": "Sunset"})
        photo = Photo.get(Photo.title == "Sunset")
        self.assertEqual(photo.thumbnail, f"thumbs/{photo.id}/placeholder-256.jpg")
        self.assertEnqueued(generate_thumbnail, count=1, args=(photo.id,))

    def test_captured_task_waits_until_it_is_run(self):
        self.sign_in(self.alice)
        with self.captureTasks() as tasks:
            self.client.post("/photos", body={"title": "Sunset"})
        photo = Photo.get(Photo.title == "Sunset")
        self.assertIsNone(photo.thumbnail)
        self.assertEqual(tasks.names, ["generate_thumbnail"])
        self.assertEqual(tasks[0].args, (photo.id,))

        expected = f"thumbs/{photo.id}/placeholder-256.jpg"
        self.assertEqual(tasks.run(), [expected])
        self.assertEqual(Photo.get_by_id(photo.id).thumbnail, expected)

    def test_thumbnail_name_comes_from_the_image_file(self):
        photo = make_photo(self.alice, image_filename="beach.png", image_size=68)
        result = generate_thumbnail(photo.id)
        self.assertEqual(result.get(), f"thumbs/{photo.id}/beach-256.jpg")

    def test_missing_photo_is_ignored(self):
        self.assertIsNone(generate_thumbnail.call_local(999999))

    def test_sign_up_queues_the_welcome_email(self):
        with self.captureTasks() as tasks:
            self.client.post("/sign-up", body={
                "login": "carol@example.com", "password1": PASSWORD, "password2": PASSWORD,
            })
        self.assertEqual(tasks.names, ["send_email_task"])
        # The email was rendered before being queued: the task carries the body.
        self.assertIn("Hi carol@example.com", tasks[0].kwargs["message"]["body"])
        self.assertNoEmailSent()
        self.runEnqueued()
        self.assertEmailSent(to="carol@example.com", subject="Welcome to MyApp", count=1)
