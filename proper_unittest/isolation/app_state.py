"""Everything in the app a test can change, put back after each test."""
from email.message import EmailMessage
from typing import Any

from proper_unittest.isolation.overrides import close_if_ours, set_app_cache
from proper_unittest.recording.tasks import flush_memory_queue


class AppState:
    """A snapshot of the app's mutable test-relevant state.

    Taken before a test class and before each test (which also empties the
    outboxes), restored by :meth:`restore` after it, whatever the
    test did: config values (nested dicts, lists and sets too, in place, so
    whoever holds a reference to them sees them restored), DEBUG switches, cache swaps, queue mode and
    leftover tasks, cable stream listeners, outboxes.
    """

    def __init__(self, app: Any, config: "ConfigSnapshot | None" = None) -> None:
        self.app = app
        self.config = config if config is not None else ConfigSnapshot.of(app.config)
        self.router_debug = app.router.debug
        self.auto_reload = app.catalog.auto_reload
        self.cache = app.cache
        self.template_cache = getattr(app.catalog.jinja_env, "app_cache", None)
        self.queue_immediate = app.queue.immediate
        self.streams = _stream_snapshot(app.cable)
        clear_outboxes(app)

    def restore(self) -> None:
        """Put everything back as it was when the snapshot was taken."""
        app = self.app
        self.config.restore()
        app.router.debug = self.router_debug
        app.catalog.auto_reload = self.auto_reload
        if app.cache is not self.cache:
            close_if_ours(app.cache)  # from an override_cache() left open
            set_app_cache(app, self.cache, self.template_cache)
        app.queue.immediate = self.queue_immediate
        flush_memory_queue(app.queue)
        _restore_streams(app.cable, self.streams)
        clear_outboxes(app)


class ConfigSnapshot:
    """The app config's values, to put back in place: nested dicts, lists
    and sets are refilled (so whoever holds one sees it restored), anything
    else is put back by identity.

    One snapshot serves every test of a class: before each test,
    :meth:`matches` compares the config with a plain copy of the snapshot
    (one C-level ``==``), which is much cheaper than walking it again; and
    after a test that changed nothing, nothing needs putting back.
    """

    def __init__(self, config: Any) -> None:
        self.tree = _snapshot(config)
        self._values = _plain_copy(self.tree, {})
        # (container, key or index, the container found there): what must
        # still be in place for this snapshot to restore where it points.
        self._links = _container_links(self.tree)

    @classmethod
    def of(cls, config: Any) -> "ConfigSnapshot":
        """A snapshot of `config`: the last one taken, if `config` still
        holds its values in the same containers (the next test class of
        the same app, most often), else a new one. Walking the config again
        for every class costs more than the rest of a class's set-up."""
        last = _last_snapshot[0] if _last_snapshot else None
        if last is not None and last.fits(config):
            return last
        _last_snapshot[:] = [cls(config)]
        return _last_snapshot[0]

    def fits(self, config: Any) -> bool:
        """True when a new snapshot of `config` would restore what this one
        does: the same object, the same values, each nested dict, list and
        set still the one in its place."""
        if self.tree[0] is not config or not self.matches(config):
            return False
        try:
            return all(_child(parent, key) is child for parent, key, child in self._links)
        except (KeyError, IndexError, TypeError):
            return False

    def matches(self, config: Any) -> bool:
        """True when `config` holds the values this snapshot restores."""
        try:
            return bool(config == self._values)
        except Exception:  # a cycle (RecursionError), or a value whose == raises
            return False

    def restore(self) -> None:
        """Put the values back in place (nothing to do if they are there)."""
        if not self.matches(self.tree[0]):
            _restore(self.tree)


# The last ConfigSnapshot.of() took (one: most runs test one app).
_last_snapshot: list[ConfigSnapshot] = []


def outbox(app: Any) -> list[EmailMessage]:
    """The app mailer's outbox (empty list if the mailer keeps none)."""
    messages: list[EmailMessage] = getattr(app.mailer, "outbox", [])
    return messages


def clear_outboxes(app: Any) -> None:
    """Empty the outbox of every mailer the app has built."""
    for mailer in (app.mailer, *app.mailers._instances.values()):
        box = getattr(mailer, "outbox", None)
        if box is not None:
            box.clear()


def _stream_snapshot(cable: Any) -> dict[str, set[Any]]:
    with cable._lock:
        return {name: set(listeners) for name, listeners in cable._streams.items()}


def _restore_streams(cable: Any, snapshot: dict[str, set[Any]]) -> None:
    with cable._lock:
        cable._streams.clear()
        cable._streams.update({name: set(listeners) for name, listeners in snapshot.items()})


def _snapshot(value: Any, memo: dict[int, Any] | None = None) -> Any:
    """(value, snapshot of its items) for dicts, lists and sets, recursively;
    (value, None) for anything else, which is restored by identity."""
    memo = {} if memo is None else memo
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, dict):
        children: Any = {}
        memo[id(value)] = (value, children)
        children.update((key, _snapshot(item, memo)) for key, item in dict.items(value))
    elif isinstance(value, list):
        children_list: list[Any] = []
        memo[id(value)] = (value, children_list)
        children_list.extend(_snapshot(item, memo) for item in value)
    elif isinstance(value, set):
        memo[id(value)] = (value, set(value))
    else:
        memo[id(value)] = (value, None)
    return memo[id(value)]


def _plain_copy(snapshot: Any, memo: dict[int, Any]) -> Any:
    """A copy of what a :func:`_snapshot` restores, in plain containers
    (a cycle in the config is copied as a cycle)."""
    value, children = snapshot
    if children is None:
        return value
    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, dict):
        copied: dict[Any, Any] = {}
        memo[id(value)] = copied
        copied.update((key, _plain_copy(child, memo)) for key, child in children.items())
        return copied
    if isinstance(value, list):
        copied_list: list[Any] = []
        memo[id(value)] = copied_list
        copied_list.extend(_plain_copy(child, memo) for child in children)
        return copied_list
    return set(children)


def _container_links(tree: Any) -> list[tuple[Any, Any, Any]]:
    """(container, key or index, child container) for every nested dict,
    list and set under a :func:`_snapshot` (each container walked once)."""
    links: list[tuple[Any, Any, Any]] = []
    pending, seen = [tree], {id(tree[0])}
    while pending:
        value, children = pending.pop()
        if isinstance(value, dict):
            pairs: Any = children.items()
        elif isinstance(value, list):
            pairs = enumerate(children)
        else:
            continue  # a set holds no containers
        for key, child in pairs:
            if child[1] is None:
                continue
            links.append((value, key, child[0]))
            if id(child[0]) not in seen:
                seen.add(id(child[0]))
                pending.append(child)
    return links


def _child(container: Any, key: Any) -> Any:
    return dict.__getitem__(container, key) if isinstance(container, dict) else container[key]


def _restore(snapshot: Any, done: set[int] | None = None) -> Any:
    """Put a :func:`_snapshot` back in place and return the value."""
    done = set() if done is None else done
    value, children = snapshot
    if children is None or id(value) in done:
        return value
    done.add(id(value))
    if isinstance(value, dict):
        items = {key: _restore(child, done) for key, child in children.items()}
        dict.clear(value)
        dict.update(value, items)
    elif isinstance(value, list):
        value[:] = [_restore(child, done) for child in children]
    else:
        value.clear()
        value.update(children)
    return value
