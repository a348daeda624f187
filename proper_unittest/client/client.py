"""Proper's TestClient, made to behave inside a test transaction.

On top of ``proper.TestClient`` it keeps cookies like a browser, takes JSON
and in-memory uploads, keeps the raw bytes of binary responses, records the
app's traceback when a request fails, follows redirects (keeping the
chain), and on PostgreSQL rolls a failed request back to its savepoint so
that the test can go on querying.
"""
import asyncio
import contextvars
import functools
import inspect
import mimetypes
import secrets
from collections.abc import Callable, Coroutine, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from http.cookies import SimpleCookie
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar, Unpack, cast
from urllib.parse import urlencode, urljoin, urlsplit

import peewee as pw
from proper import TestClient, current
from proper.constants import (
    AUTH_COOKIE_NAME, AUTH_COOKIE_SALT, DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT, QUERY,
)
from proper.helpers import CIMultiDict, jsonplus
from proper.helpers.asgi import make_test_scope

from proper_unittest.client.event_loop import run_request
from proper_unittest.recording.recorder import active_recording
from proper_unittest.recording.app_log import AppLog
from proper_unittest.client.response import Response, request_origin
from proper_unittest.client.turbo import parse_streams, turbo_headers
from proper_unittest.channels.connection import ChannelSession
from proper_unittest.databases.app import models_of, recover_aborted_transactions
from proper_unittest.errors import ConfigurationError


_NO_JSON: Any = object()

if TYPE_CHECKING:
    # Proper ships no types: to a type checker the clients are built from
    # scratch (their attributes below), so a typo in a test is an error.
    _TestClientBase = object
else:
    _TestClientBase = TestClient


class InMemoryUpload:
    """A file to upload that exists only in memory, usable wherever Proper
    takes an upload.

    In ``upload_files`` like a path:
    ``upload_files=[("image", InMemoryUpload("a.png", png_bytes))]``; and
    directly, as the uploaded file of a form field or of an attachment
    (``Attachment(InMemoryUpload("a.png", png_bytes))``): it has the file
    protocol (``read``, ``seek``, ``tell``) and ``filename``,
    ``content_type`` (given, or guessed from the name) and ``size``.
    """

    def __init__(self, filename: str, content: bytes | str, content_type: str | None = None) -> None:
        self.filename = filename
        self.content: bytes = content.encode("utf-8") if isinstance(content, str) else bytes(content)
        guessed = mimetypes.guess_type(filename)[0]
        self.content_type: str = content_type or guessed or "application/octet-stream"
        self._file = BytesIO(self.content)

    @classmethod
    def from_path(cls, path: str | Path) -> "InMemoryUpload":
        """Read a file from disk; the upload's name is the file's base name."""
        path = Path(path)
        return cls(path.name, path.read_bytes())

    @property
    def mimetype(self) -> str:
        """The content type sent with the file (the same as ``content_type``)."""
        return self.content_type

    @property
    def size(self) -> int:
        """The size in bytes."""
        return len(self.content)

    def read(self, size: int = -1) -> bytes:
        """Read up to `size` bytes (all that is left by default)."""
        return self._file.read(size)

    def seek(self, offset: int, whence: int = 0) -> int:
        """Move the read position, as a file's ``seek``."""
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        """The read position."""
        return self._file.tell()

    def readable(self) -> bool:
        """Always True: it can be read."""
        return True

    def seekable(self) -> bool:
        """Always True: it can seek."""
        return True

    def close(self) -> None:
        """Nothing to release; the content stays readable."""

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InMemoryUpload):
            return NotImplemented
        return (self.filename, self.content, self.content_type) == (other.filename, other.content, other.content_type)

    __hash__ = None  # type: ignore[assignment]  # mutable read position

    def __repr__(self) -> str:
        return f"InMemoryUpload({self.filename!r}, <{self.size} bytes>, content_type={self.content_type!r})"


