"""What one test did, recorded while it runs: requests, SQL statements,
tasks, broadcasts and rendered templates.

A :class:`TestRecording` records each test, started by
``testcase.RecordedTestMixin`` and stopped afterwards, whatever happened.
Its wrappers are put on once for a test class (:class:`RecordingHub`),
each test's recording becoming the one they note into; a recording
without a class's hub puts its own on and off. Nothing here replaces the
real thing: the wrappers call the original methods (a broadcast is still
delivered, a query still runs) and only keep a note of the call.
"""
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import peewee as pw
from huey import signals as huey_signals

from proper_unittest.isolation.outlived import refuse_if_outlived
from proper_unittest.databases.app import library_work
from proper_unittest.errors import ConfigurationError

if TYPE_CHECKING:
    from proper_unittest.client.response import Response


# Test recordings in progress, innermost last: the client reports its
# requests to the innermost (a test run from inside another test reports
# to its own recording only).
_active: list["TestRecording"] = []


def active_recording() -> "TestRecording | None":
    """The recording of the test running now, if any."""
    return _active[-1] if _active else None


def recording_of(test: Any, what: str) -> "TestRecording":
    """The recording of `test`, which its `what` assertions read; a clear
    error outside a running test (before the recording starts)."""
    recording: TestRecording | None = getattr(test, "_recording", None)
    if recording is None:
        raise ConfigurationError(
            f"{type(test).__qualname__}: {what} assertions work inside a running test "
            "(the recording starts when the test does)."
        )
    return recording


class TestRecording:
    """Everything recorded for one test. ``sql`` is None when the flight
    recorder is off (statements are only kept for the failure report)."""

    def __init__(self, app: Any, databases: Iterable[pw.Database], *, record_sql: bool) -> None:
        self.app = app
        self.requests: list[Response] = []
        self.tasks = TaskLog(app.queue)
        self.broadcasts = BroadcastLog(app.cable)
        self.templates = TemplateLog(app.catalog)
        self.sql = SqlLog(databases) if record_sql else None
        self._started: list[_Part] = []  # the parts it installed itself
        self._hub: RecordingHub | None = None
        self._outer: TestRecording | None = None  # the hub's recording before this one

    def start(self, hub: "RecordingHub | None" = None) -> "TestRecording":
        """Begin recording: install every wrapper and signal handler, or,
        for the parts a test class's `hub` already taps, note through it."""
        parts: list[_Part | None] = [self.tasks, self.broadcasts, self.templates, self.sql]
        try:
            for part in parts:
                if part is not None and not (hub is not None and hub.taps(part)):
                    part.install()
                    self._started.append(part)
        except BaseException:
            self._uninstall()
            raise
        self._hub = hub
        if hub is not None:
            self._outer = hub.current
            hub.note_into(self)
        _active.append(self)
        return self

    def stop(self) -> None:
        """Stop recording and put the app's methods back."""
        if self in _active:
            _active.remove(self)
        hub = self._hub
        if hub is not None and hub.current is self:
            hub.note_into(self._outer)
        self._uninstall()

    def _uninstall(self) -> None:
        while self._started:
            self._started.pop().uninstall()

    def note_response(self, response: "Response") -> None:
        """Called by the client after each request (and each redirect hop)."""
        self.requests.append(response)


class _Part(Protocol):
    """What a recording is made of: a log that installs and uninstalls its
    wrappers or signal handlers."""

    def install(self) -> None: ...

    def uninstall(self) -> None: ...


# ---- tasks -----------------------------------------------------------------


@dataclass
class RecordedTask:
    """One call of a huey task during the test: ``name``, ``args``,
    ``kwargs``, the huey ``task`` itself, and whether it has ``run``."""

    name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    task: object = field(repr=False)
    run: bool = False

    def describe(self) -> str:
        """``name(args, kwargs)`` and whether it ran."""
        arguments = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        state = "ran" if self.run else "not run"
        return f"{self.name}({', '.join(arguments)}) [{state}]"


