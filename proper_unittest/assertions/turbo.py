"""Turbo assertions: assertTurboStream, assertTurboFrame, assertTurboStreamBroadcast."""
from __future__ import annotations

from typing import Any

from proper.constants import TURBO_STREAM_MIME

from proper_unittest.assertions import html
from proper_unittest.assertions._base import TestCaseMixin
from proper_unittest.recording.recorder import recording_of
from proper_unittest.assertions.html import Selection
from proper_unittest.client.turbo import TurboStream, parse_streams


class TurboAssertions(TestCaseMixin):
    """Assertions about Turbo Stream responses and broadcasts, and Turbo Frames."""

    def assertTurboStream(self, source: Any, action: str, target: str, count: int | None = None,
                          contains: str | None = None, msg: Any = None) -> list[TurboStream]:
        """Assert the response (with the Turbo Stream content type) or markup
        has ``<turbo-stream action=... target=...>`` elements (`target` also
        matches ``targets``) whose template contains `contains`: at least
        one, or exactly `count`. Returns them (``.template``, ``.select()``)."""
        if not isinstance(source, str):
            from proper_unittest.assertions.responses import describe_response

            if getattr(source, "mimetype", None) != TURBO_STREAM_MIME:
                self.fail(self._formatMessage(
                    msg, f"Expected a Turbo Stream response ({TURBO_STREAM_MIME}).\n{describe_response(source)}\n"
                         "(Send the request with turbo_stream=True, as Turbo does.)"))
            source = source.body
        return self._check_streams(parse_streams(source), "in the response", action, target, count, contains, msg)

    def assertTurboStreamBroadcast(self, stream: str, action: str, target: str, count: int | None = None,
                                   contains: str | None = None, msg: Any = None) -> list[TurboStream]:
        """Like :meth:`assertTurboStream`, on what this test broadcast to the
        cable `stream` (each broadcast's markup parsed)."""
        sent = recording_of(self, "broadcast").broadcasts.on(stream)
        streams = [parsed for data in sent if isinstance(data, str) for parsed in parse_streams(data)]
        return self._check_streams(streams, f"broadcast on {stream!r}", action, target, count, contains, msg)

    def assertTurboFrame(self, source: Any, frame_id: str, msg: Any = None) -> Selection:
        """Assert the page has ``<turbo-frame id=frame_id>``; return it (a
        Selection, so ``with`` and nested assertSelect work)."""
        found = html.select(source, f'turbo-frame[id="{frame_id}"]')
        if not found:
            frames = html.select(source, "turbo-frame")
            listing = "\n".join(f"  {frame.get('id')!r}" for frame in frames) or "  (none)"
            self.fail(self._formatMessage(msg, f"Expected a <turbo-frame id={frame_id!r}>. Frames on the page:\n"
                                               f"{listing}"))
        return found

    def _check_streams(self, streams: list[TurboStream], where: str, action: str, target: str,
                       count: int | None, contains: str | None, msg: Any) -> list[TurboStream]:
        kept = [
            s for s in streams
            if s.action == action and target in (s.target, s.targets)
            and (contains is None or contains in s.template)
        ]
        if (count is None and kept) or count == len(kept):
            return kept
        expected = "at least one" if count is None else str(count)
        wanted = f'<turbo-stream action="{action}" target="{target}">' + (
            f" containing {contains!r}" if contains is not None else "")
        listing = "\n".join(f"  {s}" for s in streams) or "  (none)"
        self.fail(self._formatMessage(
            msg, f"Expected {expected} {wanted} {where}; found {len(kept)}.\nTurbo Streams {where}:\n{listing}"))