class RequestOptions(TypedDict, total=False):
    """What every request method takes besides the URL (see ``proper.TestClient``)."""

    params: Mapping[str, Any] | None
    body: bytes | str | BytesIO | Mapping[str, Any] | None
    upload_files: list[tuple[str, "str | Path | InMemoryUpload"]] | None
    headers: Mapping[str, str] | None
    #: Send Turbo's Accept header, as a Turbo form submission does: the app
    #: may answer with a Turbo Stream (``result.turbo_streams``).
    turbo_stream: bool
    #: Send ``Turbo-Frame: <id>``, as a navigation inside that frame does.
    turbo_frame: str


#: What a request method returns: a Response, or with the async client an
#: awaitable of one.
_Reply = TypeVar("_Reply")


class _ClientBase(_TestClientBase, Generic[_Reply]):
    """What both clients share; the request methods return `_Reply`."""

    if TYPE_CHECKING:
        app: Any
        default_headers: dict[str, str]
        remote_ip: str
        user_agent: str

    def __init__(self, app: Any, *, databases: Iterable[pw.Database] = (), app_log: AppLog | None = None,
                 headers: dict[str, str] | None = None) -> None:
        cast(Any, super()).__init__(app, headers=headers, sync=True)
        self.databases = list(databases)
        self.app_log = app_log
        #: Every WebSocket session this client made (the test closes those
        #: still open before its rollback).
        self.sessions: list[ChannelSession] = []

    # ---- every verb takes follow_redirects=; body verbs also take json= ----

    def get(self, url: str, *, follow_redirects: bool = False, **kwargs: Unpack[RequestOptions]) -> _Reply:
        """GET; ``follow_redirects=True`` follows redirects (see ``redirect_chain``)."""
        return self._send(url, GET, kwargs, follow_redirects)

    def head(self, url: str, *, follow_redirects: bool = False, **kwargs: Unpack[RequestOptions]) -> _Reply:
        """HEAD; ``follow_redirects=True`` follows redirects."""
        return self._send(url, HEAD, kwargs, follow_redirects)

    def options(self, url: str, *, follow_redirects: bool = False, **kwargs: Unpack[RequestOptions]) -> _Reply:
        """OPTIONS; ``follow_redirects=True`` follows redirects."""
        return self._send(url, OPTIONS, kwargs, follow_redirects)

    def _send(self, url: str, method: str, kwargs: Mapping[str, Any], follow_redirects: bool) -> _Reply:
        kwargs = turbo_headers(kwargs)
        outcome = self._request(url, method=method, **kwargs)
        return cast(_Reply, self._after_request(outcome, method, dict(kwargs), follow_redirects))

    def post(self, url: str, *, json: Any = _NO_JSON, follow_redirects: bool = False,
             **kwargs: Unpack[RequestOptions]) -> _Reply:
        """POST; ``json=`` sends a JSON body with its content type."""
        return self._send(url, POST, _with_json(json, kwargs), follow_redirects)

    def put(self, url: str, *, json: Any = _NO_JSON, follow_redirects: bool = False,
             **kwargs: Unpack[RequestOptions]) -> _Reply:
        """PUT; ``json=`` sends a JSON body with its content type."""
        return self._send(url, PUT, _with_json(json, kwargs), follow_redirects)

    def patch(self, url: str, *, json: Any = _NO_JSON, follow_redirects: bool = False,
             **kwargs: Unpack[RequestOptions]) -> _Reply:
        """PATCH; ``json=`` sends a JSON body with its content type."""
        return self._send(url, PATCH, _with_json(json, kwargs), follow_redirects)

    def delete(self, url: str, *, json: Any = _NO_JSON, follow_redirects: bool = False,
             **kwargs: Unpack[RequestOptions]) -> _Reply:
        """DELETE; ``json=`` sends a JSON body with its content type."""
        return self._send(url, DELETE, _with_json(json, kwargs), follow_redirects)

    def query(self, url: str, *, json: Any = _NO_JSON, follow_redirects: bool = False,
             **kwargs: Unpack[RequestOptions]) -> _Reply:
        """QUERY; ``json=`` sends a JSON body with its content type."""
        return self._send(url, QUERY, _with_json(json, kwargs), follow_redirects)

    # ---- cookies ----

    @property
    def cookies(self) -> dict[str, str]:
        """The cookies the client sends, by name."""
        return _parse_cookie_header(self.default_headers.get("cookie", ""))

    def set_cookie(self, name: str, value: str | None) -> None:
        """Set (or, with None, remove) a cookie sent with every request."""
        cookies = self.cookies
        if value is None:
            cookies.pop(name, None)
        else:
            cookies[name] = value
        if cookies:
            self.default_headers["cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        else:
            self.default_headers.pop("cookie", None)

    def sign_in(self, user_or_session: Any) -> Any:
        """Send a session's signed auth cookie from now on, keeping other
        cookies. Pass a Session, or a user to create one for with the
        Session model's ``create_for_user``. Returns the session.
        Anything else (None, a string, a model class) raises ``TypeError``."""
        _check_sign_in_argument(user_or_session)
        session = user_or_session
        if not hasattr(session, "token"):
            session = _session_model_for(user_or_session).create_for_user(user=user_or_session)
        self.set_cookie(AUTH_COOKIE_NAME, self.app.dumps(session.token, salt=AUTH_COOKIE_SALT))
        return session

    def sign_out(self) -> None:
        """Stop sending the auth cookie."""
        self.set_cookie(AUTH_COOKIE_NAME, None)

    def websocket(self, url: str = "") -> ChannelSession:
        """A WebSocket session on the cable (``CABLE_PATH``) or `url`, that
        sends this client's cookies. Open it with ``await session.connect()``."""
        path = url or self.app.config.get("CABLE_PATH", "/cable")
        session = ChannelSession(self.app, path, self.default_headers)
        self.sessions.append(session)
        return session

    # ---- requests ----

    if TYPE_CHECKING:
        # Each client defines it: a Response, or a coroutine of one.
        def _request(self, url: str, *, method: str = "GET", params: Mapping[str, Any] | None = None,
                     body: Any = b"", upload_files: Any = None,
                     headers: Mapping[str, str] | None = None) -> Any: ...

    def _build_request(self, url: str, method: str, params: Mapping[str, Any] | None, body: Any,
                       upload_files: Any, headers: Mapping[str, str] | None) -> tuple[dict[str, Any], bytes]:
        req_headers = dict(self.default_headers)
        req_headers.update({key.lower(): value for key, value in (headers or {}).items()})
        if upload_files:
            if body and not isinstance(body, Mapping):
                raise ValueError("When using upload_files, body must be a dict of form fields.")
            req_headers["content-type"], body_bytes = _encode_multipart(body or {}, upload_files)
        else:
            body_bytes = _encode_body(body)
            if isinstance(body, Mapping) and body:
                req_headers["content-type"] = "application/x-www-form-urlencoded"
        if body_bytes:
            req_headers["content-length"] = str(len(body_bytes))
        scope = make_test_scope(url, method=method, params=params or {}, headers=req_headers.items())
        return scope, body_bytes

    def _response_maker(self, scope: dict[str, Any]) -> Callable[[int, CIMultiDict, bytes], Response]:
        """Call just before a request is sent: the function that turns its
        raw reply into a :class:`Response`, with the log lines, templates
        and recording of the request."""
        mark = self.app_log.mark() if self.app_log else None
        recording = active_recording()
        templates_mark = recording.templates.mark() if recording else 0

        def finish(status: int, headers: CIMultiDict, content: bytes) -> Response:
            response = _make_response(status, headers, content)
            response["request"] = f"{scope['method']} {scope['path']}"
            # Worked out only when an assertion asks (see request_origin).
            object.__setattr__(response, "_origin", functools.partial(_request_origin, scope))
            if mark is not None:
                response["app_log"], response["app_tracebacks"] = cast(AppLog, self.app_log).since(mark)
            response["templates"] = recording.templates.since(templates_mark) if recording else []
            response.setdefault("redirect_chain", [])
            if recording:
                recording.note_response(response)
            self._store_cookies(headers)
            return response

        return finish

    def _recovery(self) -> AbstractContextManager[None] | None:
        """The block a request runs in on PostgreSQL, whose transaction an
        error aborts (see ``recover_aborted_transactions``); None elsewhere,
        where there is nothing to recover."""
        postgres = [db for db in self.databases if isinstance(db, pw.PostgresqlDatabase)]
        return recover_aborted_transactions(postgres) if postgres else None

    def _store_cookies(self, headers: CIMultiDict) -> None:
        for header in headers.getall("set-cookie"):
            for name, value, attributes in _parse_set_cookie(header):
                self.set_cookie(name, None if _is_expired(attributes) else value)

    # ---- redirects ----
    # ``follow_redirects=True`` (every verb) and ``response.follow()`` request
    # the Location of a redirect response the way a browser would: 301/302/303
    # become a GET without body, 307/308 repeat the method and body. The final
    # response has ``redirect_chain``: a list of ``(url, status)`` pairs, one
    # per redirect followed (empty when none was).

    def _after_request(self, outcome: Any, method: str, kwargs: dict[str, Any],
                       follow_redirects: bool) -> Any:
        """What a verb returns: `outcome` (a response, or for the async client
        a coroutine of one) with what :meth:`Response.follow` needs, followed
        to the end when `follow_redirects` is true."""
        if inspect.isawaitable(outcome):
            async def finish() -> Any:
                response = self._remember(await outcome, method, kwargs)
                return await _follow_all_async(response) if follow_redirects else response
            return finish()
        response = self._remember(outcome, method, kwargs)
        return _follow_all(response) if follow_redirects else response

    def _follow(self, method: str, kwargs: dict[str, Any], response: Response) -> Any:
        """The response to the request `response` (made with `method` and
        `kwargs`) redirects to (a coroutine with the async client), its
        ``redirect_chain`` extended by one hop."""
        url = _redirect_url(response)
        if url is None:
            location = response.headers.get("location")
            raise AssertionError(
                f"follow(): {response.get('request', 'the request')} returned {response.status}"
                f"{' with Location ' + repr(location) if location else ' without a Location'}"
                ", not a redirect."
            )
        if response.status not in (307, 308):
            headers = kwargs.get("headers")
            method, kwargs = "GET", ({"headers": headers} if headers else {})
        else:
            kwargs = {key: value for key, value in kwargs.items() if key != "params"}
        outcome = self._request(url, method=method, **kwargs)
        chain = [*response.get("redirect_chain", []), (url, response.status)]
        # The chain keeps paths only: assertRedirects reads the last hop's
        # own Location, made absolute on the origin of its request.
        origin = request_origin(response)
        path = response.get("request", "GET /").split(" ", 1)[-1]
        last_redirect = (urljoin(f"{origin or ''}{path}", response.location or ""), origin)
        if inspect.isawaitable(outcome):
            async def finish() -> Any:
                return self._remember(await outcome, method, kwargs, chain, last_redirect)
            return finish()
        return self._remember(outcome, method, kwargs, chain, last_redirect)

    def _remember(self, response: Response, method: str, kwargs: dict[str, Any],
                  chain: list[tuple[str, int]] | None = None,
                  last_redirect: tuple[str | None, str | None] | None = None) -> Response:
        response["redirect_chain"] = list(chain or [])
        if last_redirect is not None:
            object.__setattr__(response, "_last_redirect", last_redirect)
        object.__setattr__(response, "_follow", functools.partial(self._follow, method, kwargs))
        return response


class ProperClient(_ClientBase[Response]):
    """A ``proper.TestClient`` for one test. See the module docstring."""

    def _request(self, url: str, *, method: str = "GET", params: Mapping[str, Any] | None = None,
                 body: Any = b"", upload_files: Any = None, headers: Mapping[str, str] | None = None) -> Response:
        scope, body_bytes = self._build_request(url, method, params, body, upload_files, headers)
        _refuse_inside_running_loop(method)
        finish = self._response_maker(scope)
        recovery = self._recovery()
        if recovery is None:
            raw = run_request(_exchange(self.app, scope, body_bytes))
        else:
            with recovery:
                raw = run_request(_exchange(self.app, scope, body_bytes))
        return finish(*raw)


class AsyncProperClient(_ClientBase[Coroutine[Any, Any, Response]]):
    """The same client for code that runs inside an event loop: every request
    method returns a coroutine (``await client.get("/")``). The request runs
    in the running loop, on the test's thread and inside its transaction,
    in its own copy of the context (as the sync client's ``asyncio.run``
    does): what the app sets in ``current`` stays in that request."""

    async def _request(self, url: str, *, method: str = "GET", params: Mapping[str, Any] | None = None,
                       body: Any = b"", upload_files: Any = None,
                       headers: Mapping[str, str] | None = None) -> Response:
        scope, body_bytes = self._build_request(url, method, params, body, upload_files, headers)
        finish = self._response_maker(scope)
        with self._recovery() or nullcontext():
            exchange = _exchange(self.app, scope, body_bytes)
            raw = await asyncio.create_task(exchange, context=contextvars.copy_context())
        return finish(*raw)


async def _exchange(app: Any, scope: dict[str, Any], body_bytes: bytes) -> tuple[int, CIMultiDict, bytes]:
    """Drive one HTTP request through the ASGI app; return its raw reply."""
    status = 0
    headers = CIMultiDict()
    chunks: list[bytes] = []
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body_bytes, "more_body": False}
        await asyncio.Event().wait()  # the app never reads past the body
        raise AssertionError("unreachable")  # pragma: no cover

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            for name, value in message.get("headers", []):
                headers[_text(name)] = _text(value)  # appends: a multidict
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, headers, b"".join(chunks)


