"""Refuses a cache, task queue or cable that lives on a server (Redis or any
other) in the test environment, unless the class or project opted in.

What tests write to such a service is neither rolled back nor private: a
cached value reaches the next test (and other runs on the same server), a
captured task stays on the real queue where a worker runs it again, and a
broadcast reaches every subscriber of that server. The rules are an
allow-list of what is known to live in this process; nothing is ever
flushed, on either path.
"""
from typing import Any

from huey.storage import BlackHoleStorage, MemoryStorage
from proper.cache import NoCache
from proper.cache.sqlite_cache import SqliteCache
from proper.channels import Cable

from proper_unittest.errors import UnsafeServiceError
from proper_unittest.isolation.opt_ins import SETTING, allowed

HOW_TO_OPT_IN = (
    "If the tests really must use it, opt in: `{setting} = (\"{what}\",)` on the test "
    "class, or `{setting} = {what}` in the project's [proper_unittest] config."
)


def check_server_services(app: Any, test_class: type) -> None:
    """Fail with :class:`UnsafeServiceError` when `app`'s cache, queue or
    cable is server-backed and `test_class` did not opt in. Touches nothing."""
    for what, problem in (
        ("cache", _cache_problem(app.cache)),
        ("queue", _queue_problem(app.queue)),
        ("cable", _cable_problem(app.cable)),
    ):
        if problem and not allowed(test_class, what):
            raise UnsafeServiceError(
                f"Refusing to run tests with {problem} "
                + HOW_TO_OPT_IN.format(setting=SETTING, what=what)
                + " Nothing was touched or flushed."
            )


def _cache_problem(cache: Any) -> str | None:
    # A SqliteCache's file is one of the app's databases (app.db["proper_cache"]),
    # checked by the database safety rules; in memory it is private.
    if isinstance(cache, (NoCache, SqliteCache)):
        return None
    return (
        f"the cache {type(cache).__module__}.{type(cache).__qualname__} (CACHE): it is "
        "not an in-process cache, so what one test caches reaches the next test and "
        "other runs using that server. In the test environment configure "
        "CACHE = {\"type\": \"proper.cache.NoCache\"} (or an in-memory "
        "{\"type\": \"proper.cache.SqliteCache\", \"database\": \":memory:\"}; "
        "override_cache() gives a test one of its own)."
    )


def _queue_problem(queue: Any) -> str | None:
    if issubclass(queue.storage_class or type(None), (MemoryStorage, BlackHoleStorage)):
        return None
    return (
        f"the task queue {type(queue).__module__}.{type(queue).__qualname__} (QUEUE): its "
        f"storage ({getattr(queue.storage_class, '__name__', queue.storage_class)}) lives "
        "outside this process, so a task a test enqueues (captureTasks()) stays there and a "
        "worker runs it again. In the test environment configure QUEUE = {\"type\": "
        "\"huey.MemoryHuey\", \"immediate\": True, \"immediate_use_memory\": True}."
    )


def _cable_problem(cable: Any) -> str | None:
    if type(cable) is Cable:
        return None
    return (
        f"the cable {type(cable).__module__}.{type(cable).__qualname__} (CABLE): "
        "broadcasts go through its server to every subscriber of it (pub/sub ignores "
        "the database number), and channel tests wait for a listener tests never start. "
        "In the test environment configure CABLE = {} (the in-process "
        "proper.channels.Cable)."
    )
