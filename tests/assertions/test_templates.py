"""assertTemplateUsed and assertTemplateNotUsed."""
from tests.support.apps.journal.main import Entry
from tests.support.cases import JournalCase


class TemplateAssertionTests(JournalCase):
    def test_the_rendered_view_and_its_imports_are_on_the_response(self):
        result = self.client.get(f"/entries/{Entry.create(text='t').id}")
        self.assertEqual(result.templates, ["entries/show.jx", "layouts/page.jx"])
        self.assertTemplateUsed(result, "entries/show.jx")
        self.assertTemplateUsed(result, "entries/show")
        self.assertTemplateUsed(result, "layouts/page.jx")
        self.assertTemplateNotUsed(result, "entries/index.jx")

    def test_a_template_not_rendered_fails_with_those_that_were(self):
        result = self.client.get("/entries")
        message = self.failure(self.assertTemplateUsed, result, "entries/show.jx")
        self.assertIn("Expected template 'entries/show.jx' to be rendered by GET /entries", message)
        self.assertIn("entries/index.jx", message)
        message = self.failure(self.assertTemplateNotUsed, result, "entries/index")
        self.assertIn("Did not expect template 'entries/index'", message)

    def test_a_response_without_template_says_so(self):
        result = self.client.get("/now")
        message = self.failure(self.assertTemplateUsed, result, "entries/show.jx")
        self.assertIn("not rendered from a template", message)

    def test_each_response_has_only_its_own_templates(self):
        self.client.get("/entries")
        self.assertEqual(self.client.get("/now").templates, [])

    def test_something_else_than_a_response_is_refused(self):
        with self.assertRaises(TypeError):
            self.assertTemplateUsed("entries/show.jx", "entries/show.jx")
