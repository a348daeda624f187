"""Following redirects with the test client, keeping the chain.

``client.get(url, follow_redirects=True)`` (every verb takes it) and
``response.follow()`` request the Location of a redirect response the way
a browser would: 301/302/303 become a GET without body, 307/308 repeat the
method and body. The final response has ``redirect_chain``: a list of
``(url, status)`` pairs, one per redirect followed (empty when none was).
"""
import inspect
from typing import Any, cast
from urllib.parse import urljoin, urlsplit


REDIRECT_STATUSES = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 20


def after_request(client: Any, outcome: Any, method: str, kwargs: dict[str, Any], follow_redirects: bool) -> Any:
    """What a verb returns: `outcome` (a response, or for the async client
    a coroutine of one) with what :meth:`Response.follow` needs, followed
    to the end when `follow_redirects` is true."""
    if inspect.isawaitable(outcome):
        async def finish() -> Any:
            response = _remember(client, await outcome, method, kwargs)
            return await _follow_all_async(response) if follow_redirects else response
        return finish()
    response = _remember(client, outcome, method, kwargs)
    return _follow_all(response) if follow_redirects else response


def follow_once(response: Any) -> Any:
    """The response to the request `response` redirects to (a coroutine
    with the async client), its ``redirect_chain`` extended by one hop."""
    # strict=True: a response that is not a redirect raised already.
    client, url, method, kwargs = cast(tuple[Any, str, str, dict[str, Any]], _next_request(response, strict=True))
    outcome = client._request(url, method=method, **kwargs)
    chain = [*response.get("redirect_chain", []), (url, response.status)]
    if inspect.isawaitable(outcome):
        async def finish() -> Any:
            return _remember(client, await outcome, method, kwargs, chain)
        return finish()
    return _remember(client, outcome, method, kwargs, chain)


def _follow_all(response: Any) -> Any:
    for _ in range(MAX_REDIRECTS):
        if _next_request(response) is None:
            return response
        response = follow_once(response)
    raise AssertionError(_too_many(response))


async def _follow_all_async(response: Any) -> Any:
    for _ in range(MAX_REDIRECTS):
        if _next_request(response) is None:
            return response
        response = await follow_once(response)
    raise AssertionError(_too_many(response))


def _remember(client: Any, response: Any, method: str, kwargs: dict[str, Any],
              chain: list[tuple[str, int]] | None = None) -> Any:
    response["redirect_chain"] = list(chain or [])
    object.__setattr__(response, "_resend", (client, method, kwargs))
    return response


def _next_request(response: Any, strict: bool = False) -> tuple[Any, str, str, dict[str, Any]] | None:
    """(client, url, method, kwargs) of the request that follows
    `response`, or None if it is not a redirect (an error if `strict`)."""
    location = response.headers.get("location")
    if response.status not in REDIRECT_STATUSES or not location:
        if strict:
            raise AssertionError(
                f"follow(): {response.get('request', 'the request')} returned {response.status}"
                f"{' with Location ' + repr(location) if location else ' without a Location'}"
                ", not a redirect."
            )
        return None
    resend: tuple[Any, str, dict[str, Any]] | tuple[None, None, None] = (
        response.__dict__.get("_resend") or (None, None, None)
    )
    client, method, kwargs = resend
    if client is None or method is None or kwargs is None:
        raise TypeError("follow() works on responses from a ProperTestCase client.")
    current_path = response.get("request", "GET /").split(" ", 1)[-1]
    parts = urlsplit(urljoin(current_path, location))
    url = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = kwargs.get("headers")
    if response.status in (307, 308):
        kwargs = {key: value for key, value in kwargs.items() if key != "params"}
        return client, url, method, kwargs
    return client, url, "GET", ({"headers": headers} if headers else {})


def _too_many(response: Any) -> str:
    hops = "\n".join(f"  {url} ({status})" for url, status in response.get("redirect_chain", []))
    return f"More than {MAX_REDIRECTS} redirects, a loop? The chain:\n{hops}"
