"""What the runner tells the user on stderr: progress messages, usage errors,
and how the user's own exceptions are shown in them.

A usage error stops the run before any test runs (exit status 2) with one
message on stderr.  When the cause is an exception raised by the user's
code (a test module or app module that fails to import), the message shows
that exception and only the user's frames: never the runner's, unittest's
or importlib's.
"""

import sys
import sysconfig
import traceback
from pathlib import Path
from types import TracebackType


class UsageError(Exception):
    """The command line asks for something that cannot be run (exit status 2)."""


# Frames from these folders are not the user's: this package, the standard
# library and installed packages.
_LIBRARY_DIR = Path(__file__).resolve().parent.parent
_NOT_USER_DIRS = tuple(
    {str(_LIBRARY_DIR)} | {
        str(Path(path).resolve())
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (path := sysconfig.get_paths().get(key))
    }
)


def describe_user_exception(exc: BaseException) -> str:
    """Return ``"Type: message"`` plus the user's frames of *exc*, one per line.

    A ``SyntaxError`` is shown as file, line, message and the offending line.
    """
    if isinstance(exc, SyntaxError) and exc.filename:
        where = f"{exc.filename}, line {exc.lineno}"
        text = f"\n    {exc.text.strip()}" if exc.text and exc.text.strip() else ""
        return f"{type(exc).__name__} in {where}: {exc.msg}{text}"
    lines = [f"{type(exc).__name__}: {exc}".rstrip(": ")]
    for frame in user_frames(exc.__traceback__):
        lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        if frame.line:
            lines.append(f"    {frame.line}")
    return "\n".join(lines)


def user_frames(tb: TracebackType | None) -> list[traceback.FrameSummary]:
    """Return the frames of traceback *tb* that are in the user's own files."""
    return [frame for frame in traceback.extract_tb(tb) if is_user_file(frame.filename)]


def is_user_file(filename: str) -> bool:
    """Tell whether *filename* is user code (not frozen, stdlib, installed or this library)."""
    if not filename or filename.startswith("<"):
        return False
    path = str(Path(filename).resolve())
    return not any(path == root or path.startswith(root + "/") for root in _NOT_USER_DIRS)


def one_line(text: object) -> str:
    """Return *text* with its line breaks turned into spaces."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


def print_usage_error(prog: str, message: object) -> None:
    """Print ``PROG: error: MESSAGE`` on stderr."""
    info(f"{prog}: error: {message}")


def info(message: str) -> None:
    """Print a progress message on stderr, where unittest writes too."""
    print(message, file=sys.stderr, flush=True)
