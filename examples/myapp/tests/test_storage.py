"""Uploads and Proper's storage addon: a photo's cover image."""
import tempfile
from pathlib import Path

from proper_unittest import InMemoryUpload, ProperTestCase

from myapp.forms import PhotoForm
from myapp.models import Attachment, Photo
from tests.factories import PIXEL_PNG, make_photo, make_user


class StorageTestCase(ProperTestCase):
    """Each test stores files in a folder of its own, removed afterwards
    (the rollback only removes rows)."""

    def setUp(self):
        super().setUp()
        service = Attachment._get_service(self.app.config.STORAGE)
        self.addCleanup(setattr, service, "root", service.root)
        service.root = Path(self.enterContext(tempfile.TemporaryDirectory()))


class CoverUploadTests(StorageTestCase):
    """The cover goes through the form's AttachmentField into the storage service."""

    def setUp(self):
        super().setUp()
        self.alice = make_user()
        self.sign_in(self.alice)

    def test_the_form_is_multipart_with_the_cover_file_input(self):
        result = self.client.get("/photos/new")
        with self.assertSelect(result, 'form[enctype="multipart/form-data"]', count=1) as form:
            self.assertSelect(form, 'input[type=file][name="cover[file]"]', count=1, accept="image/*")

    def test_a_posted_cover_is_stored_and_shown(self):
        cover = self.file_fixture("pixel.png")
        self.assertEqual((cover.filename, cover.content_type), ("pixel.png", "image/png"))
        result = self.client.post("/photos", body={"title": "Sunset"}, upload_files=[("cover[file]", cover)])
        photo = Photo.get()
        self.assertRedirects(result, f"/photos/{photo.id}")
        self.assertStored(photo.cover, content=PIXEL_PNG.read_bytes())
        self.assertIn(f"test:{photo.cover.id[:2]}/{photo.cover.id[2:4]}/pixel.png", self.stored_files())
        page = self.client.get(f"/photos/{photo.id}")
        with self.assertSelect(page, f"article#photo-{photo.id}") as article:
            self.assertSelect(article, "img.photo-cover", count=1, src=photo.cover.url, alt="Sunset")
        served = self.client.get(photo.cover.url)
        self.assertStatus(served, 200)
        self.assertEqual(served.content, PIXEL_PNG.read_bytes())

    def test_a_cover_that_is_not_an_image_is_refused(self):
        result = self.client.post("/photos", body={"title": "Sunset"},
                                  upload_files=[("cover[file]", InMemoryUpload("notes.txt", "hello"))])
        self.assertStatus(result, 422)
        self.assertFormError(result, "cover[file]")
        self.assertEqual(Attachment.select().count(), 0)


class InMemoryUploadTests(StorageTestCase):
    """InMemoryUpload where Proper takes an upload: Attachment(...) and forms."""

    def test_an_attachment_from_an_in_memory_upload(self):
        upload = InMemoryUpload("notes.txt", "hello storage")
        upload.read(3)  # the service reads from the start, and puts the position back
        attachment = Attachment(upload)
        attachment.save()
        self.assertEqual((attachment.filename, attachment.content_type, attachment.byte_size),
                         ("notes.txt", "text/plain", 13))
        self.assertEqual(upload.tell(), 3)
        self.assertEqual(self.assertStored(attachment, content="hello storage"), b"hello storage")
        attachment.purge()
        self.assertNotStored(attachment)
        with self.assertRaises(AssertionError) as caught:
            self.assertStored(attachment)
        self.assertIn("its file is not there", str(caught.exception))

    def test_a_form_with_an_in_memory_upload(self):
        owner = make_user()
        form = PhotoForm({"title": ["Dawn"], "cover": [{"file": self.file_fixture("pixel.png")}]})
        self.assertTrue(form.validate(), form.get_errors())
        photo = form.save(owner=owner)
        self.assertStored(photo.cover, content=PIXEL_PNG.read_bytes())

    def test_assert_stored_compares_content(self):
        attachment = Attachment(InMemoryUpload("a.txt", "one"))
        attachment.save()
        with self.assertRaises(AssertionError) as caught:
            self.assertStored(attachment, content="two")
        self.assertIn("is stored with other content: 3 bytes b'one', expected 3 bytes b'two'", str(caught.exception))
        with self.assertRaises(AssertionError):
            self.assertNotStored(attachment)
        attachment.purge()

    def test_file_fixture_names_where_it_looked(self):
        with self.assertRaisesRegex(FileNotFoundError, r"No fixture file 'missing.png': looked in .*fixtures"):
            self.file_fixture("missing.png")
        make_photo(make_user())  # the app still works after the refusal
