"""The files a test class's set-up stored, as every test of the class
starts with them.

Files ``load_fixtures()`` and ``setUpTestData()`` store stay for the
class's tests, as their rows do. A test can still purge, overwrite or
delete one; its row comes back with the rollback, so its file must too.
When the class set-up ends, each file under the storage roots is copied to
a private folder (a copy: an overwrite in place would change a hard link
too); after each test a file that is gone, or whose size, mtime, inode or
mode changed, is copied back.
"""
import os
import shutil
import stat
import tempfile
import time

from proper_unittest.isolation.storage_roots import run_folder, walk_roots

# What a write, a replacement or a chmod changes: size, mtime, inode, mode.
_Signature = tuple[int, int, int, int]

# How long a class set-up waits, at most, for the file system's clock to
# move past the mtimes of the files it stored (see _settle_clock).
_CLOCK_WAIT = 0.05


def _signature(status: os.stat_result) -> _Signature:
    return (status.st_size, status.st_mtime_ns, status.st_ino, status.st_mode)


def _same_content(path: str, copy: str) -> bool:
    """Whether `path` holds what `copy` does (``filecmp`` would trust its
    cache of size and mtime, the very thing that cannot be trusted here)."""
    try:
        with open(path, "rb") as live, open(copy, "rb") as kept:
            return live.read() == kept.read()
    except OSError:
        return False


class ClassFiles:
    """The regular files under some roots when a class set-up ended, each
    with a private copy; :meth:`put_back` restores the ones a test changed."""

    def __init__(self, roots: list[str]) -> None:
        self.copies: str | None = None
        # path -> (its copy, its signature as the class left it)
        self.files: dict[str, tuple[str, _Signature]] = {}
        # Files a later write could change without changing their mtime:
        # compared by content (see _settle_clock).
        self.racy: set[str] = set()
        for path in sorted(walk_roots(roots)):
            status = os.lstat(path)
            if stat.S_ISREG(status.st_mode):
                self.files[path] = (self._copy(path), _signature(status))
        if self.files:
            self.racy = self._settle_clock()

    def _copy(self, path: str) -> str:
        """Copy `path` into this class's private folder; return the copy."""
        if self.copies is None:
            self.copies = tempfile.mkdtemp(prefix="class-files-", dir=run_folder())
        copy = os.path.join(self.copies, str(len(self.files)))
        shutil.copyfile(path, copy)
        return copy

    def _settle_clock(self) -> set[str]:
        """Wait until the file system stamps a write later than every class
        file's mtime, so a write by a test always changes the mtime (where
        timestamps are coarse, a write in the same tick would not); return
        the files still not older than the clock when the wait ran out."""
        assert self.copies is not None  # there are files
        probe = os.path.join(self.copies, "clock")
        open(probe, "wb").close()
        newest = max(signature[1] for _, signature in self.files.values())
        deadline = time.monotonic() + _CLOCK_WAIT
        now = os.stat(probe).st_mtime_ns
        while now <= newest and time.monotonic() < deadline:
            time.sleep(0.001)
            os.utime(probe)
            now = os.stat(probe).st_mtime_ns
        return {path for path, (_, signature) in self.files.items() if signature[1] >= now}

    def put_back(self) -> None:
        """Restore every class file that is gone or changed. When none is,
        this costs one ``lstat`` a file."""
        for path, (copy, signature) in self.files.items():
            try:
                unchanged = _signature(os.lstat(path)) == signature
            except OSError:
                unchanged = False
            if unchanged and (path not in self.racy or _same_content(path, copy)):
                continue
            self._restore(path, copy)

    def _restore(self, path: str, copy: str) -> None:
        """Put the class's `copy` back at `path`, whatever is there now,
        with the mode and mtime the class left."""
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)  # not written through: it may be a link now, or read-only
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copyfile(copy, path)
        _, (_, mtime_ns, _, mode) = self.files[path]
        os.chmod(path, stat.S_IMODE(mode))
        os.utime(path, ns=(time.time_ns(), mtime_ns))
        self.files[path] = (copy, _signature(os.lstat(path)))

    def discard(self) -> None:
        """Remove the copies (when the class ends)."""
        if self.copies is not None:
            shutil.rmtree(self.copies, ignore_errors=True)
        self.files.clear()
