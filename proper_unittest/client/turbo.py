"""Turbo Streams and Frames: what a Turbo request sends, and the parsed reply."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from proper.constants import TURBO_STREAM_MIME

from proper_unittest.assertions import html
from proper_unittest.assertions.html import Element

#: The Accept header Turbo sends with a form submission (``turbo_stream=True``).
TURBO_STREAM_ACCEPT = f"{TURBO_STREAM_MIME}, text/html, application/xhtml+xml"


@dataclass(frozen=True)
class TurboStream:
    """One ``<turbo-stream>``: its ``action``, ``target`` (or ``targets``, a
    CSS selector), and ``template``, the HTML inside its ``<template>``
    (empty for ``remove``). ``select(selector)`` searches the template."""

    action: str
    target: str | None
    targets: str | None
    template: str
    element: Element

    def select(self, selector: str) -> html.Selection:
        """The elements of the template matching the CSS `selector`."""
        return html.select(self.template, selector)

    def __str__(self) -> str:
        where = f'target="{self.target}"' if self.target is not None else f'targets="{self.targets}"'
        return f'<turbo-stream action="{self.action}" {where}> {html.shorten(self.template, 150)}'


def parse_streams(markup: str) -> list[TurboStream]:
    """Every ``<turbo-stream>`` in `markup`, in order."""
    streams = []
    for element in html.select(markup, "turbo-stream"):
        templates = [child for child in element.select("template")]
        streams.append(TurboStream(
            action=element.get("action") or "",
            target=element.get("target"),
            targets=element.get("targets"),
            template=templates[0].inner_html if templates else "",
            element=element,
        ))
    return streams


def turbo_headers(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The request options with ``turbo_stream=True`` (Turbo's Accept
    header) and ``turbo_frame="id"`` (the Turbo-Frame header) turned into
    headers; other options unchanged."""
    options = dict(kwargs)
    stream = options.pop("turbo_stream", False)
    frame = options.pop("turbo_frame", None)
    if not stream and frame is None:
        return options
    headers = {key.lower(): value for key, value in (options.get("headers") or {}).items()}
    if stream:
        headers["accept"] = TURBO_STREAM_ACCEPT
    if frame is not None:
        headers["turbo-frame"] = str(frame)
    options["headers"] = headers
    return options
