"""System tests: a real browser (Chromium, through Playwright) against the
app served on a live port, inside the test's rolled-back transaction.

Skipped, with the install command, where no Chromium is found.
"""
from myapp.models import Photo
from proper_unittest import SystemTestCase
from proper_unittest.system import expect

from .factories import make_photo, make_user


class PhotoFormInTheBrowserTests(SystemTestCase):
    """Signing in and posting a photo through the real form."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user("alice@example.com")

    def test_the_browser_sees_rows_the_test_made(self):
        make_photo(self.alice, "Made by the test")
        self.visit("/photos")
        expect(self.page.get_by_role("link", name="Made by the test")).to_be_visible()

    def test_a_photo_posted_from_the_form_is_saved_in_the_test_transaction(self):
        self.sign_in(self.alice)
        self.visit("/photos/new")
        self.page.get_by_label("Title").fill("Posted from Chromium")
        self.page.get_by_label("Caption").fill("Through the real form")
        self.page.get_by_role("button", name="Create photo").click()
        # The page first: click() returns before the server has handled the POST.
        expect(self.page.locator(".flash")).to_have_text("Photo was created")
        photo = Photo.get(Photo.title == "Posted from Chromium")
        self.assertEqual(photo.owner_id, self.alice.id)
        self.assertEqual(photo.caption, "Through the real form")

    def test_the_form_shows_errors_from_the_server(self):
        self.sign_in(self.alice)
        self.visit("/photos/new")
        # Spaces pass the browser's `required` check; the server refuses them.
        self.page.get_by_label("Title").fill("   ")
        self.page.get_by_role("button", name="Create photo").click()
        expect(self.page.get_by_text("Please give your photo a title")).to_be_visible()
        self.assertEqual(Photo.select().count(), 0)

    def test_z_nothing_the_browser_wrote_survives_the_test(self):
        # Runs after the posting test (alphabetical order): its row is gone.
        self.assertEqual(Photo.select().count(), 0)
