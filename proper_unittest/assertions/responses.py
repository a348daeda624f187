"""Assertions about responses, emails, queries, tasks and broadcasts.

Failure messages say what was expected and show what came back: the
request, status, Location, the start of the body and, for server errors,
the app's own traceback.
"""
import json
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from typing import TYPE_CHECKING, Any, ClassVar
from http import HTTPStatus
from urllib.parse import SplitResult, urlsplit

import peewee as pw

from proper_unittest.assertions._base import TestCaseMixin
from proper_unittest.assertions.equality import json_equal
from proper_unittest.client.response import request_origin
from proper_unittest.databases.app import recover_aborted_transactions
from proper_unittest.isolation.app_state import outbox
from proper_unittest.recording.query_count import counting_queries
from proper_unittest.recording.recorder import apps_own
from proper_unittest.recording.streams import StreamRecorder
from proper_unittest.recording.tasks import capture_tasks

if TYPE_CHECKING:
    from proper_unittest.client.response import Response


BODY_PREVIEW = 800
# assertJSON without `expected`: any JSON body passes.
_ANY_JSON: Any = object()


def describe_response(response: "Response") -> str:
    """A readable account of a response, for failure messages."""
    status = response.status
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    lines = [f"{response.get('request', 'The request')} returned {status} {reason}".rstrip()]
    if response.headers.get("location"):
        lines.append(f"Location: {response.headers['location']}")
    tracebacks = response.get("app_tracebacks") or []
    body = response.body.strip()
    if tracebacks and status >= 500:
        lines.append("The app raised:\n" + tracebacks[-1].rstrip())
    elif body:
        more = f"\n... ({len(body) - BODY_PREVIEW} more characters)" if len(body) > BODY_PREVIEW else ""
        lines.append(f"Body ({response.mimetype or 'no content type'}):\n{body[:BODY_PREVIEW]}{more}")
    if response.get("app_log") and status >= 400 and not (tracebacks and status >= 500):
        lines.append("The app logged:\n" + "\n".join(response["app_log"]))
    return "\n".join(lines)


def describe_email(message: EmailMessage) -> str:
    """One line per email: recipients and subject."""
    bcc = f"; Bcc: {message['Bcc']}" if message["Bcc"] else ""
    return f"To: {message['To']!s}; Cc: {message['Cc'] or '-'}{bcc}; Subject: {message['Subject']!s}"


def recipients(message: EmailMessage) -> set[str]:
    """Every address a message is sent to (To, Cc, and Bcc when the
    message carries it), lower-cased, without display names."""
    fields = [str(value) for name in ("To", "Cc", "Bcc") for value in message.get_all(name, [])]
    return {address.lower() for _, address in getaddresses(fields) if address}


def _address(value: str) -> str:
    """The bare, lower-cased address of ``"alice@x"`` or ``"Alice <alice@x>"``."""
    return parseaddr(value)[1].lower() or value.strip().lower()


BODY_LINES = 3


def describe_email_bodies(message: EmailMessage) -> str:
    """The first lines of the email's text and HTML bodies, indented; an
    empty body is said to be empty."""
    lines = []
    for subtype in ("plain", "html"):
        part = message.get_body((subtype,))
        if part is None:
            continue
        content = str(part.get_content()).strip()
        label = "text" if subtype == "plain" else "HTML"
        if not content:
            lines.append(f"    {label} body: (empty)")
            continue
        body_lines = [line.strip() for line in content.splitlines() if line.strip()]
        more = f" ... ({len(body_lines) - BODY_LINES} more lines)" if len(body_lines) > BODY_LINES else ""
        lines.append(f"    {label} body: " + " | ".join(body_lines[:BODY_LINES]) + more)
    return "\n".join(lines) or "    (no text or HTML body)"


def email_text(message: EmailMessage) -> str:
    """All the text parts of an email, joined."""
    parts = message.walk() if message.is_multipart() else [message]
    return "\n".join(
        part.get_content() for part in parts
        if part.get_content_maintype() == "text" and not part.is_multipart()
    )


