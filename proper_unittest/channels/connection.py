"""A WebSocket connection to the app's cable, for channel tests.

It speaks the same protocol as ``proper.test_client.WebSocketTestSession``
and keeps its method names, but: it sends the client's cookies (so the
signed-in user reaches the channel), ``connect()`` waits for the accept,
``subscribe()`` returns the confirmation (or rejection) itself, commands
return once the app has handled them, and a receive that times out says
which frames did arrive (and where channel code still running in the test's
worker thread is, see ``channels.workers``).
"""
import asyncio
from collections import deque
from typing import Any

from proper.helpers import jsonplus

from proper_unittest.channels.workers import where_running


ANSWERS = ("confirm_subscription", "reject_subscription")


class ReceiveTimeout(AssertionError, TimeoutError):
    """No frame arrived in time. A ``TimeoutError``, as with Proper's own
    ``WebSocketTestSession`` (so code that catches it keeps working), and
    an ``AssertionError``, so unittest reports a test that does not catch
    it as a failure. The message lists the frames that did arrive."""


class ErrorReply(AssertionError):
    """The app answered a command with ``{"type": "error", ...}`` (an
    unknown or invalid action, a message for a channel the connection is not
    subscribed to, a frame that is not JSON). The message shows the reply."""


class ChannelSession:
    """One WebSocket connection. Open it with ``await session.connect()``."""

    def __init__(self, app: Any, path: str, headers: dict[str, str]) -> None:
        self.app = app
        self.path = path
        self.headers = dict(headers)
        self.frames: list[Any] = []  # everything received, for failure messages
        self.subscriptions: dict[str, list[dict[str, Any]]] = {}
        self.task: asyncio.Task[None] | None = None
        # Made by handshake(); used only after it (Any: no None checks on each use).
        self._to_app: Any = None
        self._from_app: Any = None
        self._unread: deque[dict[str, Any]] = deque()
        self._idle: Any = None

    # ---- connection ----

    async def connect(self, timeout: float = 1.0) -> "asyncio.Task[None] | None":
        """Open the connection and wait until the app accepts it.
        Returns the handler task (awaited by :meth:`close`)."""
        first = await self.handshake(timeout=timeout)
        if first.get("type") != "websocket.accept":
            raise AssertionError(
                f"The app did not accept the WebSocket connection to {self.path!r}: "
                f"it answered {first!r} (is CABLE_PATH {self.app.config.get('CABLE_PATH')!r}?)"
            )
        await self._until_idle(timeout)
        return self.task

    async def handshake(self, timeout: float = 1.0) -> dict[str, Any]:
        """Start the app's handler for this connection and return its first
        ASGI message: ``{"type": "websocket.accept"}`` when it accepts, or
        ``{"type": "websocket.close", "code": ...}`` when it refuses."""
        self._to_app, self._from_app = asyncio.Queue(), asyncio.Queue()
        self._idle = asyncio.Event()
        self.task = asyncio.create_task(self.app(self._scope(), self._receive, self._send))
        return await self.receive_raw(timeout=timeout)

    async def close(self, timeout: float = 1.0) -> None:
        """Disconnect and wait for the app to run ``unsubscribed()``.
        Safe to call twice. If the app has not ended the connection within
        `timeout` seconds (channel code still running, say), its handler is
        cancelled and this raises ``TimeoutError`` saying so."""
        task = self.task
        if task is None or task.done():
            return
        self._to_app.put_nowait({"type": "websocket.disconnect"})
        try:
            done, _ = await asyncio.wait({task}, timeout=timeout)
            if not done:
                running = where_running(self.app)
                task.cancel()
                await asyncio.wait({task}, timeout=timeout)
                raise TimeoutError(
                    f"The app did not end the WebSocket connection to {self.path!r} within "
                    f"{timeout}s of the disconnect; its handler was cancelled"
                    f"{'' if task.done() else ' (and has not ended yet)'}."
                    + (f"\n{running}" if running else "")
                )
            if not task.cancelled():
                task.result()  # the handler's own error, if it raised one
        finally:
            self.subscriptions.clear()

    @property
    def is_open(self) -> bool:
        """True while the app's handler is running."""
        return self.task is not None and not self.task.done()

    @property
    def is_handling(self) -> bool:
        """True while the open connection's app has frames from the client
        it has not finished handling (channel code may still run for them)."""
        return self.is_open and self._idle is not None and not self._idle.is_set()

    # ---- commands ----

    async def subscribe(self, channel: str, timeout: float = 1.0, **params: Any) -> dict[str, Any]:
        """Subscribe and return the app's answer for this subscription:
        ``{"type": "confirm_subscription", ...}`` or ``reject_subscription``.
        Messages ``subscribed()`` sent before the answer stay queued for
        :meth:`receive`; an error frame instead fails (:class:`ErrorReply`)."""
        self.client_send({"command": "subscribe", "channel": channel, "params": params})
        skipped: list[dict[str, Any]] = []
        try:
            while True:
                raw = await self.receive_raw(timeout=timeout)
                frame: dict[str, Any] = _parse(raw)
                if (
                    frame.get("type") in ANSWERS and frame.get("channel") == channel
                    and (frame.get("params") or {}) == params
                ):
                    break
                if _is_error(frame):
                    raise ErrorReply(
                        f"The app answered with an error while subscribing to {channel} {params!r}: "
                        f"{frame!r}\n{self._history()}"
                    )
                skipped.append(raw)
        finally:
            self._unread.extendleft(reversed(skipped))
        if frame["type"] == "confirm_subscription":
            self.subscriptions.setdefault(channel, []).append(params)
        return frame

    async def send_action(self, channel: str, action: str, data: dict[str, Any] | None = None,
                          timeout: float = 1.0, expect_error: bool = False,
                          **params: Any) -> dict[str, Any] | None:
        """Call `action` on a subscribed channel and wait until the app has
        run it. Without `params`, those of the only subscription to
        `channel` are used (the app needs them to find the subscription).

        An error reply from the app (an unknown action, no such
        subscription) fails with the reply in the message; with
        ``expect_error=True`` the reply is returned instead, and no reply
        fails."""
        if not params and len(self.subscriptions.get(channel, [])) == 1:
            params = self.subscriptions[channel][0]
        return await self.send({
            "command": "message", "channel": channel, "action": action,
            "data": data or {}, "params": params,
        }, timeout=timeout, expect_error=expect_error)

    async def unsubscribe(self, channel: str, timeout: float = 1.0, expect_error: bool = False,
                          **params: Any) -> dict[str, Any] | None:
        """Unsubscribe and wait until the app has run ``unsubscribed()``.
        An error reply fails, as with :meth:`send_action`."""
        reply = await self.send({"command": "unsubscribe", "channel": channel, "params": params},
                                timeout=timeout, expect_error=expect_error)
        if params in self.subscriptions.get(channel, []):
            self.subscriptions[channel].remove(params)
        return reply

    async def send(self, data: dict[str, Any], timeout: float = 1.0,
                   expect_error: bool = False) -> dict[str, Any] | None:
        """Send a JSON frame and wait until the app has handled it.

        If the app answers ``{"type": "error", ...}``, this fails with the
        reply (an :class:`ErrorReply`, an ``AssertionError``); with
        ``expect_error=True`` it returns the reply instead, and fails if
        there is none. The reply is taken off the frames :meth:`receive`
        returns."""
        before = len(self.frames)
        self.client_send(data)
        await self._until_idle(timeout)
        reply = self._take_error_reply(before)
        if reply is not None and not expect_error:
            raise ErrorReply(
                f"The app answered {_describe_command(data)} with an error: {reply!r}"
                f"{_error_hint(reply, data, self.subscriptions)}\n"
                "(Pass expect_error=True to get the reply back instead.)\n" + self._history()
            )
        if reply is None and expect_error:
            raise AssertionError(
                f"Expected the app to answer {_describe_command(data)} with an error; it did not.\n"
                + self._history()
            )
        return reply

    def client_send(self, data: dict[str, Any]) -> None:
        """Queue a JSON frame for the app without waiting."""
        self.client_send_raw({"type": "websocket.receive", "text": jsonplus.dumps(data)})

    def client_send_raw(self, message: dict[str, Any]) -> None:
        """Queue a raw ASGI message for the app without waiting."""
        self._idle.clear()
        self._to_app.put_nowait(message)

    def _take_error_reply(self, since: int) -> dict[str, Any] | None:
        """The first error frame among those received after `since`, taken
        off the unread frames (it is the command's reply, not a message)."""
        if not any(_is_error(frame) for frame in self.frames[since:]):
            return None
        while not self._from_app.empty():
            self._unread.append(self._from_app.get_nowait())
        for raw in self._unread:
            frame = _parse(raw)
            if _is_error(frame):
                self._unread.remove(raw)
                return dict(frame)
        return None

    # ---- receiving ----

    async def receive(self, timeout: float = 1.0) -> Any:
        """The next frame: parsed JSON for data frames, the raw ASGI
        message otherwise (e.g. a close). Raises :class:`ReceiveTimeout`
        (a ``TimeoutError`` and an ``AssertionError``) after `timeout`
        seconds, listing the frames that did arrive."""
        return _parse(await self.receive_raw(timeout=timeout))

    async def receive_raw(self, timeout: float = 1.0) -> dict[str, Any]:
        """The next raw ASGI message from the app; :class:`ReceiveTimeout`
        after `timeout` seconds."""
        if self._unread:
            return self._unread.popleft()
        try:
            message: dict[str, Any] = await asyncio.wait_for(self._from_app.get(), timeout)
            return message
        except TimeoutError:
            raise ReceiveTimeout(self._nothing_came(timeout)) from None

    async def receive_message(self, timeout: float = 1.0) -> Any:
        """The ``data`` of the next ``{"type": "message"}`` frame, failing on
        any other frame."""
        return (await self._receive_message_frame(timeout)).get("data")

    async def _receive_message_frame(self, timeout: float) -> dict[str, Any]:
        """The next frame, which must be a ``{"type": "message"}`` one."""
        frame = await self.receive(timeout=timeout)
        if not isinstance(frame, dict) or frame.get("type") != "message":
            raise AssertionError(f"Expected a message frame, got {frame!r}.\n{self._history()}")
        return frame

    def _nothing_came(self, timeout: float) -> str:
        return f"No frame from the app within {timeout}s.{self._still_running()}\n{self._history()}{self._crash()}"

    def _still_running(self) -> str:
        running = where_running(self.app)
        return f"\n{running}" if running else ""

    def _crash(self) -> str:
        task = self.task
        if task is not None and task.done() and not task.cancelled() and task.exception():
            return f"\nThe connection's handler crashed: {task.exception()!r}"
        return ""

    def _history(self) -> str:
        if not self.frames:
            return "No frames arrived on this connection."
        lines = "\n".join(f"  {i}. {frame!r}" for i, frame in enumerate(self.frames, 1))
        return f"Frames that arrived on this connection, in order:\n{lines}"

    # ---- ASGI side ----

    def _scope(self) -> dict[str, Any]:
        headers = [(b"host", b"example.com")]
        headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in self.headers.items()]
        return {
            "type": "websocket", "path": self.path, "scheme": "ws", "server": ("example.com", 80),
            "client": ("127.0.0.1", 0), "headers": headers, "query_string": b"", "subprotocols": [],
        }

    async def _receive(self) -> dict[str, Any]:
        if self._to_app.empty():
            self._idle.set()
        message: dict[str, Any] = await self._to_app.get()
        return message

    async def _send(self, message: dict[str, Any]) -> None:
        self.frames.append(_parse(message))
        await self._from_app.put(message)

    async def _until_idle(self, timeout: float) -> None:
        """Wait until the app is back waiting for the client with nothing
        left to read; then let its writer flush what it queued."""
        idle: asyncio.Future[Any] = asyncio.ensure_future(self._idle.wait())
        waited: set[asyncio.Future[Any]] = {idle, *([self.task] if self.task is not None else [])}
        done, _ = await asyncio.wait(waited, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        if idle not in done:
            idle.cancel()
            if self.task in done:
                raise AssertionError(f"The connection's handler ended.{self._crash()}\n{self._history()}")
            raise AssertionError(
                f"The app did not handle the frame within {timeout}s.{self._still_running()}\n{self._history()}"
            )
        for _ in range(3):  # the writer task passes frames on in its own turns
            await asyncio.sleep(0)


def _is_error(frame: Any) -> bool:
    return isinstance(frame, dict) and frame.get("type") == "error"


def _describe_command(data: dict[str, Any]) -> str:
    command = data.get("command")
    if command == "message":
        return f"the action {data.get('action')!r} on {data.get('channel')} {data.get('params') or {}!r}"
    return f"{command or 'the frame'} {data.get('channel', '')} {data.get('params') or {}!r}".replace("  ", " ")


def _error_hint(reply: dict[str, Any], data: dict[str, Any],
                subscriptions: dict[str, list[dict[str, Any]]]) -> str:
    reason = reply.get("reason")
    channel = data.get("channel")
    if reason == "not_subscribed":
        held = subscriptions.get(str(channel)) or []
        if len(held) > 1 and not data.get("params"):
            return (f"\nThis connection has {len(held)} subscriptions to {channel} ({held!r}): "
                    "pass the params of the one you mean.")
        return (f"\nThis connection has no confirmed subscription to {channel} with these params "
                f"(its subscriptions: {subscriptions or 'none'}).")
    if reason == "unknown_action":
        return f"\n{channel} has no public method {data.get('action')!r}."
    if reason == "invalid_action":
        return f"\n{data.get('action')!r} may not be called as an action (empty, private or reserved)."
    return ""


def _parse(message: dict[str, Any]) -> Any:
    """A data frame's JSON, or the raw ASGI message for anything else."""
    if message.get("type") == "websocket.send":
        return jsonplus.loads(message["text"])
    return message
