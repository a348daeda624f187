"""The app served over real HTTP and WebSockets for a browser: uvicorn in a
daemon thread of the test process, on a free port of 127.0.0.1.

The socket is bound before the server starts (port 0: the system picks a
free one, so there is no race). Every request is counted while it is open,
so the test can wait until the server is idle before rolling back, and
logged (``GET /photos -> 200``) for the failure report. The browser's
``/favicon.ico`` gets an empty answer unless the app routes it, so it does
not log a 404 error in every test.
"""
import logging
import socket
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import uvicorn

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

#: Seconds to wait for the server to start, to stop and to become idle.
START_TIMEOUT = 10.0
IDLE_TIMEOUT = 10.0


class LiveServerError(Exception):
    """The live server did not start or stop in time."""


class LiveServer:
    """Serves `app` from a thread until :meth:`stop`; see the module
    docstring. ``on_request`` is called (on the server's thread) with each
    finished request's ``(method, path, status)``."""

    def __init__(self, app: Any, on_request: Callable[[str, str, int], None] | None = None) -> None:
        self.app = app
        self.on_request = on_request
        #: Every finished request, as ``"GET /path -> 200"``.
        self.log: list[str] = []
        self._open = 0
        self._idle = threading.Condition()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> "LiveServer":
        """Bind a free port and serve the app from a daemon thread."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        access_logger = logging.getLogger("uvicorn.access")
        kept = (access_logger.handlers[:], access_logger.propagate)
        config = uvicorn.Config(
            self._asgi,
            interface="asgi3",  # a bound method looks like ASGI2 to uvicorn's detection
            lifespan="on",
            log_config=None,  # leave the process's logging alone
            access_log=False,
            # The cable; websockets-sansio: the package's legacy protocol warns.
            ws="websockets-sansio",
        )
        # access_log=False also switches the "uvicorn.access" logger off for
        # the whole process (no handlers, no propagation); the flag alone
        # keeps the server quiet, so the logger is left as it was.
        access_logger.handlers[:], access_logger.propagate = kept
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"live-server-{port}", daemon=True
        )
        self._server, self._thread = server, thread
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise LiveServerError(f"The live server did not start on 127.0.0.1:{port}.")
            time.sleep(0.001)
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        """Ask the server to exit (it runs the app's lifespan shutdown) and
        wait for its thread."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(START_TIMEOUT)
        if thread.is_alive():
            raise LiveServerError(f"The live server at {self.url} did not stop.")

    def wait_idle(self, timeout: float = IDLE_TIMEOUT) -> bool:
        """Wait until no request or WebSocket is open; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._open == 0, timeout)

    @property
    def open_requests(self) -> int:
        """Requests and WebSockets being served now."""
        return self._open

    async def _asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        with self._idle:
            self._open += 1
        status = 101 if scope["type"] == "websocket" else 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "websocket.close":
                status = message.get("code", 1000)
            await send(message)

        try:
            if self._is_unrouted_favicon(scope):
                await send_and_note({"type": "http.response.start", "status": 204, "headers": []})
                await send_and_note({"type": "http.response.body", "body": b""})
            else:
                await self.app(scope, receive, send_and_note)
        finally:
            method = scope.get("method", "WS")
            path = scope.get("path", "")
            self.log.append(f"{method} {path} -> {status}")
            if self.on_request is not None:
                self.on_request(method, path, status)
            with self._idle:
                self._open -= 1
                self._idle.notify_all()

    def _is_unrouted_favicon(self, scope: Scope) -> bool:
        if scope["type"] != "http" or scope.get("path") != "/favicon.ico":
            return False
        try:
            self.app.router.match(scope.get("method", "GET"), "/favicon.ico")
        except Exception:  # MatchNotFound, MethodNotAllowed: not the app's
            return True
        return False
