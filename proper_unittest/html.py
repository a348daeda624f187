"""HTML by CSS selector, on selectolax (the Lexbor HTML5 parser and its CSS engine).

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


