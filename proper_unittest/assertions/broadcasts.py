"""Broadcast assertions: assertBroadcastOn, assertBroadcasts, assertNoBroadcasts.

Every ``app.cable.broadcast(stream, data)`` made during the test (by a
controller, a channel, a task) is recorded (see ``recording.recorder.BroadcastLog``)
and still delivered to the cable's listeners.
"""
from typing import Any

from proper_unittest.assertions._base import TestCaseMixin
from proper_unittest.assertions.equality import json_equal
from proper_unittest.recording.recorder import recording_of


class BroadcastAssertions(TestCaseMixin):
    """Assertions about what the test broadcast on the app's cable."""

    @property
    def broadcasts(self) -> list[Any]:
        """Every broadcast of this test, in order (``.stream``, ``.data``)."""
        return list(self._broadcast_log().entries)

    def assertBroadcastOn(self, stream: str, data: Any, msg: Any = None) -> None:
        """Assert `data` was broadcast to `stream` during this test (a
        boolean matches only a boolean: ``True`` is not ``1``)."""
        log = self._broadcast_log()
        if not any(json_equal(data, sent) for sent in log.on(stream)):
            self.fail(self._formatMessage(
                msg, f"Expected a broadcast on {stream!r} of {data!r}.\n{_listing(log.entries)}"
            ))

    def assertBroadcasts(self, stream: str, count: int, msg: Any = None) -> None:
        """Assert exactly `count` broadcasts went to `stream` during this test."""
        log = self._broadcast_log()
        sent = len(log.on(stream))
        if sent != count:
            self.fail(self._formatMessage(
                msg, f"Expected {count} broadcast(s) on {stream!r}, {sent} sent.\n{_listing(log.entries)}"
            ))

    def assertNoBroadcasts(self, stream: str | None = None, msg: Any = None) -> None:
        """Assert nothing was broadcast during this test (to `stream`, or at all)."""
        log = self._broadcast_log()
        sent = log.entries if stream is None else [b for b in log.entries if b.stream == stream]
        if sent:
            where = "at all" if stream is None else f"on {stream!r}"
            self.fail(self._formatMessage(
                msg, f"Expected no broadcasts {where}, {len(sent)} sent.\n{_listing(log.entries)}"
            ))

    def _broadcast_log(self) -> Any:
        return recording_of(self, "broadcast").broadcasts


def _listing(entries: list[Any]) -> str:
    if not entries:
        return "Nothing was broadcast in this test."
    lines = "\n".join(f"  {i}. {b.stream}: {_shown(b)}" for i, b in enumerate(entries, 1))
    return f"Broadcasts in this test, in order:\n{lines}"


def _shown(broadcast: Any) -> str:
    """The data; Turbo Stream markup as its parsed streams, one per line."""
    streams = broadcast.turbo_streams
    if not streams:
        return repr(broadcast.data)
    return "Turbo Streams:" + "".join(f"\n       {stream}" for stream in streams)
