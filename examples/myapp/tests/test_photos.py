"""The /photos resource: browsing, creating, editing and deleting."""
import unittest

from parameterized import parameterized

from myapp.main import db
from myapp.models import Photo
from myapp.tasks import generate_thumbnail
from proper_unittest import ProperTestCase

from .factories import make_photo, make_user


class BrowsingPhotosTests(ProperTestCase):
    """Anyone can look at photos."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")
        cls.first = make_photo(cls.alice, "Sunset over the bay")
        cls.second = make_photo(cls.alice, "Mountain lake", caption="Early morning")

    def test_index_lists_every_photo_with_its_owner(self):
        result = self.client.get("/photos")
        self.assertContains(result, "Sunset over the bay")
        self.assertContains(result, "Mountain lake")
        self.assertContains(result, "by alice@example.com", count=2)

    def test_index_search_filters_by_title(self):
        result = self.client.get("/photos", params={"q": "lake"})
        self.assertContains(result, "Mountain lake")
        self.assertNotContains(result, "Sunset over the bay")

    def test_index_loads_photos_and_owners_in_one_query(self):
        make_photo(self.alice, "A third one")
        with self.assertNumQueries(1):
            result = self.client.get("/photos")
        self.assertContains(result, "A third one")

    def test_show_displays_the_photo(self):
        result = self.client.get(f"/photos/{self.second.id}")
        self.assertContains(result, "<h1>Mountain lake</h1>")
        self.assertContains(result, "Early morning")
        self.assertContains(result, "No image")

    def test_only_the_owner_sees_the_edit_links(self):
        url = f"/photos/{self.first.id}"
        self.assertNotContains(self.client.get(url), "Edit this photo")
        self.sign_in(self.alice)
        self.assertContains(self.client.get(url), "Edit this photo")

    @parameterized.expand([("missing_id", "/photos/999999"), ("not_a_number", "/photos/abc")])
    def test_unknown_photos_are_not_found(self, _name, url):
        self.assertStatus(self.client.get(url), 404)

    def test_home_page_shows_the_latest_photos(self):
        self.assertContains(self.client.get("/"), "Mountain lake")


class CreatingPhotosTests(ProperTestCase):
    """Signed-in users post photos."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")

    @parameterized.expand([("new_form", "get", "/photos/new"), ("create", "post", "/photos")])
    def test_posting_requires_sign_in(self, _name, method, url):
        result = getattr(self.client, method)(url)
        self.assertRedirects(result, "/sign-in")
        self.assertEqual(Photo.select().count(), 0)

    def test_create_redirects_and_persists(self):
        self.sign_in(self.alice)
        with self.assertChanges(lambda: Photo.select().count(), by=1):
            result = self.client.post("/photos", body={"title": "Sunset"})
        photo = Photo.get(Photo.title == "Sunset")
        self.assertRedirects(result, f"/photos/{photo.id}")
        self.assertEqual(photo.owner_id, self.alice.id)
        self.assertEqual(photo.caption, "")

    @unittest.skipUnless(db.database == ":memory:", "ids restart in each test only on SQLite :memory:")
    def test_first_photo_gets_id_1_on_sqlite_memory(self):
        self.sign_in(self.alice)
        result = self.client.post("/photos", body={"title": "Sunset"})
        self.assertRedirects(result, "/photos/1")

    def test_created_photo_page_shows_a_flash_message(self):
        self.sign_in(self.alice)
        page = self.client.post(
            "/photos", body={"title": "Sunset", "caption": "Over the bay"}, follow_redirects=True
        )
        self.assertRedirects(page, f"/photos/{Photo.get().id}")
        self.assertTemplateUsed(page, "photo/show.jx")
        self.assertContains(page, "Photo was created")
        self.assertContains(page, "Over the bay")

    def test_invalid_photo_rerenders_the_form(self):
        self.sign_in(self.alice)
        with self.assertNoChanges(lambda: Photo.select().count()):
            result = self.client.post("/photos", body={"title": "x" * 121, "caption": "kept"})
        self.assertContains(result, "Must have at most 120 characters", status=422)
        self.assertContains(result, ">kept</textarea>", status=422)
        self.assertNotEnqueued(generate_thumbnail)


class ChangingPhotosTests(ProperTestCase):
    """Only the owner can edit or delete a photo."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")
        cls.mallory = make_user("mallory@example.com")
        cls.photo = make_photo(cls.alice, "Sunset", caption="Over the bay")

    def test_edit_form_is_prefilled(self):
        self.sign_in(self.alice)
        result = self.client.get(f"/photos/{self.photo.id}/edit")
        self.assertContains(result, 'value="Sunset"')
        self.assertContains(result, 'name="_method" value="patch"')

    def test_update_saves_changes_and_keeps_the_rest(self):
        self.sign_in(self.alice)
        result = self.client.patch(f"/photos/{self.photo.id}", body={"title": "Sunrise"})
        self.assertRedirects(result, f"/photos/{self.photo.id}")
        photo = Photo.get_by_id(self.photo.id)
        self.assertEqual((photo.title, photo.caption), ("Sunrise", "Over the bay"))

    def test_invalid_update_rerenders_the_edit_form(self):
        self.sign_in(self.alice)
        result = self.client.patch(f"/photos/{self.photo.id}", body={"title": ""})
        self.assertContains(result, "Please give your photo a title", status=422)
        self.assertEqual(Photo.get_by_id(self.photo.id).title, "Sunset")

    def test_delete_removes_the_photo(self):
        self.sign_in(self.alice)
        self.assertRedirects(self.client.delete(f"/photos/{self.photo.id}"), "/photos")
        self.assertFalse(Photo.select().where(Photo.id == self.photo.id).exists())

    @parameterized.expand([
        ("edit", "get", "/edit", {}),
        ("update", "patch", "", {"title": "Mine now"}),
        ("delete", "delete", "", {}),
    ])
    def test_other_users_are_forbidden(self, _name, method, suffix, body):
        self.sign_in(self.mallory)
        kwargs = {"body": body} if method != "get" else {}
        result = getattr(self.client, method)(f"/photos/{self.photo.id}{suffix}", **kwargs)
        self.assertStatus(result, 403)
        self.assertEqual(Photo.get_by_id(self.photo.id).title, "Sunset")