class ProperAssertions(TestCaseMixin):
    """Assertion methods shared by the test case classes. Expects ``self.app``."""

    if TYPE_CHECKING:
        app: Any
        _databases: ClassVar[dict[int, Any]]

    # ---- responses ----

    def assertStatus(self, response: "Response", status: int, msg: Any = None) -> None:
        """Assert the response has the given status code."""
        if response.status != status:
            self.fail(self._formatMessage(msg, f"Expected status {status}.\n{describe_response(response)}"))

    def assertRedirects(self, response: "Response", location: str, status: int = 303, msg: Any = None, *,
                        target_status: int = 200) -> None:
        """Assert the response redirects to `location` with `status` (303 by
        default, Proper's ``redirect_to``). A relative `location` also
        matches an absolute Location on the same path of the app's own
        origin (the scheme and host the request was made on); fragments
        must match when either side has one.

        On a response that followed redirects (``follow_redirects=True`` or
        ``.follow()``), checks the chain instead: the first redirect had
        `status`, the last one went to `location`, and the final page
        answered `target_status`."""
        chain = response.get("redirect_chain") or []
        if chain:
            first_status, (last_url, _) = chain[0][1], chain[-1]
            # The chain keeps paths; the last hop's own Location and origin are kept apart.
            last_location, origin = response.__dict__.get("_last_redirect", (last_url, None))
            if first_status != status or not _same_location(last_location, location, origin) \
                    or response.status != target_status:
                hops = "\n".join(f"  {i}. {code} -> {url}" for i, (url, code) in enumerate(chain, 1))
                self.fail(self._formatMessage(
                    msg, f"Expected a {status} redirect ending at {location!r} with a {target_status} page.\n"
                         f"Redirects followed:\n{hops}\nFinal page: {describe_response(response)}"
                ))
            return
        actual = response.headers.get("location")
        if response.status != status or not _same_location(actual, location, request_origin(response)):
            self.fail(self._formatMessage(
                msg, f"Expected a {status} redirect to {location!r}.\n{describe_response(response)}"
            ))

    def assertContains(self, response: "Response", text: str, status: int = 200, count: int | None = None,
                       msg: Any = None) -> None:
        """Assert the response has `status` and its body contains `text`
        (exactly `count` times, if given). Empty `text` is refused (ValueError):
        every body contains it."""
        _refuse_empty_text(text, "assertContains")
        self.assertStatus(response, status, msg)
        found = response.body.count(text)
        if (count is None and not found) or (count is not None and found != count):
            times = "at least once" if count is None else f"{count} time(s)"
            self.fail(self._formatMessage(
                msg, f"Expected {text!r} in the body {times}, found {found}.\n{describe_response(response)}"
            ))

    def assertNotContains(self, response: "Response", text: str, status: int = 200, msg: Any = None) -> None:
        """Assert the response has `status` and its body does not contain
        `text` (empty `text` is refused: ValueError)."""
        _refuse_empty_text(text, "assertNotContains")
        self.assertStatus(response, status, msg)
        if text in response.body:
            self.fail(self._formatMessage(msg, f"Did not expect {text!r} in the body.\n{describe_response(response)}"))

    def assertJSON(self, response: "Response", expected: Any = _ANY_JSON, status: int = 200, msg: Any = None,
                   *, partial: bool = False) -> Any:
        """Assert the response has `status` and a JSON body; returns it parsed.
        With `expected`, the body must equal it; with ``partial=True``, only
        contain it: each key of an expected object (nested ones too) with an
        equal (or containing) value, and a list as many items, each containing
        the expected item at its position. A boolean equals only a boolean
        (``True`` is not ``1``)."""
        self.assertStatus(response, status, msg)
        try:
            data = response.json()
        except (ValueError, UnicodeDecodeError):
            self.fail(self._formatMessage(msg, f"Expected a JSON body.\n{describe_response(response)}"))
        if expected is _ANY_JSON:
            return data
        difference = _json_difference(expected, data, "body") if partial else (
            None if json_equal(expected, data) else "body")
        if difference is not None:
            how = "does not contain the expected part" if partial else "differs"
            self.fail(self._formatMessage(
                msg,
                f"JSON body {how}" + (f" (at {difference})" if partial else "") + ".\n"
                f"Expected{' (part)' if partial else ''}: {json.dumps(expected, default=str, indent=1)}\n"
                f"Got:      {json.dumps(data, default=str, indent=1)}\n({response.get('request', '')})",
            ))
        return data

    # ---- emails ----

    @property
    def outbox(self) -> list[EmailMessage]:
        """Emails sent during this test (stdlib ``EmailMessage`` objects)."""
        return outbox(self.app)

    def assertEmailSent(self, *, to: str | None = None, subject: str | None = None,
                        subject_contains: str | None = None, contains: str | None = None,
                        count: int | None = None, msg: Any = None) -> list[EmailMessage]:
        """Assert emails matching every given filter were sent: at least one,
        or exactly `count`. `to` is one whole address (``"alice@example.com"``
        or ``"Alice <alice@example.com>"``, case-insensitive) among the To,
        Cc and Bcc recipients; `subject` is the exact subject;
        `subject_contains` a part of it; `contains` searches the text and
        HTML parts. Returns the matches."""
        wanted_address = _address(to) if to is not None else None
        matches = [
            message for message in self.outbox
            if (wanted_address is None or wanted_address in recipients(message))
            and (subject is None or str(message["Subject"]) == subject)
            and (subject_contains is None or subject_contains in str(message["Subject"] or ""))
            and (contains is None or contains in email_text(message))
        ]
        if (count is None and not matches) or (count is not None and len(matches) != count):
            wanted = ", ".join(
                f"{name}={value!r}" for name, value in
                (("to", to), ("subject", subject), ("subject_contains", subject_contains),
                 ("contains", contains)) if value is not None
            ) or "any"
            sent = "\n".join(
                f"  {describe_email(m)}\n{describe_email_bodies(m)}" for m in self.outbox
            ) or "  (none)"
            expected = "at least one email" if count is None else f"{count} email(s)"
            self.fail(self._formatMessage(
                msg, f"Expected {expected} matching {wanted}; {len(matches)} matched.\nSent in this test:\n{sent}"
            ))
        return matches

    def assertNoEmailSent(self, msg: Any = None) -> None:
        """Assert no email was sent during this test."""
        if self.outbox:
            sent = "\n".join(f"  {describe_email(m)}" for m in self.outbox)
            self.fail(self._formatMessage(msg, f"Expected no email, {len(self.outbox)} sent:\n{sent}"))

    # ---- database ----

    @contextmanager
    def assertNumQueries(self, expected: int, msg: Any = None) -> Iterator[Any]:
        """Assert the block runs exactly `expected` queries. Every query peewee
        runs counts, whatever the logging configuration silences, including
        those of a ``SqliteCache`` installed by :func:`override_cache`;
        transaction and savepoint statements do not, as they differ between
        backends. Yields the count (``get_queries()``; ``count`` after the block)."""
        with counting_queries() as counter:
            yield counter
        queries = [record.msg[0] for record in counter.get_queries()]
        queries = apps_own(queries)
        if len(queries) != expected:
            listing = "\n".join(f"  {i}. {sql}" for i, sql in enumerate(queries, 1)) or "  (none)"
            self.fail(self._formatMessage(msg, f"Expected {expected} queries, {len(queries)} ran:\n{listing}"))

    def assertRaises(self, expected_exception: Any, *args: Any, **kwargs: Any) -> Any:
        """unittest's assertRaises; for database errors the block also runs
        in a savepoint, so that on PostgreSQL the test can keep querying
        after the expected IntegrityError, as on other databases."""
        if not _is_database_error(expected_exception):
            return super().assertRaises(expected_exception, *args, **kwargs)
        if args:  # callable form: assertRaises(Error, func, *args, **kwargs)
            with self.assertRaises(expected_exception):
                args[0](*args[1:], **kwargs)
            return None
        return self._recovering(super().assertRaises(expected_exception, **kwargs))

    def assertRaisesRegex(self, expected_exception: Any, expected_regex: Any, *args: Any, **kwargs: Any) -> Any:
        """unittest's assertRaisesRegex, with the same savepoint as :meth:`assertRaises`."""
        if not _is_database_error(expected_exception) or args:
            return super().assertRaisesRegex(expected_exception, expected_regex, *args, **kwargs)
        return self._recovering(super().assertRaisesRegex(expected_exception, expected_regex, **kwargs))

    @contextmanager
    def _recovering(self, context: Any) -> Iterator[Any]:
        with recover_aborted_transactions(self._databases.values()):
            with context:
                yield context

    # ---- tasks and broadcasts ----

    def captureTasks(self) -> capture_tasks:
        """Context manager: tasks enqueued inside are captured, not run.
        ``with self.captureTasks() as tasks: ...`` then ``tasks.names``,
        ``tasks[0].args``, ``tasks.run()``."""
        return capture_tasks(self.app)

    def captureBroadcasts(self, *streams: str) -> StreamRecorder:
        """Context manager recording what is broadcast to `streams` on the
        app's cable: ``with self.captureBroadcasts("chat:lobby") as sent:``."""
        return StreamRecorder(self.app.cable, streams)


