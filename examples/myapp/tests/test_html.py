"""HTML by CSS selector and form errors, on the app's rendered pages."""
import re

from proper_unittest import ProperTestCase

from myapp.forms import PhotoForm
from tests.factories import make_photo, make_user


class PhotoPagesHTMLTests(ProperTestCase):
    """assertSelect and select on the photo pages."""

    @classmethod
    def setUpTestData(cls):
        cls.alice = make_user()
        cls.photos = [make_photo(cls.alice, title=title) for title in ("Sunset", "Dawn", "Harbour")]

    def test_counts_and_nests(self):
        result = self.client.get("/photos")
        self.assertSelect(result, "article.photo", count=3)
        with self.assertSelect(result, "article.photo", text=re.compile("Dawn")) as dawn:
            self.assertEqual(len(dawn), 1)
            self.assertSelect(dawn, "h2 > a", text="Dawn", href=f"/photos/{self.photos[1].id}")
            self.assertSelect(dawn, "a", count=0, href=f"/photos/{self.photos[0].id}")
        self.assertSelect(result, "article.photo p", count=3, text="by alice@example.com")

    def test_select_returns_text_attributes_and_html(self):
        articles = self.select(self.client.get("/photos"), "article.photo")
        self.assertEqual([a.get("id") for a in articles], [f"photo-{p.id}" for p in reversed(self.photos)])
        link = articles[0].select("a")[0]
        self.assertEqual(link.tag, "a")
        self.assertEqual(link.text, "Harbour")
        self.assertIn("<a href=", articles[0].inner_html)
        self.assertTrue(articles[0].html.startswith('<article class="photo"'))

    def test_the_upload_form_is_multipart_with_a_file_input(self):
        self.sign_in(self.alice)
        result = self.client.get("/photos/new")
        with self.assertSelect(result, 'form[method=post][enctype="multipart/form-data"]', count=1) as form:
            self.assertSelect(form, "input[type=file]", name="image", accept="image/*")
            self.assertSelect(form, "input[name=title]", required=True, disabled=False)
        # Brackets in a quoted attribute value, as nested form names have.
        page = '<form><input type="file" name="image[file]"><input name="image[title]"></form>'
        self.assertSelect(page, 'input[type=file][name="image[file]"]', count=1)

    def test_a_failure_shows_what_matched(self):
        result = self.client.get("/photos")
        with self.assertRaises(AssertionError) as caught:
            self.assertSelect(result, "article.photo", count=2)
        message = str(caught.exception)
        self.assertIn("Expected 2 element(s) matching 'article.photo'; found 3.", message)
        self.assertIn('<article class="photo" id="photo-', message)
        with self.assertRaises(AssertionError) as caught:
            self.assertSelect(result, "article.photo h2 a", text="Nightfall")
        self.assertIn("'article.photo h2 a' alone matches 3 element(s)", str(caught.exception))
        self.assertIn(">Sunset</a>", str(caught.exception))

    def test_a_failure_shows_the_closest_part_of_the_page(self):
        result = self.client.get("/photos")
        with self.assertRaises(AssertionError) as caught:
            self.assertSelect(result, "article.photo > img.photo-image")
        message = str(caught.exception)
        self.assertIn("The closest part that matches: 'article.photo' (3 element(s)); the first:", message)
        with self.assertRaises(AssertionError) as caught:
            self.assertSelect(result, "aside.sidebar")
        self.assertIn("Nothing of it matches. The page starts:", str(caught.exception))

    def test_an_invalid_selector_is_an_error_naming_it(self):
        with self.assertRaisesRegex(ValueError, r"not a valid CSS selector: 'article\['"):
            self.select("<p>x</p>", "article[")


class FormErrorTests(ProperTestCase):
    """assertFormError on a rendered 422 page and on a form object."""

    def setUp(self):
        self.sign_in(make_user())

    def test_on_the_rendered_page(self):
        result = self.client.post("/photos", body={"title": "x" * 121, "caption": "kept"})
        self.assertStatus(result, 422)
        error = self.assertFormError(result, "title", "at most 120 characters")
        self.assertEqual(error, "Must have at most 120 characters")
        with self.assertRaises(AssertionError) as caught:
            self.assertFormError(result, "caption")
        self.assertIn("Expected an error on field 'caption'; it has none.", str(caught.exception))
        self.assertIn("title: 'Must have at most 120 characters'", str(caught.exception))
        with self.assertRaises(AssertionError) as caught:
            self.assertFormError(result, "title", "Please give your photo a title")
        self.assertIn("it is 'Must have at most 120 characters'", str(caught.exception))
        with self.assertRaises(AssertionError) as caught:
            self.assertFormError(result, "subtitle")
        self.assertIn("No input, select or textarea named 'subtitle'", str(caught.exception))

    def test_on_a_form_object(self):
        form = PhotoForm({"title": [""]})
        self.assertFalse(form.validate())
        self.assertFormError(form, "title", "Please give your photo a title")
        self.assertFormError(form, "title", "required")  # the error code works too
        with self.assertRaises(AssertionError) as caught:
            self.assertFormError(form, "caption")
        self.assertIn("title: 'required'", str(caught.exception))
