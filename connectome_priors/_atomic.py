"""The one atomic writer: every file the project writes goes through it.

A file is written to a temporary name unique to this write, in the target's own folder (so the
final rename never crosses a file system), flushed to disk (``fsync``), then renamed over the
target (``os.replace``, atomic on POSIX and Windows); on any failure the temporary file is
removed. A reader therefore sees the old file or the whole new one, never a half-written one,
and two writers of the same file never share a temporary name. New files get the mode the
user's umask gives (``0o666 & ~umask``), like ``open(path, "w")``.

A process killed mid-write (``kill -9``) cannot clean up; its temporary file carries its process
id, so :func:`remove_stale_temporaries` can tell it from the temporary file of a writer that is
still running.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

_TEMPORARY = re.compile(r"^\..*\.(\d+)-[0-9a-f]{12}\.tmp(\.[^.]*)?$")


def _temp_name(path: Path) -> Path:
    # keep the suffix: writers that infer the format from the name (matplotlib) still see ".png"
    return path.with_name(f".{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:12]}.tmp{path.suffix}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):  # another user's process, or a platform without signals: keep
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove the temporary files in ``folder`` left by writers that no longer run; returns them.

    Only names of this module's form (``.<name>.<pid>-<hex>.tmp<suffix>``) whose process is gone
    on this machine are removed; a live writer's temporary file is kept.

    Example:
        >>> import pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / ".a.999999999-0123456789ab.tmp.json").write_text("{")   # no such process
        >>> [p.name for p in remove_stale_temporaries(folder)], list(folder.iterdir())
        (['.a.999999999-0123456789ab.tmp.json'], [])
    """
    removed = []
    for path in Path(folder).iterdir():
        match = _TEMPORARY.match(path.name)
        if match and path.is_file() and not _alive(int(match.group(1))):
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows: folders cannot be opened; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; when the block ends cleanly, move it onto ``path``.

    For writers that open the file themselves (``Dataset.to_netcdf``, ``Figure.savefig``,
    ``DataFrame.to_csv``). The folder must exist.

    Args:
        path: the final file.

    Yields:
        The temporary path to write (same folder and suffix as ``path``, not yet created).

    Raises:
        FileNotFoundError: the block wrote nothing at the temporary path.
        OSError: the folder does not exist or the rename failed (the temporary file is removed).

    Example:
        >>> import pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> with atomic_path(folder / "a.txt") as tmp:
        ...     _ = tmp.write_text("done")
        >>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
        ('done', ['a.txt'])
    """
    path = Path(path)
    tmp = _temp_name(path)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:  # the writer may not have synced: make the bytes durable first
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_folder(path.parent)


def write_bytes(path: str | os.PathLike, data: bytes, *, mkdir: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); returns ``path``.

    Args:
        path: the final file; its folder must exist unless ``mkdir``.
        data: the complete contents.
        mkdir: create the folder (and its parents) first.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Raises:
        OSError: the folder is missing or not writable (nothing is left behind).
    """
    path = Path(path)
    if mkdir:
        path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    return path


def write_text(path: str | os.PathLike, text: str, *, mkdir: bool = False) -> Path:
    """Write ``text`` as UTF-8 with the newlines as given (no platform translation); returns ``path``."""
    return write_bytes(path, text.encode("utf-8"), mkdir=mkdir)


class FolderBusyError(RuntimeError):
    """Another process holds the folder's lock file (see :func:`folder_lock`)."""


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike, purpose: str = "writing") -> Iterator[Path]:
    """Hold ``<folder>/.lock`` while the block runs, so two writers of one folder never interleave.

    The lock file is created exclusively (``O_CREAT | O_EXCL``) and holds the owner's process id and
    host. A lock left by a process that no longer runs on this host is taken over; a live one is
    refused at once with :class:`FolderBusyError` (no waiting).

    Args:
        folder: the folder to lock (created if missing).
        purpose: what the holder does, for the message another process gets.

    Yields:
        The lock file's path.

    Raises:
        FolderBusyError: another live process holds the lock.

    Example:
        >>> import pathlib, tempfile
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> with folder_lock(folder):
        ...     try:
        ...         with folder_lock(folder):
        ...             pass
        ...     except FolderBusyError as err:
        ...         print("busy")
        busy
        >>> (folder / ".lock").exists()
        False
    """
    import socket

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / ".lock"
    me = f"{os.getpid()} {socket.gethostname()} {purpose}\n"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            try:
                pid, host, *what = lock.read_text().split()
            except (OSError, ValueError):  # being written right now, or garbage: treat as held
                pid, host, what = "0", "", []
            if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
                with contextlib.suppress(OSError):
                    lock.unlink()  # its owner died: take it over
                continue
            raise FolderBusyError(
                f"{folder} is busy: process {pid} on {host or '?'} is {' '.join(what) or 'writing'} it "
                f"(lock file {lock}); wait for it to finish, or delete the lock file if that process is gone"
            ) from None
        with os.fdopen(fd, "w") as fh:
            fh.write(me)
        break
    else:  # pragma: no cover - two takeovers raced us twice
        raise FolderBusyError(f"{folder} is busy (lock file {lock} was taken over by another process)")
    try:
        yield lock
    finally:
        with contextlib.suppress(OSError):
            lock.unlink()
