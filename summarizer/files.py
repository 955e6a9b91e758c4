"""Writing output files: atomically, with the mode a plain ``open()`` gives, and one clear error when it fails.

Every file the tool writes for a user (``-o``, ``--errors``, ``--report``, ``--stats-json``,
``cache export``) goes through here, so "cannot write" is one ``OutputError`` (exit 9)
naming the file and the reason, and ``check_writable`` can refuse an unusable target
before any paid request is made.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from .errors import OutputError


def write_atomic(path: str | Path, content: str) -> None:
    """Write via a temporary file in the same folder and rename: never a half-written file.

    The file gets the mode a plain ``open()`` would give it (an overwritten file keeps its
    own). A target that is not a regular file (``/dev/stdout``, a pipe) is written directly.
    Any failure to write (permission, full disk) is an ``OutputError`` naming the file;
    what was there before is left intact."""
    target = Path(path)
    try:
        if target.exists() and not target.is_file():
            with open(target, "w", encoding="utf-8") as fh:
                fh.write(content)
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise output_error(target, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise output_error(target, exc) from None
        raise


def check_writable(path: str | Path | None, *, as_folder: bool = False) -> None:
    """Raise ``OutputError`` now if ``path`` could not be written later (before any paid work).

    ``as_folder``: ``path`` is an output folder (parts are written inside it)."""
    if path is None or str(path) == "-":
        return
    target = Path(path)
    if as_folder and target.is_dir():
        if not os.access(target, os.W_OK | os.X_OK) or not _takes_files(target):
            raise OutputError(f"cannot write in {target}: permission denied")
        return
    if target.exists():
        if target.is_dir():
            raise OutputError(f"cannot write {target}: it is a folder")
        if not os.access(target, os.W_OK):
            raise OutputError(f"cannot write {target}: permission denied")
        if target.is_file():  # os.access says yes to root even under /proc or /sys: trying tells
            try:
                os.close(os.open(target, os.O_WRONLY | os.O_APPEND))
            except OSError as exc:
                raise output_error(target, exc) from None
            if not _takes_files(target.parent):  # write_atomic replaces it with a new file made beside it
                raise OutputError(f"cannot write {target}: the folder {target.parent} is not writable")
        return
    folder = target.parent
    while not folder.exists() and folder != folder.parent:  # the nearest folder that exists must take new files
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK) or not _takes_files(folder):
        raise OutputError(f"cannot write {target}: the folder {folder} is not writable")


def _takes_files(folder: Path) -> bool:
    """Whether a file can be created in ``folder``, tried (a temporary one, removed at once): ``os.access``
    answers yes to root for /proc and /sys, where nothing can be created."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".summarizer-probe-", dir=folder)
    except OSError:
        return False
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return True


# -- private stored data: the cache, the exchange log, the job database and folders, Batch API files --------

_shared = False  # Settings.shared_files: the umask decides, as for any file (a group shares the data)


def share_files(shared: bool) -> None:
    """``Settings.shared_files``: stored data follows the umask (True) or is private to its owner (False)."""
    global _shared
    _shared = shared


def private_folder(path: str | Path) -> Path:
    """``mkdir -p path``; every folder it creates is 0700 whatever the umask (unless files are shared).
    Folders that were there already keep their mode."""
    folder = Path(path)
    missing = []
    for level in (folder, *folder.parents):
        if level.exists():
            break
        missing.append(level)
    folder.mkdir(parents=True, exist_ok=True)
    if not _shared:
        for level in missing:
            with contextlib.suppress(OSError):  # made by someone else meanwhile, with their mode
                os.chmod(level, 0o700)
    return folder


def private_file(path: str | Path) -> Path:
    """Create ``path`` empty if it is missing, 0600 whatever the umask (unless files are shared), so whatever
    opens it next (SQLite, whose -wal and -shm files copy its mode, or ``open(..., "a")``) keeps that mode.
    A file that exists keeps its mode."""
    target = Path(path)
    private_folder(target.parent)
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if _shared else 0o600)
    except FileExistsError:
        return target
    try:
        if not _shared:
            os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return target


def write_private(path: str | Path, content: str) -> None:
    """``write_atomic`` for stored data: a new file is 0600 (unless files are shared), an old one keeps its mode."""
    target = Path(path)
    private_folder(target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)  # mkstemp: 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(content)
        if _shared or target.exists():
            os.chmod(tmp, _mode_for(target))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def output_error(target: Path, exc: OSError) -> OutputError:
    reason = {
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is exceeded",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
        errno.EROFS: "the file system is read-only",
        errno.ENOENT: "the folder does not exist",
        errno.EISDIR: "it is a folder",
    }.get(exc.errno or 0, exc.strerror or str(exc))
    return OutputError(f"cannot write {target}: {reason}")
