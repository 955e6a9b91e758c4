"""Writing output files: atomically, with the mode a plain ``open()`` gives, and one clear error when it fails.

Every file the tool writes for a user (``-o``, ``--errors``, ``--report``, ``--stats-json``,
``cache export``) goes through here, so "cannot write" is one ``OutputError`` (exit 9)
naming the file and the reason, and ``check_writable`` can refuse an unusable target
before any paid request is made.
"""

from __future__ import annotations

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
        if not os.access(target, os.W_OK | os.X_OK):
            raise OutputError(f"cannot write in {target}: permission denied")
        return
    if target.exists():
        if target.is_dir():
            raise OutputError(f"cannot write {target}: it is a folder")
        if not os.access(target, os.W_OK):
            raise OutputError(f"cannot write {target}: permission denied")
        return
    folder = target.parent
    while not folder.exists() and folder != folder.parent:  # the nearest folder that exists must take new files
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {target}: the folder {folder} is not writable")


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def output_error(target: Path, exc: OSError) -> OutputError:
    reason = {errno.ENOSPC: "the disk is full", errno.EDQUOT: "the disk quota is exceeded",
              errno.EACCES: "permission denied", errno.EPERM: "permission denied",
              errno.EROFS: "the file system is read-only", errno.ENOENT: "the folder does not exist",
              errno.EISDIR: "it is a folder"}.get(exc.errno or 0, exc.strerror or str(exc))
    return OutputError(f"cannot write {target}: {reason}")
