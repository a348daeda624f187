"""Recording what is broadcast to cable streams."""
from collections.abc import Iterable
from typing import Any


class StreamRecorder(list[Any]):
    """Listens on cable streams like a subscribed channel would, and keeps
    every broadcast's data, in order. Registered on the app's real cable."""

    channel_name = "proper_unittest.StreamRecorder"

    def __init__(self, cable: Any, streams: Iterable[str]) -> None:
        super().__init__()
        self.cable = cable
        self.streams = list(streams)
        self.by_stream: dict[str, list[Any]] = {name: [] for name in self.streams}
        self._current_stream: str | None = None

    def __enter__(self) -> "StreamRecorder":
        for name in self.streams:
            self.cable.subscribe(name, _StreamTap(self, name))
        return self

    def __exit__(self, *exc_info: object) -> None:
        for name in self.streams:
            for listener in list(self.cable._streams.get(name, ())):
                if isinstance(listener, _StreamTap) and listener.recorder is self:
                    self.cable.unsubscribe(name, listener)

    def record(self, stream: str, data: Any) -> None:
        """Keep one broadcast's data."""
        self.append(data)
        self.by_stream[stream].append(data)


class _StreamTap:
    """One stream's listener; the cable calls ``send(data)`` on it."""

    channel_name = StreamRecorder.channel_name

    def __init__(self, recorder: StreamRecorder, stream: str) -> None:
        self.recorder = recorder
        self.stream = stream

    def send(self, data: Any) -> None:
        self.recorder.record(self.stream, data)