def _refuse_empty_text(text: str, assertion: str) -> None:
    """Raise ValueError for an empty `text`: it is in every body, so it checks nothing."""
    if text == "":
        raise ValueError(f"{assertion}() got empty text, which every body contains: give the text to look for.")


def _json_difference(expected: Any, actual: Any, where: str) -> str | None:
    """Where `actual` does not contain `expected` (a path such as
    ``body["photos"][0]["title"]``), or None when it does."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return where
        for key, value in expected.items():
            if key not in actual:
                return f"{where}[{key!r}] (missing)"
            found = _json_difference(value, actual[key], f"{where}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{where} (a list of {len(expected)})"
        for index, (item, got) in enumerate(zip(expected, actual)):
            found = _json_difference(item, got, f"{where}[{index}]")
            if found:
                return found
        return None
    return None if json_equal(expected, actual) else where


def _same_location(actual: str | None, expected: str, origin: str | None) -> bool:
    """Whether the Location `actual`, answering a request on `origin`, goes
    where `expected` says: the same origin (a relative URL is on `origin`),
    path, query and fragment."""
    if actual is None:
        return False
    if actual == expected:
        return True
    got, wanted = urlsplit(actual), urlsplit(expected)
    return (
        _origin_key(got, origin) == _origin_key(wanted, origin)
        and _path_and_query(got) == _path_and_query(wanted)
        and got.fragment == wanted.fragment
    )


def _origin_key(url: SplitResult, origin: str | None) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) of `url`; a URL without a host is on the
    request's `origin` (None when that is not known)."""
    if not url.netloc:
        return _origin_key(urlsplit(origin), None) if origin else None
    # A protocol-relative URL ("//host/path") takes the request's scheme.
    scheme = (url.scheme or urlsplit(origin or "http:").scheme).lower()
    try:
        port = url.port
    except ValueError:  # not a number: compare the whole host part
        return scheme, url.netloc.lower(), None
    return scheme, (url.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _path_and_query(url: SplitResult) -> str:
    path = url.path or ("/" if url.netloc else "")
    return path + (f"?{url.query}" if url.query else "")


def _is_database_error(exception: Any) -> bool:
    classes = exception if isinstance(exception, tuple) else (exception,)
    return any(isinstance(c, type) and issubclass(c, pw.DatabaseError) for c in classes)
