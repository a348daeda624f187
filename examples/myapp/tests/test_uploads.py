"""Uploading an image with a photo (multipart forms)."""
import tempfile
from pathlib import Path

from myapp.models import Photo
from proper_unittest import InMemoryUpload, ProperTestCase, override_config

from .factories import PIXEL_PNG, make_photo, make_user


PNG_BYTES = PIXEL_PNG.read_bytes()


class UploadTests(ProperTestCase):
    """Files are stored under UPLOADS_DIR, here a fresh temporary folder."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")

    def setUp(self):
        self.uploads = Path(self.enterContext(tempfile.TemporaryDirectory()))
        self.enterContext(override_config(UPLOADS_DIR=str(self.uploads)))
        self.sign_in(self.alice)

    def post_photo(self, upload, title="Pixel"):
        return self.client.post("/photos", body={"title": title}, upload_files=[("image", upload)])

    def test_in_memory_upload_is_stored_with_its_metadata(self):
        result = self.post_photo(InMemoryUpload("sunset.png", PNG_BYTES))
        photo = Photo.get(Photo.title == "Pixel")
        self.assertRedirects(result, f"/photos/{photo.id}")
        self.assertEqual(
            (photo.image_filename, photo.image_size, photo.image_content_type),
            ("sunset.png", len(PNG_BYTES), "image/png"),
        )
        self.assertEqual((self.uploads / str(photo.id) / "sunset.png").read_bytes(), PNG_BYTES)

    def test_upload_from_the_fixture_file(self):
        self.post_photo(PIXEL_PNG)
        photo = Photo.get(Photo.title == "Pixel")
        self.assertEqual(photo.image_filename, "pixel.png")
        self.assertEqual(photo.image_size, PIXEL_PNG.stat().st_size)
        self.assertContains(
            self.client.get(f"/photos/{photo.id}"),
            f"pixel.png ({PIXEL_PNG.stat().st_size} bytes, image/png)",
        )

    def test_non_images_are_refused(self):
        result = self.post_photo(InMemoryUpload("notes.txt", "just some text"))
        self.assertContains(result, "Only image files can be uploaded", status=422)
        self.assertEqual(Photo.select().count(), 0)
        self.assertEqual(list(self.uploads.iterdir()), [])

    def test_file_names_cannot_escape_the_uploads_folder(self):
        self.post_photo(InMemoryUpload("../../my holiday.png", PNG_BYTES))
        photo = Photo.get(Photo.title == "Pixel")
        self.assertEqual(photo.image_filename, "my-holiday.png")
        self.assertTrue((self.uploads / str(photo.id) / "my-holiday.png").is_file())

    def test_update_replaces_the_image(self):
        photo = make_photo(self.alice, "Pixel")
        self.client.patch(
            f"/photos/{photo.id}", body={"title": "Pixel"},
            upload_files=[("image", InMemoryUpload("old.png", PNG_BYTES))],
        )
        self.client.patch(
            f"/photos/{photo.id}", body={"title": "Pixel"},
            upload_files=[("image", InMemoryUpload("new.png", PNG_BYTES + b"!"))],
        )
        photo = Photo.get_by_id(photo.id)
        self.assertEqual((photo.image_filename, photo.image_size), ("new.png", len(PNG_BYTES) + 1))
        self.assertEqual(sorted(p.name for p in (self.uploads / str(photo.id)).iterdir()), ["new.png"])

    def test_deleting_the_photo_deletes_its_file(self):
        self.post_photo(InMemoryUpload("sunset.png", PNG_BYTES))
        photo = Photo.get(Photo.title == "Pixel")
        self.client.delete(f"/photos/{photo.id}")
        self.assertFalse((self.uploads / str(photo.id)).exists())
