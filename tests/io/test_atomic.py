"""Atomic writes: permissions follow the umask or the existing file; stale temporaries go."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from anylift.io import atomic
from anylift.io.atomic import STALE_SECONDS, atomic_path, remove_stale_temporaries, write_text_atomic


@pytest.fixture
def umask():
    """Set the process umask for one test and put the old one back."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_gets_the_umask_mode(tmp_path, umask, mask, mode):
    umask(mask)
    write_text_atomic(tmp_path / "r.txt", "x")
    assert os.stat(tmp_path / "r.txt").st_mode & 0o777 == mode


def test_existing_file_keeps_its_mode(tmp_path, umask):
    umask(0o077)
    path = tmp_path / "r.txt"
    path.write_text("old")
    os.chmod(path, 0o644)
    write_text_atomic(path, "new")
    assert path.read_text() == "new"
    assert os.stat(path).st_mode & 0o777 == 0o644


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporaries_are_removed_by_the_next_write(tmp_path):
    path = tmp_path / "result.npz"
    dead = tmp_path / f".result.npz.{atomic._HOST}-{_dead_pid()}.abcd1234.npz"
    alive = tmp_path / f".result.npz.{atomic._HOST}-{os.getpid()}.abcd1234.npz"
    other_host_new = tmp_path / ".result.npz.elsewhere-1.abcd1234.npz"
    other_host_old = tmp_path / ".result.npz.elsewhere-2.abcd1234.npz"
    legacy_old = tmp_path / ".result.npz.k2j_x9q1.npz"  # tempfile's name before host-pid names
    unrelated = tmp_path / ".other.npz.abcd1234.npz"
    for p in (dead, alive, other_host_new, other_host_old, legacy_old, unrelated):
        p.write_bytes(b"partial")
    long_ago = time.time() - STALE_SECONDS - 60
    for p in (other_host_old, legacy_old):
        os.utime(p, (long_ago, long_ago))

    with atomic_path(path) as tmp:
        tmp.write_bytes(b"complete")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted([alive.name, other_host_new.name, unrelated.name, "result.npz"])
    assert path.read_bytes() == b"complete"
    assert remove_stale_temporaries(path) == []  # nothing more to remove


def test_failed_write_leaves_nothing(tmp_path):
    path = tmp_path / "r.txt"
    path.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(path) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert path.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.txt"]
