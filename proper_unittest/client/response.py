"""What a request of the test client returns: :class:`Response`.

Imports nothing from the package (the recording and the assertions use the
type without loading the client). What only the client can do, following a
redirect and parsing Turbo Streams, it hands to each response it makes
(``_follow`` and ``_parse_streams``, see ``client.client``).
"""
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from proper.helpers import DotDict, jsonplus

if TYPE_CHECKING:
    from proper_unittest.client.turbo import TurboStream

    # Proper ships no types: to a type checker a response is a dict with
    # the attributes below, so a typo in a test is an error.
    _ResponseBase = dict[str, Any]

    class _Headers(MutableMapping[str, str]):
        """A response's headers, Proper's ``CIMultiDict``: names are
        case-insensitive and may have several values; ``[name]`` and
        ``get`` give the last one, ``getall`` every one."""

        def get(self, key: str, default: Any = None, *, type: Callable[[str], Any] | None = None,
                index: int = -1) -> Any: ...

        def getall(self, key: str, *, type: Callable[[str], Any] | None = None) -> list[Any]: ...
else:
    _ResponseBase = DotDict


class Response(_ResponseBase):
    """What a request returned: ``status``, ``body`` (str), ``content`` (bytes),
    ``headers`` (case-insensitive), ``mimetype``, ``content_type``, plus
    ``request`` ("POST /photos") and ``app_tracebacks`` for failed requests,
    ``templates`` (the jx components rendered) and ``redirect_chain``
    (``(url, status)`` per redirect followed)."""

    if TYPE_CHECKING:
        status: int
        body: str
        content: bytes
        headers: _Headers
        mimetype: str
        content_type: str
        request: str
        app_log: list[str]
        app_tracebacks: list[str]
        templates: list[str]
        redirect_chain: list[tuple[str, int]]

    def follow(self) -> Any:
        """Request the page this redirect points to (await it with the
        async client); the new response's ``redirect_chain`` includes this hop."""
        follow: Callable[[Response], Any] | None = self.__dict__.get("_follow")
        if follow is None:
            raise TypeError("follow() works on responses from a ProperTestCase client.")
        return follow(self)

    @property
    def location(self) -> str | None:
        """The Location header, if any."""
        location: str | None = self.headers.get("location")
        return location

    def json(self) -> Any:
        """The body parsed as JSON."""
        return jsonplus.loads(self.content)

    @property
    def turbo_streams(self) -> "list[TurboStream]":
        """The ``<turbo-stream>`` elements of the body, parsed (``action``,
        ``target``, ``targets``, ``template``), in order."""
        parse: Callable[[str], list[TurboStream]] | None = self.__dict__.get("_parse_streams")
        if parse is None:
            raise TypeError("turbo_streams works on responses from a ProperTestCase client.")
        return parse(self.body)


def request_origin(response: Response) -> str | None:
    """The origin (``"http://example.com"``) the app saw `response`'s
    request on; None for a response the client did not make."""
    origin: Callable[[], str] | None = response.__dict__.get("_origin")
    return origin() if origin is not None else None
