"""HTML by CSS selector, on selectolax (the Lexbor HTML5 parser and its CSS engine),
and the assertions on it (``assertSelect``, ``assertFormError``).

Why selectolax: ``bench/html_parsers.py`` compares it with lxml + cssselect
and BeautifulSoup + soupsieve; it parses as browsers do (HTML5: implied
``<tbody>``, unclosed ``<p>``/``<li>``, custom elements, ``<template>``)
and is the fastest of them (see the README).
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode, SelectolaxError

from proper_unittest.assertions._base import TestCaseMixin

PREVIEW = 600


class Element:
    """One element of a page: ``tag``, ``attrs`` (a dict), ``text`` (its
    text, whitespace collapsed), ``inner_html`` and ``html`` (outer)."""

    def __init__(self, node: LexborNode) -> None:
        self._node = node

    @property
    def tag(self) -> str:
        """The tag name, lower case."""
        return str(self._node.tag)

    @property
    def attrs(self) -> dict[str, str | None]:
        """The attributes; a bare attribute (``disabled``) has the value None."""
        return dict(self._node.attributes)

    def get(self, name: str, default: str | None = None) -> str | None:
        """An attribute's value (None for a bare attribute), or `default`."""
        return self.attrs.get(name, default)

    @property
    def text(self) -> str:
        """The element's text, runs of whitespace collapsed to one space."""
        return " ".join(self._node.text(deep=True).split())

    @property
    def html(self) -> str:
        """The element's outer HTML."""
        return str(self._node.html or "")

    @property
    def inner_html(self) -> str:
        """The HTML inside the element (for a ``<template>``, its content)."""
        if self.tag == "template":
            return _template_content(self.html)
        return str(self._node.inner_html or "")

    def select(self, selector: str) -> Selection:
        """The elements inside this one matching the CSS `selector`."""
        return Selection(select_in([self], selector))

    def __repr__(self) -> str:
        return f"<Element {shorten(self.html, 120)}>"


class Selection(list[Element]):
    """The elements a selector matched, in page order. A context manager
    (``with self.assertSelect(...) as photos:``) giving itself, so that
    assertions nest; :meth:`select` searches inside every element."""

    def select(self, selector: str) -> Selection:
        """The elements inside these ones matching the CSS `selector`."""
        return Selection(select_in(self, selector))

    @property
    def text(self) -> str:
        """The texts of the elements, joined by a space."""
        return " ".join(element.text for element in self)

    def __enter__(self) -> Selection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None


def parse(html: str) -> Element:
    """The document (or fragment) `html` as an element to select in."""
    tree = LexborHTMLParser(html)
    root = tree.root
    if root is None:  # an empty string
        root = LexborHTMLParser("<html></html>").root
    assert root is not None
    return Element(root)


def roots(source: Any) -> list[Element]:
    """What to search in: a response (its body), an HTML string, an
    element or a selection."""
    if isinstance(source, Selection):
        return list(source)
    if isinstance(source, Element):
        return [source]
    if isinstance(source, str):
        return [parse(source)]
    body = getattr(source, "body", None)
    if isinstance(body, str):
        return [parse(body)]
    raise TypeError(
        f"expected a response, an HTML string, an Element or a Selection, not {type(source).__name__}"
    )


def select(source: Any, selector: str) -> Selection:
    """The elements matching the CSS `selector` in `source` (see :func:`roots`)."""
    return Selection(select_in(roots(source), selector))


def select_in(elements: Iterable[Element], selector: str) -> list[Element]:
    found: list[Element] = []
    seen: set[int] = set()
    for element in elements:
        node = element._node
        if node.tag == "template":  # its content is a fragment of its own
            matches = [m._node for m in select(element.inner_html, selector)]
        else:
            try:
                matches = list(node.css(selector))
            except SelectolaxError:
                raise ValueError(f"not a valid CSS selector: {selector!r}") from None
        for match in matches:
            if match.mem_id not in seen:
                seen.add(match.mem_id)
                found.append(Element(match))
    return found


def matches(element: Element, text: str | re.Pattern[str] | None, attrs: Mapping[str, Any]) -> bool:
    """Whether `element` has the `text` (exact after collapsing whitespace,
    or a regular expression searched) and each of `attrs`: a string is
    compared exactly, a pattern searched, True means present, False absent."""
    if text is not None and not _text_matches(element.text, text):
        return False
    values = element.attrs
    for name, expected in attrs.items():
        if expected is True or expected is False:
            if (name in values) != expected:
                return False
        elif name not in values:
            return False
        elif isinstance(expected, re.Pattern):
            if not expected.search(values[name] or ""):
                return False
        elif (values[name] or "") != str(expected):
            return False
    return True


def _text_matches(actual: str, expected: str | re.Pattern[str]) -> bool:
    if isinstance(expected, re.Pattern):
        return expected.search(actual) is not None
    return actual == " ".join(expected.split())


