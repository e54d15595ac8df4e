"""Writing output files so that a crash never leaves a half-written one."""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path

from gandetect.errors import UsageError


def check_output_path(path: str | os.PathLike) -> None:
    """Raise UsageError unless ``path`` names a file that may be created or replaced.

    Devices, pipes and sockets are refused: replacing ``/dev/null`` with a
    regular file would break the machine, and writing into a pipe cannot be
    atomic. A symbolic link to a regular file is written through.
    """
    text = os.fsdecode(path)
    if text.endswith(os.sep) or os.path.isdir(text):
        raise UsageError(f"{text}: is a folder; give the name of the file to write")
    try:
        mode = os.stat(text).st_mode
    except FileNotFoundError:
        return
    except OSError as error:
        raise UsageError(f"{text}: cannot check the output path ({error.strerror or error})") from None
    if not stat.S_ISREG(mode):
        raise UsageError(f"{text}: not a regular file (a device, pipe or socket); give the path of a file to write")


def write_atomically(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then a rename.

    Python documents ``os.replace`` as atomic on POSIX, so a crash or a kill
    during the write leaves any earlier file at ``path`` intact, and the
    temporary file is removed when the write fails.

    Raises
    ------
    OSError
        The folder does not exist or cannot be written.
    """
    # Through a symbolic link to its file, so that the link itself stays.
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        raise OSError(errno.EINVAL, "not a regular file")
    folder = target.parent if str(target.parent) else Path(".")
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        # mkstemp creates the file as 0600; give it the mode a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