class TaskLog:
    """Every task enqueued on the app's huey queue, through huey's own
    ``SIGNAL_ENQUEUED`` signal: it fires in immediate mode (where the task
    then runs inline) and in capture mode alike. ``SIGNAL_EXECUTING`` marks
    a task as run."""

    def __init__(self, queue: Any) -> None:
        self.queue = queue
        self.entries: list[RecordedTask] = []
        self._by_id: dict[str, RecordedTask] = {}

    def install(self) -> None:
        """Connect to the queue's signals."""
        self.queue.signal(huey_signals.SIGNAL_ENQUEUED)(self._on_enqueued)
        self.queue.signal(huey_signals.SIGNAL_EXECUTING)(self._on_executing)

    def uninstall(self) -> None:
        """Disconnect from the queue's signals."""
        self.queue.disconnect_signal(self._on_enqueued, huey_signals.SIGNAL_ENQUEUED)
        self.queue.disconnect_signal(self._on_executing, huey_signals.SIGNAL_EXECUTING)

    def _on_enqueued(self, signal: str, task: Any, *args: Any, **kwargs: Any) -> None:
        entry = RecordedTask(task.name, tuple(task.args or ()), dict(task.kwargs or {}), task)
        self.entries.append(entry)
        self._by_id[task.id] = entry

    def _on_executing(self, signal: str, task: Any, *args: Any, **kwargs: Any) -> None:
        self.mark_run(task)

    def on_signal(self, signal: str, task: Any) -> None:
        """Note the queue's `signal` about `task` (enqueued or executing)."""
        if signal == huey_signals.SIGNAL_ENQUEUED:
            self._on_enqueued(signal, task)
        elif signal == huey_signals.SIGNAL_EXECUTING:
            self._on_executing(signal, task)

    def mark_run(self, task: Any) -> None:
        """Note that `task` has run (also for tasks run outside huey's
        ``execute``, e.g. by ``captureTasks().run()``)."""
        entry = self._by_id.get(task.id)
        if entry is not None:
            entry.run = True

    def named(self, name: str) -> list[RecordedTask]:
        """The recorded calls of the task called `name`."""
        return [entry for entry in self.entries if entry.name == name]

    def not_run(self) -> list[RecordedTask]:
        """Recorded calls that have not run yet, in order."""
        return [entry for entry in self.entries if not entry.run]


def task_log_for(queue: Any) -> "TaskLog | None":
    """The task log of the running test's recording, if it records `queue`."""
    recording = active_recording()
    if recording is not None and recording.tasks.queue is queue:
        return recording.tasks
    return None


# ---- broadcasts ------------------------------------------------------------


@dataclass(frozen=True)
class RecordedBroadcast:
    """One ``app.cable.broadcast(stream, data)`` call; ``turbo_streams``
    parses Turbo Stream markup data."""

    stream: str
    data: object

    @property
    def turbo_streams(self) -> list[Any]:
        """The ``<turbo-stream>`` elements of the data (a markup string), parsed
        (``action``, ``target``, ``template``); empty for other data."""
        if not isinstance(self.data, str) or "<turbo-stream" not in self.data:
            return []
        from proper_unittest.client.turbo import parse_streams  # the HTML parser only when used

        return list(parse_streams(self.data))


class BroadcastLog:
    """Every ``broadcast()`` on the app's cable, kept in order. The cable's
    own method still runs (the message is delivered): it is wrapped on the
    instance for the test and the wrapper removed afterwards."""

    def __init__(self, cable: Any) -> None:
        self.cable = cable
        self.entries: list[RecordedBroadcast] = []

    def install(self) -> None:
        """Wrap the cable's ``broadcast``."""
        self._undo = _note_calls(self.cable, "broadcast", self.note)

    def note(self, stream_name: str, data: object) -> None:
        """Note a broadcast (refused from channel code the test outlived)."""
        refuse_if_outlived("The broadcast to {!r}", stream_name)
        self.entries.append(RecordedBroadcast(stream_name, data))

    def uninstall(self) -> None:
        """Put the cable's ``broadcast`` back."""
        self._undo()

    def on(self, stream: str) -> list[object]:
        """The data broadcast to `stream`, in order."""
        return [entry.data for entry in self.entries if entry.stream == stream]


# ---- templates -------------------------------------------------------------


class TemplateLog:
    """The jx components the app's catalog loads while rendering: the
    template a controller renders, the components it imports, email
    templates. Recorded by wrapping the catalog's ``get_component_data``
    (every component goes through it, imported ones included)."""

    def __init__(self, catalog: Any) -> None:
        self.catalog = catalog
        self.names: list[str] = []

    def install(self) -> None:
        """Wrap the catalog's component lookup."""
        self._undo = _note_calls(self.catalog, "get_component_data", self.names.append)

    def uninstall(self) -> None:
        """Put the catalog's lookup back."""
        self._undo()

    def mark(self) -> int:
        """A position for :meth:`since`."""
        return len(self.names)

    def since(self, mark: int) -> list[str]:
        """The components loaded after `mark`, without repeats, in order."""
        return list(dict.fromkeys(self.names[mark:]))


# ---- SQL -------------------------------------------------------------------

# Statements the test transaction and savepoints add around the app's own
# queries; they differ between backends, so they are neither counted nor listed.
TRANSACTION_CONTROL = ("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")


def apps_own(statements: Iterable[str]) -> list[str]:
    """`statements` without the transaction control ones (TRANSACTION_CONTROL)."""
    return [sql for sql in statements if not sql.lstrip().upper().startswith(TRANSACTION_CONTROL)]


