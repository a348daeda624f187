"""Files tests store through Proper's storage addon go to a temporary
folder of this run, and are removed again.

While tests run, the root of every ``Disk`` storage service in ``STORAGES``
is a folder under one temporary folder per process (so each ``--parallel``
worker has its own), made when the first test class of the app starts and
removed at exit (also after SIGTERM: see ``termination``). Files a test
writes there are removed when it ends; files the class-level data wrote,
when the class ends. A storage service tests would
use that is not a ``Disk`` (S3, or a class this library does not know) is
refused, unless the class or project opted in to ``storage``.
"""
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from proper_unittest.databases.safety import all_subclasses
from proper_unittest.environment import pytest_runs_the_test
from proper_unittest.isolation.termination import register_exit_hook
from proper_unittest.errors import UnsafeServiceError
from proper_unittest.isolation.opt_ins import SETTING, allowed

DISK = "Disk"

_run_folder: Path | None = None


def run_folder() -> Path:
    """This process's temporary storage folder (made on first use)."""
    global _run_folder
    if _run_folder is None or not _run_folder.is_dir():
        worker = os.environ.get("PROPER_UNITTEST_WORKER", "")
        prefix = f"proper_unittest-storage-{'w' + worker + '-' if worker else ''}"
        _run_folder = Path(tempfile.mkdtemp(prefix=prefix))
        register_exit_hook(shutil.rmtree, _run_folder, True, any_thread=True)
    return _run_folder


def storage_services(app: Any) -> dict[str, dict[str, Any]]:
    """The app's ``STORAGES`` entries (name -> config), or {} when the
    storage addon is off (``STORAGE`` unset)."""
    if not app.config.get("STORAGE"):
        return {}
    services = app.config.get("STORAGES") or {}
    return {name: config for name, config in services.items() if isinstance(config, dict)}


def used_service_names(app: Any) -> set[str]:
    """The services attachments of `app` are stored in by default: STORAGE
    and each Attachment class's default service."""
    names = {str(app.config.get("STORAGE"))}
    names.update(cls._default_service_name for cls in attachment_classes(app) if cls._default_service_name)
    return names


def check_storage(app: Any, test_class: type) -> None:
    """Refuse a storage service tests would use that is not on local disk
    (see the module doc). Touches nothing."""
    services = storage_services(app)
    if not services or allowed(test_class, "storage"):
        return
    for name in sorted(used_service_names(app)):
        kind = services.get(name, {}).get("type")
        if kind != DISK and getattr(kind, "__name__", None) != DISK:
            raise UnsafeServiceError(
                f"Refusing to run tests with the storage service STORAGES[{name!r}] "
                f"(type {kind!r}): it is not on local disk, so files tests upload would be "
                "stored there for real and never removed. In the test environment use a Disk "
                "service: STORAGES = {\"test\": {\"type\": \"Disk\", \"root\": \"temp/storage\"}} "
                "and STORAGE = \"test\" (its root becomes a temporary folder of the run). If the "
                f"tests really must use it, opt in: `{SETTING} = (\"storage\",)` on the test class, "
                f"or `{SETTING} = storage` in the project's [proper_unittest] config. "
                "Nothing was touched."
            )


def redirect_disk_roots(app: Any) -> dict[str, str]:
    """Point every Disk service of `app` (configured, and already built by
    an Attachment class) at a folder of :func:`run_folder`; return the
    folders by service name."""
    disks = {name: config for name, config in storage_services(app).items() if config.get("type") == DISK}
    if not disks:
        return {}
    folder = str(run_folder())
    classes = attachment_classes(app)
    roots: dict[str, str] = {}
    for name, config in disks.items():
        # Plain strings, and no mkdir when the root is already in place:
        # every test class's set-up comes here.
        root = os.path.join(folder, f"{id(app)}-{name}")
        if config.get("root") != root or not os.path.isdir(root):
            os.makedirs(root, exist_ok=True)
            config["root"] = root  # absolute: Disk joins it to the app's folder
        roots[name] = root
        for cls in classes:
            service = cls._services.get(name)
            if service is not None and hasattr(service, "root") and str(service.root) != root:
                service.root = Path(root)
    return roots


