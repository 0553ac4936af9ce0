"""Crash-safe writes: a reader only ever sees the old file or the whole new one.

The new content goes to a temporary file beside the target, named ``.<target>.<12 hex>.tmp``,
which the writer holds an exclusive lock on (``flock``) until it is renamed over the target. A
writer killed mid-write (SIGKILL, power loss) leaves that file behind; the next write to the
same target removes it, because it can prove the file is an orphan of its own kind: the name
has the pattern, nobody holds the lock (the kernel drops a lock when its process dies), and the
file has not been written to for :data:`STALE_AFTER_S` seconds.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import time
import uuid
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["atomic_write", "require_folder", "sweep_stale_temp_files", "STALE_AFTER_S"]

# A writer takes its lock a few microseconds after creating its file and refreshes the mtime
# with every write; a file unlocked and untouched this long is not being written.
STALE_AFTER_S = 10.0
# Where flock is missing (Windows), an open file cannot be removed anyway, and a day is long
# enough that the temp file cannot be a live writer's.
_STALE_WITHOUT_LOCK_S = 24 * 3600.0

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]


def _temp_name(target: str) -> str:
    return f".{os.path.basename(target)}.{uuid.uuid4().hex[:12]}.tmp"


def _temp_pattern(target: str) -> re.Pattern[str]:
    return re.compile(re.escape(f".{os.path.basename(target)}.") + r"[0-9a-f]{12}\.tmp")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", *, encoding: str = "utf-8",
                 newline: str | None = None) -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that readers only ever see the old file or the whole new one.

    The data goes to a temporary file in the same folder (so the final rename stays on one file
    system), is flushed and fsync'ed, then ``os.replace`` d over ``path``. If the block raises,
    the temporary file is removed and ``path`` is left untouched. Temporary files that earlier
    writes to ``path`` left behind when their process was killed are removed first (see
    :func:`sweep_stale_temp_files`). ``mode`` is ``"wb"`` or ``"w"`` (text, with ``encoding``
    and ``newline`` as for ``open``).
    """
    if mode not in ("wb", "w", "wt"):
        raise ValueError(f"atomic_write: mode={mode!r} is not supported; expected 'wb' or 'w'")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    require_folder(path, folder, "atomic_write")
    if os.path.isdir(path):
        raise IsADirectoryError(f"atomic_write: path {path!r} is a directory, expected a file path")
    sweep_stale_temp_files(path)
    tmp = os.path.join(folder, _temp_name(path))
    # os.open with 0o666 lets the umask decide permissions, as a plain open() would
    # (tempfile.mkstemp would leave the final file readable by its owner only).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX)  # held until the file is closed: proof of life
        with (os.fdopen(fd, mode) if "b" in mode
              else os.fdopen(fd, mode, encoding=encoding, newline=newline)) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _fsync_folder(folder)


def sweep_stale_temp_files(path: str | os.PathLike) -> list[str]:
    """Remove the temporary files that writes to ``path`` left behind when their process died;
    return their paths.

    A file is removed only when all of these hold: its name is ``atomic_write``'s pattern for
    ``path`` (``.<name>.<12 hex digits>.tmp`` in the same folder), it is a regular file (not a
    link), no process holds its lock, and it was last written :data:`STALE_AFTER_S` seconds ago
    or more (a day where file locks are not available). Anything else is left alone, and a
    file that cannot be removed is skipped silently: sweeping never makes a save fail.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    pattern = _temp_pattern(path)
    try:
        names = [n for n in os.listdir(folder) if pattern.fullmatch(n)]
    except OSError:
        return []
    removed = []
    for name in names:
        candidate = os.path.join(folder, name)
        with contextlib.suppress(OSError):
            if _is_orphan(candidate):
                os.remove(candidate)
                removed.append(candidate)
    return removed


def _is_orphan(candidate: str) -> bool:
    info = os.lstat(candidate)
    if not stat.S_ISREG(info.st_mode):
        return False
    age = time.time() - info.st_mtime
    if fcntl is None:
        return age >= _STALE_WITHOUT_LOCK_S
    if age < STALE_AFTER_S:
        return False
    fd = os.open(candidate, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a live writer holds it
        # Still the same file, unlocked: its writer is gone (names are never reused, so no
        # writer can take this file up again once the lock below is dropped).
        return os.path.samestat(info, os.fstat(fd))
    finally:
        os.close(fd)


def _fsync_folder(folder: str) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open folders, and there
    # os.replace is already as durable as it gets.
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def require_folder(path: str, folder: str, who: str) -> None:
    """Raise ``FileNotFoundError`` naming ``who`` and ``path`` unless ``folder`` exists."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"{who}: the folder {folder!r} of path {path!r} does not exist; create it first")