class SqlLog:
    """The SQL statements run on the test's databases, recorded by wrapping
    each database's ``execute_sql`` for the test (cheaper than peewee's
    DEBUG logging, and nothing reaches the log handlers of the test run)."""

    def __init__(self, databases: Iterable[pw.Database]) -> None:
        self.databases = list(databases)
        self.statements: list[str] = []
        self._undo: list[Callable[[], None]] = []

    def install(self) -> None:
        """Wrap ``execute_sql`` on every database."""
        for database in self.databases:
            self._undo.append(_record_statements(database, self.statements.append))

    def uninstall(self) -> None:
        """Put every database's ``execute_sql`` back."""
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()


# ---- the class-wide taps ------------------------------------------------------


class RecordingHub:
    """The wrappers and signal handlers of a test class's recordings, put
    on the app's objects once for the whole class: each test's recording
    just becomes the one they note into (:meth:`TestRecording.start`),
    instead of putting every wrapper on and off around each test. A hub of
    a class run inside a test (another class's) wraps the outer one's, so
    both tests' recordings note what happens in the inner test, as with
    per-test wrappers."""

    def __init__(self, app: Any, databases: Iterable[pw.Database], *, record_sql: bool) -> None:
        self.queue, self.cable, self.catalog = app.queue, app.cable, app.catalog
        self.databases = list(databases) if record_sql else None
        #: The recording of the test running now (None between tests).
        self.current: TestRecording | None = None
        # The running test's lists of statements and components (None: none).
        self._statements: list[str] | None = None
        self._names: list[str] | None = None
        self._undo: list[Callable[[], None]] = []

    def note_into(self, recording: "TestRecording | None") -> None:
        """Note what happens into `recording` from now on (None: nowhere)."""
        self.current = recording
        sql = recording.sql if recording is not None else None
        self._statements = sql.statements if sql is not None else None
        self._names = recording.templates.names if recording is not None else None

    def install(self) -> "RecordingHub":
        """Put the wrappers and signal handlers on."""
        signals = (huey_signals.SIGNAL_ENQUEUED, huey_signals.SIGNAL_EXECUTING)
        self.queue.signal(*signals)(self._on_signal)
        self._undo.append(lambda: self.queue.disconnect_signal(self._on_signal, *signals))
        self._undo.append(_note_calls(self.cable, "broadcast", self._on_broadcast))
        self._undo.append(_note_calls(self.catalog, "get_component_data", self._on_component))
        for database in self.databases or ():
            self._undo.append(_record_statements(database, self._on_statement))
        return self

    def uninstall(self) -> None:
        """Take them off again."""
        while self._undo:
            self._undo.pop()()

    def taps(self, part: object) -> bool:
        """True when this hub notes what `part` (a log of a recording)
        would: the same queue, cable, catalog or databases."""
        if isinstance(part, TaskLog):
            return part.queue is self.queue
        if isinstance(part, BroadcastLog):
            return part.cable is self.cable
        if isinstance(part, TemplateLog):
            return part.catalog is self.catalog
        return isinstance(part, SqlLog) and self.databases is not None and part.databases == self.databases

    def _on_signal(self, signal: str, task: Any, *args: Any, **kwargs: Any) -> None:
        if self.current is not None:
            self.current.tasks.on_signal(signal, task)

    def _on_broadcast(self, stream_name: str, data: object) -> None:
        if self.current is not None:
            self.current.broadcasts.note(stream_name, data)

    def _on_component(self, name: str) -> None:
        if self._names is not None:
            self._names.append(name)

    def _on_statement(self, sql: str) -> None:
        if self._statements is not None:
            self._statements.append(sql)


def _note_calls(obj: Any, name: str, note: Callable[..., object]) -> Callable[[], None]:
    """Wrap `obj`'s method `name` on the instance: every call is given to
    `note`, then to the method. Returns the function that unwraps it."""
    original = getattr(obj, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        note(*args, **kwargs)
        return original(*args, **kwargs)

    return wrap_on_instance(obj, name, wrapper)


def _record_statements(database: pw.Database, note: Callable[[str], object]) -> Callable[[], None]:
    """Wrap `database`'s ``execute_sql`` on the instance: each statement
    the tests run (not the library's own, see ``library_work``) is given
    to `note`. Returns the function that unwraps it."""
    original = database.execute_sql

    def execute_sql(sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
        if not library_work.get():
            note(sql)
        return original(sql, params, *args, **kwargs)

    return wrap_on_instance(database, "execute_sql", execute_sql)


def wrap_on_instance(obj: Any, name: str, wrapper: Callable[..., Any]) -> Callable[[], None]:
    """Put `wrapper` in place of `obj`'s method `name`, on the instance
    (for this test only); return the function that puts back what was
    there: the instance's own attribute, or none (the class's method)."""
    had_own = name in vars(obj)
    previous = vars(obj).get(name)
    setattr(obj, name, wrapper)

    def undo() -> None:
        if had_own:
            setattr(obj, name, previous)
        else:
            vars(obj).pop(name, None)

    return undo