class DiskServices:
    """The storage services the Attachment classes of an app have built
    (their ``_services`` caches), against the Disk roots a class redirected:
    :meth:`put_back` undoes what a test did to them."""

    def __init__(self, app: Any, roots: dict[str, str]) -> None:
        self.roots = roots
        self.caches: list[dict[str, Any]] = [cls._services for cls in attachment_classes(app)]

    def at_test_start(self) -> list[dict[str, Any]]:
        """The services built when a test starts."""
        return [dict(cache) for cache in self.caches]

    def put_back(self, at_start: list[dict[str, Any]]) -> list[str]:
        """Drop each service built since `at_start` whose root is not its
        redirected one (the test configured it elsewhere), put back the
        services found then and their redirected roots; return what the
        test did that is worth naming."""
        changes: list[str] = []
        for cache, before in zip(self.caches, at_start):
            if cache != before:
                changes += self._drop_built(cache, before)
            for name, root in self.roots.items():
                service = cache.get(name)
                if service is not None and hasattr(service, "root") and str(service.root) != root:
                    changes.append(f"changed the root of the storage service {name!r} "
                                   f"(to {str(service.root)!r}); put back.")
                    service.root = Path(root)
        return changes

    def _drop_built(self, cache: dict[str, Any], before: dict[str, Any]) -> list[str]:
        """Make `cache` hold the services of `before` again, keeping a
        service built since at its redirected root (as the next test would
        build it); return the ones dropped, for the report."""
        dropped: list[str] = []
        for name, service in list(cache.items()):
            if before.get(name) is service:
                continue
            root = str(getattr(service, "root", ""))
            redirected = root == self.roots.get(name)
            if name not in before and redirected:
                continue
            del cache[name]
            if hasattr(service, "root") and not redirected:
                dropped.append(f"built the storage service {name!r} at {root!r}, not a temporary "
                               "folder of the run; dropped (what it stored there is not removed).")
        cache.update(before)
        return dropped


def attachment_classes(app: Any) -> list[Any]:
    """The Attachment model classes built for `app` (``app.attachment_for``)."""
    try:
        from proper.storage import _Attachment  # noqa: PLC0415 - only with the addon
    except ImportError:  # pragma: no cover - shipped with proper
        return []
    return [cls for cls in all_subclasses(_Attachment)
            if getattr(cls, "_app", None) is app and "_services" in vars(cls)]


class StoredFiles:
    """The files under some storage roots at one moment; :meth:`remove_new`
    removes what was stored since (files, then the folders left empty)."""

    def __init__(self, roots: list[str]) -> None:
        _left_by_clean_test.clear()  # any other listing: nothing is left for the next test
        self.roots = roots
        self.before = walk_roots(self.roots)

    @classmethod
    def for_test(cls, roots: list[str]) -> "StoredFiles":
        """The listing at a test's start: the one the test before it left
        (see :meth:`remove_new`), which still lists the roots when that
        test stored and removed nothing and nothing could run in between
        (under pytest, function fixtures do); else a new one."""
        left = _left_by_clean_test.pop() if _left_by_clean_test else None
        if left is not None and left.roots == roots and not pytest_runs_the_test():
            return left
        return cls(roots)

    def remove_new(self, *, test: bool = False) -> None:
        """Remove every file and folder under the roots that was not there.
        A `test` whose roots hold just what they held leaves this listing
        for the next test's start."""
        now = walk_roots(self.roots)
        _left_by_clean_test.clear()
        if now == self.before:
            if test:
                _left_by_clean_test.append(self)
            return
        new = now - self.before
        for path in sorted(new, key=lambda p: p.count(os.sep), reverse=True):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass


# The listing of a test that changed nothing under the roots, for the next
# test's start (StoredFiles.for_test); emptied by every other listing and
# removal, so only the test's last clean-ups and the runner come between.
_left_by_clean_test: list[StoredFiles] = []


def walk_roots(roots: list[str]) -> set[str]:
    """The paths of everything under `roots` (symbolic links not followed).
    Runs before and after every test: plain strings and ``os.scandir``,
    so an empty root costs one system call."""
    found: set[str] = set()
    pending = list(roots)
    while pending:
        folder = pending.pop()
        try:
            entries = os.scandir(folder)
        except OSError:  # gone, or not a folder: nothing under it
            continue
        with entries:
            for entry in entries:
                found.add(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
    return found
