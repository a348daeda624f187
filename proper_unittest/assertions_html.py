"""Assertions about HTML by CSS selector, and about form errors."""
from __future__ import annotations

import re
from typing import Any

from . import html
from ._mixin_base import TestCaseMixin
from .html import Element, Selection


class HTMLAssertions(TestCaseMixin):
    """``select``, ``assertSelect`` and ``assertFormError``."""

    def select(self, source: Any, selector: str) -> Selection:
        """The elements matching the CSS `selector` in `source` (a response,
        an HTML string, an Element or a Selection), in page order."""
        return html.select(source, selector)

    def assertSelect(self, source: Any, selector: str, count: int | None = None,
                     text: str | re.Pattern[str] | None = None, msg: Any = None,
                     **attrs: Any) -> Selection:
        """Assert that `source` has elements matching the CSS `selector` with
        the given `text` (exact, whitespace collapsed, or a compiled regular
        expression searched) and attributes (``src="/a.png"``, ``class_=``,
        ``data_id=`` for ``data-id``; a pattern is searched, True means
        present, False absent): at least one, or exactly `count` (0: none).
        Returns them, as a Selection usable in ``with``, so that assertions
        nest: ``with self.assertSelect(result, "article") as articles:
        self.assertSelect(articles, "img", src=url)``."""
        sources = html.roots(source)
        found = Selection(html.select_in(sources, selector))
        wanted = {html.attribute_name(name): value for name, value in attrs.items()}
        kept = Selection(element for element in found if html.matches(element, text, wanted))
        if (count is None and kept) or count == len(kept):
            return kept
        conditions = "".join(
            [f" with text {text!r}" if text is not None else ""]
            + [f" [{name}={value!r}]" for name, value in wanted.items()]
        )
        expected = "at least one element" if count is None else f"{count} element(s)"
        lines = [f"Expected {expected} matching {selector!r}{conditions}; found {len(kept)}."]
        if kept:
            lines.append("Matched:\n" + html.describe(kept))
        elif found:
            lines.append(f"{selector!r} alone matches {len(found)} element(s):\n" + html.describe(found))
        else:
            lines.append(html.closest(sources, selector))
        self.fail(self._formatMessage(msg, "\n".join(lines)))

    def assertFormError(self, source: Any, field: str, message: str | None = None, msg: Any = None) -> str:
        """Assert the form `field` has an error (containing `message`, if
        given); return the error's text. `source` is a form object
        (formidable's, as Proper's forms are) or a rendered page: a response
        or HTML, where the field is the input, select or textarea named
        `field` and its error the element its ``aria-errormessage`` points at."""
        if hasattr(source, "get_errors"):
            return self._form_object_error(source, field, message, msg)
        sources = html.roots(source)
        page_errors = _page_errors(sources)
        inputs = html.select_in(sources, _named(field))
        if not inputs:
            self.fail(self._formatMessage(
                msg, f"No input, select or textarea named {field!r} on the page.\n{_listing(page_errors)}"))
        error = ""
        for element in inputs:
            target = element.get("aria-errormessage")
            if target:
                shown = html.select_in(sources, f'[id="{_escape(target)}"]')
                error = shown[0].text if shown else ""
                if error:
                    break
        if not error:
            self.fail(self._formatMessage(msg, f"Expected an error on field {field!r}; it has none.\n"
                                               f"{_listing(page_errors)}"))
        if message is not None and message not in error:
            self.fail(self._formatMessage(msg, f"Expected the error of field {field!r} to contain {message!r}; "
                                               f"it is {error!r}."))
        return error

    def _form_object_error(self, form: Any, field: str, message: str | None, msg: Any) -> str:
        errors = form.get_errors()
        if field not in form:
            self.fail(self._formatMessage(msg, f"The form has no field {field!r}."))
        error = str(getattr(form, field).error_message or "")
        if field not in errors:
            listing = "\n".join(f"  {name}: {code!r}" for name, code in errors.items()) or "  (none)"
            self.fail(self._formatMessage(
                msg, f"Expected an error on field {field!r}; it has none.\nThe form's errors:\n{listing}"))
        if message is not None and message not in error and message != errors[field]:
            self.fail(self._formatMessage(msg, f"Expected the error of field {field!r} to contain {message!r}; "
                                               f"it is {error!r} ({errors[field]!r})."))
        return error


def _named(field: str) -> str:
    name = _escape(field)
    return f'input[name="{name}"], select[name="{name}"], textarea[name="{name}"]'


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _page_errors(sources: list[Element]) -> list[tuple[str, str]]:
    """(field name, error text) for every field on the page with an error."""
    errors = []
    for element in html.select_in(sources, "[aria-errormessage]"):
        shown = html.select_in(sources, f'[id="{_escape(element.get("aria-errormessage") or "")}"]')
        if shown and shown[0].text:
            errors.append((element.get("name") or element.get("id") or element.tag, shown[0].text))
    return errors


def _listing(errors: list[tuple[str, str]]) -> str:
    if not errors:
        return "No field on the page has an error (no aria-errormessage pointing at a message)."
    return "Fields with errors on the page:\n" + "\n".join(f"  {name}: {text!r}" for name, text in errors)