def _make_response(status: int, headers: CIMultiDict, content: bytes) -> Response:
    content_type = headers.get("content-type", "")
    charset = "utf-8"
    if "charset=" in content_type:
        charset = content_type.split("charset=")[-1].split(";")[0].strip()
    response = Response(
        status=status,
        body=content.decode(charset, errors="replace"),
        mimetype=content_type.split(";")[0].strip(),
        content_type=content_type,
        content=content,
    )
    dict.__setitem__(response, "headers", headers)  # keep it a CIMultiDict
    object.__setattr__(response, "_parse_streams", parse_streams)
    return response


REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 20


def _request_origin(scope: Mapping[str, Any]) -> str:
    """The origin (``"http://example.com"``) the app sees the request on,
    as Proper reads it: the scheme (or X-Forwarded-Proto) and the server."""
    headers = {bytes(name).lower(): bytes(value) for name, value in scope.get("headers", [])}
    scheme = headers.get(b"x-forwarded-proto", b"").decode("latin-1") or scope["scheme"]
    host, port = scope["server"]
    default_port = 443 if scheme == "https" else 80
    return f"{scheme}://{host}" + ("" if port in (None, default_port) else f":{port}")


def _redirect_url(response: Response) -> str | None:
    """The URL `response` redirects to, relative to the app, or None if it is
    not a redirect."""
    location = response.headers.get("location")
    if response.status not in REDIRECT_STATUSES or not location:
        return None
    current_path = response.get("request", "GET /").split(" ", 1)[-1]
    parts = urlsplit(urljoin(current_path, location))
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _follow_all(response: Response) -> Response:
    for _ in range(MAX_REDIRECTS):
        if _redirect_url(response) is None:
            return response
        response = response.follow()
    raise AssertionError(_too_many(response))