def attribute_name(keyword: str) -> str:
    """``class_`` -> ``class``, ``data_id`` -> ``data-id``."""
    return keyword.rstrip("_").replace("_", "-")


def closest(sources: list[Element], selector: str) -> str:
    """The longest leading part of `selector` that matches, and its first
    match; or the start of the page when nothing does."""
    for prefix in reversed(_leading_parts(selector)):
        try:
            found = select_in(sources, prefix)
        except ValueError:
            continue
        if found:
            return (f"The closest part that matches: {prefix!r} ({len(found)} element(s)); the first:\n"
                    f"  {shorten(found[0].html)}")
    page = " ".join(element.html for element in sources)
    return f"Nothing of it matches. The page starts:\n  {shorten(page)}"


def _leading_parts(selector: str) -> list[str]:
    """Each prefix of `selector` that ends a compound selector, shortest
    first; ``[]`` for a selector list (``a, b``)."""
    ends: list[int] = []
    depth, quote, previous = 0, "", " "
    for index, char in enumerate(selector):
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
        elif depth == 0 and char == ",":
            return []
        elif depth == 0 and (char.isspace() or char in ">+~") and not (previous.isspace() or previous in ">+~"):
            ends.append(index)
        previous = char if depth == 0 and not quote else "x"
    return [part for part in (selector[:end].strip() for end in ends) if part]


def describe(elements: Iterable[Element], limit: int = 5) -> str:
    """The first `limit` elements, one line each."""
    listed = list(elements)
    lines = [f"  {shorten(element.html, 200)}" for element in listed[:limit]]
    if len(listed) > limit:
        lines.append(f"  ... and {len(listed) - limit} more")
    return "\n".join(lines)


def shorten(text: str, limit: int = PREVIEW) -> str:
    """`text` on one line, cut to `limit` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[:limit] + f"... ({len(flat) - limit} more characters)"


def _template_content(template_html: str) -> str:
    match = re.fullmatch(r"(?s)<template[^>]*>(.*)</template>", template_html.strip())
    return match.group(1) if match else ""


# ---- the assertions ----


class HTMLAssertions(TestCaseMixin):
    """``select``, ``assertSelect`` and ``assertFormError``."""

    def select(self, source: Any, selector: str) -> Selection:
        """The elements matching the CSS `selector` in `source` (a response,
        an HTML string, an Element or a Selection), in page order."""
        return select(source, selector)

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
        sources = roots(source)
        found = Selection(select_in(sources, selector))
        wanted = {attribute_name(name): value for name, value in attrs.items()}
        kept = Selection(element for element in found if matches(element, text, wanted))
        if (count is None and kept) or count == len(kept):
            return kept
        conditions = "".join(
            [f" with text {text!r}" if text is not None else ""]
            + [f" [{name}={value!r}]" for name, value in wanted.items()]
        )
        expected = "at least one element" if count is None else f"{count} element(s)"
        lines = [f"Expected {expected} matching {selector!r}{conditions}; found {len(kept)}."]
        if kept:
            lines.append("Matched:\n" + describe(kept))
        elif found:
            lines.append(f"{selector!r} alone matches {len(found)} element(s):\n" + describe(found))
        else:
            lines.append(closest(sources, selector))
        self.fail(self._formatMessage(msg, "\n".join(lines)))

    def assertFormError(self, source: Any, field: str, message: str | None = None, msg: Any = None) -> str:
        """Assert the form `field` has an error (containing `message`, if
        given); return the error's text. `source` is a form object
        (formidable's, as Proper's forms are) or a rendered page: a response
        or HTML, where the field is the input, select or textarea named
        `field` and its error the element its ``aria-errormessage`` points at."""
        if hasattr(source, "get_errors"):
            return self._form_object_error(source, field, message, msg)
        sources = roots(source)
        page_errors = _page_errors(sources)
        inputs = select_in(sources, _named(field))
        if not inputs:
            self.fail(self._formatMessage(
                msg, f"No input, select or textarea named {field!r} on the page.\n{_listing(page_errors)}"))
        error = ""
        for element in inputs:
            target = element.get("aria-errormessage")
            if target:
                shown = select_in(sources, f'[id="{_escape(target)}"]')
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
    for element in select_in(sources, "[aria-errormessage]"):
        shown = select_in(sources, f'[id="{_escape(element.get("aria-errormessage") or "")}"]')
        if shown and shown[0].text:
            errors.append((element.get("name") or element.get("id") or element.tag, shown[0].text))
    return errors


def _listing(errors: list[tuple[str, str]]) -> str:
    if not errors:
        return "No field on the page has an error (no aria-errormessage pointing at a message)."
    return "Fields with errors on the page:\n" + "\n".join(f"  {name}: {text!r}" for name, text in errors)
