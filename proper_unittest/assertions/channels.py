"""Assertions about WebSocket connections that the app refuses: a
connection closed before it is accepted, and a rejected subscription."""
from typing import TYPE_CHECKING, Any

from proper_unittest.assertions._base import AsyncTestCaseMixin
from proper_unittest.channels.connection import ChannelSession, ReceiveTimeout
from proper_unittest.isolation.lost_async import must_be_awaited

if TYPE_CHECKING:
    from proper_unittest.client.client import AsyncProperClient


class ChannelAssertions(AsyncTestCaseMixin):
    """Async assertion methods for :class:`AsyncChannelTestCase`.
    Expects ``self.client`` (the async client) and unittest's assertions."""

    if TYPE_CHECKING:
        client: AsyncProperClient

    @must_be_awaited
    async def assertConnectionRefused(self, path: str = "", code: int | None = None,
                                      timeout: float = 1.0, msg: Any = None) -> dict[str, Any]:
        """Assert the app refuses a WebSocket connection to its cable (or
        `path`), made with the client's cookies: it closes the connection
        instead of accepting it, as Proper does for a path that is not
        ``CABLE_PATH`` (code 4004). With `code`, the close code must match.
        Returns the close message (``{"type": "websocket.close", "code": ...}``).

        Proper accepts every connection to the cable and refuses a user per
        subscription: check that with :meth:`assertSubscriptionRejected`."""
        session = self.client.websocket(path)
        self.addAsyncCleanup(session.close)
        expected = f"Expected the app to refuse the WebSocket connection to {session.path!r}"
        try:
            first = await session.handshake(timeout=timeout)
        except ReceiveTimeout:
            self.fail(self._formatMessage(
                msg, f"{expected}, but it sent nothing within {timeout}s.{session._crash()}"
            ))
        kind = first.get("type")
        if kind == "websocket.accept":
            self.fail(self._formatMessage(msg, f"{expected}, but it accepted it."))
        if kind != "websocket.close":
            self.fail(self._formatMessage(msg, f"{expected}, but it answered {first!r}."))
        if code is not None and first.get("code") != code:
            self.fail(self._formatMessage(
                msg, f"{expected} with code {code}, but it closed it with code {first.get('code')!r}."
            ))
        return first

    @must_be_awaited
    async def assertSubscriptionRejected(self, session: ChannelSession, channel: str, timeout: float = 1.0,
                                         msg: Any = None, **params: Any) -> dict[str, Any]:
        """Subscribe `session` to `channel` with `params` and assert the app
        rejects it (``reject_subscription``: the channel called
        ``self.reject()``, e.g. for a user who may not listen, or the
        channel is unknown). Returns the rejection frame."""
        answer = await session.subscribe(channel, timeout=timeout, **params)
        if answer.get("type") != "reject_subscription":
            self.fail(self._formatMessage(
                msg, f"Expected the app to reject the subscription to {channel} {params!r}, "
                f"but it answered {answer!r}.\n{session._history()}"
            ))
        return answer
