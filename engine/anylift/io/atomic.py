"""Write files so that a crash never leaves a half-written result.

Data is written to a temporary file in the destination's folder, flushed to disk, then
renamed over the destination in one step (``os.replace`` is atomic on POSIX and Windows).

The temporary file is named ``.NAME.HOST-PID.XXXXXXXX.EXT`` (hidden, beside ``NAME.EXT``). A
process killed while writing (``kill -9``, a power cut) leaves it behind; the next write to the
same destination removes it: at once when the writer ran on this host and is gone, after
:data:`STALE_SECONDS` otherwise. The result gets the permissions a plain ``open()`` would give
(``0666`` less the umask), or the destination's own when it already exists.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import stat
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

STALE_SECONDS = 3600.0
"""A temporary file this old is left over from a crash, whoever wrote it (writes take seconds)."""

_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname())[:32] or "host"
_UMASK_LOCK = threading.Lock()


def _umask() -> int:
    """The process umask (read without changing it where Linux allows)."""
    with contextlib.suppress(OSError, ValueError):
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def _pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (always True where we cannot tell safely)."""
    if os.name != "posix":
        return True  # on Windows os.kill(pid, 0) would terminate the process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    return True


def remove_stale_temporaries(path: str | os.PathLike, suffix: str | None = None) -> list[Path]:
    """Remove temporary files that crashed writers of ``path`` left in its folder.

    Returns:
        the paths removed.
    """
    path = Path(path)
    suffix = path.suffix if suffix is None else suffix
    prefix = f".{path.name}."
    # Ours: HOST-PID.XXXXXXXX; older releases: XXXXXXXX (tempfile's 8 random characters).
    pattern = re.compile(r"(?:(?P<host>[A-Za-z0-9-]+)-(?P<pid>\d+)\.)?[a-z0-9_]{8}")
    removed = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        name = entry.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        m = pattern.fullmatch(name[len(prefix) : len(name) - len(suffix)])
        if m is None:
            continue
        try:
            info = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            continue
        dead = m["host"] == _HOST and not _pid_alive(int(m["pid"]))
        if dead or now - info.st_mtime > STALE_SECONDS:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it to ``path``.

    On an exception the temporary file is removed and ``path`` is left as it was.
    ``suffix`` defaults to ``path``'s own suffix (numpy and Blender look at it).
    """
    path = Path(path)
    suffix = path.suffix if suffix is None else suffix
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path, suffix)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{_HOST}-{os.getpid()}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except OSError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp_path, mode)
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    write_bytes_atomic(path, text.encode("utf-8"))
