"""assertTemplateUsed / assertTemplateNotUsed.

Proper renders views with its jx ``Catalog``; every component loaded while
a request runs (the view, the components it imports, email templates) is
recorded on the response as ``response.templates`` (see
``recording.recorder.TemplateLog``). A name matches with or without the ``.jx``
extension.
"""
from typing import TYPE_CHECKING, Any

from proper_unittest.assertions._base import TestCaseMixin

if TYPE_CHECKING:
    from proper_unittest.client.response import Response


class TemplateAssertions(TestCaseMixin):
    """Assertions about the templates a response rendered."""

    def assertTemplateUsed(self, response: "Response", name: str, msg: Any = None) -> None:
        """Assert the request that produced `response` rendered the jx
        component `name` (``"photos/show.jx"`` or ``"photos/show"``)."""
        used = _templates_of(response)
        if not any(_same_template(name, template) for template in used):
            listing = "\n".join(f"  {t}" for t in used)
            listing = listing or "  (none: the response was not rendered from a template)"
            request = response.get("request", "the request")
            self.fail(self._formatMessage(
                msg, f"Expected template {name!r} to be rendered by {request}.\nRendered:\n{listing}"
            ))

    def assertTemplateNotUsed(self, response: "Response", name: str, msg: Any = None) -> None:
        """Assert the request that produced `response` did not render `name`."""
        used = _templates_of(response)
        if any(_same_template(name, template) for template in used):
            self.fail(self._formatMessage(
                msg, f"Did not expect template {name!r} to be rendered by "
                     f"{response.get('request', 'the request')}.\nRendered: {', '.join(used)}"
            ))


def _templates_of(response: Any) -> list[str]:
    templates: list[str] | None = response.get("templates") if hasattr(response, "get") else None
    if templates is None:
        raise TypeError(
            f"assertTemplateUsed() takes a response from self.client, got {type(response).__name__}."
        )
    return templates


def _same_template(wanted: str, rendered: str) -> bool:
    wanted = wanted.replace("\\", "/").strip("/")
    return rendered == wanted or rendered.removesuffix(".jx") == wanted.removesuffix(".jx")