async def _follow_all_async(response: Response) -> Response:
    for _ in range(MAX_REDIRECTS):
        if _redirect_url(response) is None:
            return response
        response = await response.follow()
    raise AssertionError(_too_many(response))


def _too_many(response: Response) -> str:
    hops = "\n".join(f"  {url} ({status})" for url, status in response.get("redirect_chain", []))
    return f"More than {MAX_REDIRECTS} redirects, a loop? The chain:\n{hops}"


def _with_json(data: Any, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    if data is _NO_JSON:
        return dict(kwargs)
    headers = {key.lower(): value for key, value in (kwargs.get("headers") or {}).items()}
    headers.setdefault("content-type", "application/json")
    return {**kwargs, "body": jsonplus.dumps(data), "headers": headers}


def _check_sign_in_argument(value: Any) -> None:
    """sign_in() takes a Session or a user model instance, nothing else."""
    if not isinstance(value, type) and (hasattr(value, "token") or isinstance(value, pw.Model)):
        return
    got = f"the model class {value.__name__}" if isinstance(value, type) else f"{type(value).__name__} {value!r}"
    raise TypeError(
        "sign_in() takes a Session (an object with a `token`, e.g. from "
        "Session.create_for_user(user=...)) or a user model instance to create one for; "
        f"got {got}."
    )


def _session_model_for(user: Any) -> Any:
    """The model with a foreign key to `user`'s model that has create_for_user()."""
    user_model: Any = type(user)  # types-peewee lacks Model._meta: Any at this boundary
    candidates: list[Any] = models_of(user_model._meta.database)
    for model in candidates:
        points_at_user = any(
            getattr(field, "rel_model", None) is user_model for field in model._meta.fields.values()
        )
        if points_at_user and hasattr(model, "create_for_user"):
            return model
    raise ConfigurationError(
        f"sign_in() got a {user_model.__name__}, but no model with a foreign key to "
        f"{user_model.__name__} has create_for_user(): pass a Session instead."
    )


def _encode_body(body: Any) -> bytes:
    # Any mapping: a dict (list values repeat a field) or a multidict.MultiDict.
    if isinstance(body, Mapping):
        return urlencode(body, doseq=True).encode() if body else b""
    if isinstance(body, str):
        return body.encode("utf-8")
    if isinstance(body, BytesIO):
        return body.getvalue()
    return bytes(body or b"")


def _encode_multipart(fields: Mapping[str, Any], upload_files: Any) -> tuple[str, bytes]:
    boundary = "proper-unittest-" + secrets.token_hex(12)
    parts: list[bytes] = []
    for name, value in fields.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for item in values:
            data = item if isinstance(item, bytes) else str(item).encode("utf-8")
            parts.append(_part(boundary, f'form-data; name="{name}"', None, data))
    for name, upload in upload_files:
        if not isinstance(upload, InMemoryUpload):
            upload = InMemoryUpload.from_path(upload)
        content = upload.content
        disposition = f'form-data; name="{name}"; filename="{upload.filename}"'
        parts.append(_part(boundary, disposition, upload.mimetype, content))
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", body


def _part(boundary: str, disposition: str, content_type: str | None, data: bytes) -> bytes:
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    return head.encode("utf-8") + b"\r\n" + data + b"\r\n"


def _parse_cookie_header(header: str) -> dict[str, str]:
    cookies = {}
    for pair in header.split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep:
            cookies[name] = value
    return cookies


def _parse_set_cookie(header: str) -> list[tuple[str, str, dict[str, str]]]:
    """The cookies one Set-Cookie header sets: (name, value, attributes by
    lower-case name). The plain form Proper writes is split directly (a
    SimpleCookie parse costs a few percent of a short test); a quoted value
    goes through SimpleCookie, which unquotes it."""
    if '"' in header:
        jar = SimpleCookie()
        jar.load(header)
        return [
            (name, morsel.value, {key: str(value) for key, value in morsel.items() if value not in ("", None)})
            for name, morsel in jar.items()
        ]
    pair, *attribute_texts = header.split(";")
    name, sep, value = pair.partition("=")
    if not sep or not name.strip():
        return []
    attributes = {}
    for text in attribute_texts:
        key, _, attribute = text.partition("=")
        attributes[key.strip().lower()] = attribute.strip()
    return [(name.strip(), value.strip(), attributes)]


def _is_expired(attributes: Mapping[str, str]) -> bool:
    max_age = attributes.get("max-age")
    if max_age:
        try:
            return int(max_age) <= 0
        except ValueError:
            return False
    expires = attributes.get("expires")
    if expires:
        try:
            return parsedate_to_datetime(expires) <= datetime.now(timezone.utc)
        except (TypeError, ValueError):
            return False
    return False


def _text(value: str | bytes) -> str:
    return value.decode("latin-1") if isinstance(value, bytes) else value


def _refuse_inside_running_loop(method: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(
        f"client.{method.lower()}() was called inside a running event loop, where "
        "Proper's synchronous TestClient cannot run. In an AsyncChannelTestCase use "
        f"`await self.client.{method.lower()}(...)`; in a ProperTestCase, use "
        f"`await self.async_client.{method.lower()}(...)` inside the coroutine."
    )


def close_uploaded_files() -> None:
    """App teardown hook: close the temporary files of the request's
    uploads, which Proper leaves open (they would warn as unclosed)."""
    form = getattr(getattr(current, "request", None), "form", None)
    for values in getattr(form, "data", {}).values():
        for value in values:
            if getattr(value, "filename", None) is not None and getattr(value, "file", None):
                value.file.close()
