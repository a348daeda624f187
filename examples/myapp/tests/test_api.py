"""The JSON API under /api/photos."""
from parameterized import parameterized

from myapp.models import Photo
from proper_unittest import ProperTestCase

from .factories import make_photo, make_user


class PhotoApiTests(ProperTestCase):
    """Reading and creating photos as JSON."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")
        cls.photo = make_photo(cls.alice, "Sunset", caption="Over the bay")

    def test_show_returns_the_photo_as_json(self):
        result = self.client.get(f"/api/photos/{self.photo.id}")
        self.assertEqual(result.mimetype, "application/json")
        self.assertJSON(result, {
            "id": self.photo.id,
            "title": "Sunset",
            "caption": "Over the bay",
            "owner": "alice@example.com",
            "image": None,
            "thumbnail": None,
            "url": f"/photos/{self.photo.id}",
        })

    def test_a_partial_match_checks_only_the_keys_given(self):
        result = self.client.get(f"/api/photos/{self.photo.id}")
        data = self.assertJSON(result, {"title": "Sunset", "owner": "alice@example.com"}, partial=True)
        self.assertEqual(data["url"], f"/photos/{self.photo.id}")
        self.assertEqual(self.assertJSON(result), data)  # any JSON body, returned parsed
        with self.assertRaises(AssertionError) as caught:
            self.assertJSON(result, {"title": "Sunrise"}, partial=True)
        self.assertIn("JSON body does not contain the expected part (at body['title'])", str(caught.exception))
        with self.assertRaises(AssertionError) as caught:
            self.assertJSON(result, {"title": "Sunset"})  # without partial: the whole body
        self.assertIn("JSON body differs.", str(caught.exception))

    def test_show_unknown_photo_is_a_json_404(self):
        self.assertJSON(self.client.get("/api/photos/999999"), {"error": "not found"}, status=404)

    def test_index_lists_photos_oldest_first(self):
        make_photo(self.alice, "Mountain lake")
        data = self.client.get("/api/photos").json()
        self.assertEqual([p["title"] for p in data["photos"]], ["Sunset", "Mountain lake"])

    def test_create_needs_a_signed_in_user(self):
        result = self.client.post("/api/photos", json={"title": "Nope"})
        self.assertJSON(result, {"error": "authentication required"}, status=401)
        self.assertEqual(Photo.select().count(), 1)

    def test_create_from_a_json_body(self):
        self.sign_in(self.alice)
        result = self.client.post("/api/photos", json={"title": "Night sky", "caption": "Stars"})
        self.assertStatus(result, 201)
        photo = Photo.get(Photo.title == "Night sky")
        self.assertEqual(result.location, f"/api/photos/{photo.id}")
        self.assertEqual(result.json(), photo.to_dict())
        self.assertEqual(result.json()["caption"], "Stars")
        # The thumbnail task ran inline (immediate queue) before the reply.
        self.assertEqual(result.json()["thumbnail"], f"thumbs/{photo.id}/placeholder-256.jpg")

    @parameterized.expand([
        ("missing_title", {"caption": "No title"}, {"title": "required"}),
        ("long_title", {"title": "x" * 121}, {"title": "max_length"}),
    ])
    def test_invalid_json_gets_422_with_error_codes(self, _name, payload, errors):
        self.sign_in(self.alice)
        result = self.client.post("/api/photos", json=payload)
        self.assertJSON(result, {"errors": errors}, status=422)
        self.assertEqual(Photo.select().count(), 1)
