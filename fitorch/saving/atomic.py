"""Crash-safe writes: a reader only ever sees the old file or the whole new one."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["atomic_write", "require_folder"]


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb", *, encoding: str = "utf-8",
                 newline: str | None = None) -> Iterator[IO[Any]]:
    """Open ``path`` for writing so that readers only ever see the old file or the whole new one.

    The data goes to a temporary file in the same folder (so the final rename stays on one file
    system), is flushed and fsync'ed, then ``os.replace`` d over ``path``. If the block raises,
    the temporary file is removed and ``path`` is left untouched. ``mode`` is ``"wb"`` or ``"w"``
    (text, with ``encoding`` and ``newline`` as for ``open``).
    """
    if mode not in ("wb", "w", "wt"):
        raise ValueError(f"atomic_write: mode={mode!r} is not supported; expected 'wb' or 'w'")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    require_folder(path, folder, "atomic_write")
    if os.path.isdir(path):
        raise IsADirectoryError(f"atomic_write: path {path!r} is a directory, expected a file path")
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{uuid.uuid4().hex[:12]}.tmp")
    # os.open with 0o666 lets the umask decide permissions, as a plain open() would
    # (tempfile.mkstemp would leave the final file readable by its owner only).
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        text_kwargs = {} if "b" in mode else {"encoding": encoding, "newline": newline}
        with os.fdopen(fd, mode, **text_kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise
    _fsync_folder(folder)


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
