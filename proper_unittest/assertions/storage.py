"""Uploads and storage: file_fixture, stored_files, assertStored, assertNotStored."""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any

from proper_unittest.assertions._base import TestCaseMixin
from proper_unittest.client.client import InMemoryUpload

PREVIEW_BYTES = 60


class StorageAssertions(TestCaseMixin):
    """Files to upload from ``tests/fixtures/``, and what Proper's storage holds."""

    if TYPE_CHECKING:  # set by the test case's class set-up
        app: Any

    def file_fixture(self, name: str) -> InMemoryUpload:
        """The file `name` (a relative path) from the ``fixtures`` folder of
        the test's package (``tests/fixtures/``, found from the test module
        upwards), as an upload: ``self.file_fixture("pixel.png")``."""
        searched = []
        folder = Path(inspect.getfile(type(self))).resolve().parent
        while True:
            candidate = folder / "fixtures" / name
            searched.append(str(candidate.parent))
            if candidate.is_file():
                upload = InMemoryUpload.from_path(candidate)
                return InMemoryUpload(name, upload.content)
            if not (folder / "__init__.py").exists() or folder.parent == folder:
                break
            folder = folder.parent
        raise FileNotFoundError(
            f"No fixture file {name!r}: looked in {', '.join(searched)}. "
            "Put it in the fixtures folder beside your test modules (tests/fixtures/)."
        )

    def stored_files(self) -> list[str]:
        """The files in the app's disk storage services (``STORAGES`` entries
        of type ``Disk``), as ``service:relative/path``, sorted."""
        found = []
        for name, root in _disk_roots(self.app).items():
            if root.is_dir():
                found += [f"{name}:{path.relative_to(root).as_posix()}" for path in root.rglob("*") if path.is_file()]
        return sorted(found)

    def assertStored(self, attachment: Any, content: bytes | str | None = None, msg: Any = None) -> bytes:
        """Assert the attachment's file is in its storage service (with
        `content`, if given); return its bytes."""
        stored = _download(attachment)
        if stored is None:
            self.fail(self._formatMessage(
                msg, f"Expected {_describe(attachment)} to be stored; its file is not there.\n"
                     f"{_listing(self.stored_files())}"))
        if content is not None:
            expected = content.encode("utf-8") if isinstance(content, str) else content
            if stored != expected:
                self.fail(self._formatMessage(
                    msg, f"{_describe(attachment)} is stored with other content: {len(stored)} bytes "
                         f"{stored[:PREVIEW_BYTES]!r}, expected {len(expected)} bytes {expected[:PREVIEW_BYTES]!r}."))
        return stored

    def assertNotStored(self, attachment: Any, msg: Any = None) -> None:
        """Assert the attachment's file is not (or no longer) in its storage service."""
        if _download(attachment) is not None:
            self.fail(self._formatMessage(msg, f"Expected {_describe(attachment)} not to be stored; it is."))


def _disk_roots(app: Any) -> dict[str, Path]:
    """The root folder of each disk service of the app's storage, by
    service name: the services' own (``root``), as the app's Attachment
    models have them, so a root changed for the tests is the one listed."""
    storages = app.config.get("STORAGES") or {}
    names = [name for name, config in storages.items()
             if isinstance(config, dict) and config.get("type") == "Disk"]
    models = [model for model in _attachment_models() if getattr(model, "_app", None) is app]
    roots = {}
    for name in names:
        if models:
            roots[name] = Path(models[0]._get_service(name).root)
        else:
            roots[name] = Path(app.root_path).parent / storages[name]["root"]
    return roots


def _attachment_models() -> list[type[Any]]:
    try:
        from proper.storage.attachment import _Attachment
    except ImportError:  # pragma: no cover - every supported Proper has it
        return []
    found: list[type[Any]] = []
    pending: list[type[Any]] = [_Attachment]
    while pending:
        for sub in pending.pop().__subclasses__():
            found.append(sub)
            pending.append(sub)
    return found


def _download(attachment: Any) -> bytes | None:
    if attachment is None:
        raise TypeError("expected an attachment, got None (was the file saved?)")
    try:
        return bytes(attachment.service.download(attachment))
    except FileNotFoundError:
        return None


def _describe(attachment: Any) -> str:
    return (f"attachment {getattr(attachment, 'id', '?')} ({getattr(attachment, 'filename', '?')!r}, "
            f"service {getattr(attachment, 'service_name', '?')!r})")


def _listing(files: list[str]) -> str:
    if not files:
        return "The disk storage services hold no files."
    shown = "\n".join(f"  {name}" for name in files[:20])
    more = f"\n  ... and {len(files) - 20} more" if len(files) > 20 else ""
    return f"Stored files:\n{shown}{more}"
