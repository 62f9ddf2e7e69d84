"""The crash model of scenarios 7 and 8, checked on its own before any broker relies on it.

A child process writes a file through a lossyfs mount the way Runnel does — a shared writable
mapping (index files), pwrite (segment data), fdatasync, msync(MS_SYNC), a checkpoint written,
fsynced and renamed — then leaves unsynced changes (a dirtied page of the mapping, a pwrite, a
grow, a file never fsynced) and is killed with SIGKILL. After the power cut exactly the synced
part must be on the disk: nothing unsynced, also not the dirty page the kernel writes back after
the kill, and nothing synced missing.
"""
from __future__ import annotations

import errno
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest

from lossymount import LossyMount, preflight

PAGE = 4096
CHILD = textwrap.dedent("""
    import mmap, os, sys, time
    d = sys.argv[1]
    fd = os.open(d + "/seg", os.O_RDWR | os.O_CREAT, 0o644)
    os.ftruncate(fd, 16 * 4096)
    m = mmap.mmap(fd, 16 * 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    m[0:4096] = b"A" * 4096                 # through the mapping
    os.pwrite(fd, b"P" * 1000, 2 * 4096)     # through write
    os.fdatasync(fd)                         # durable: the size, page 0, the P run
    m[3 * 4096:4 * 4096] = b"C" * 4096
    m.flush(3 * 4096, 4096)                  # msync(MS_SYNC): durable too
    t = os.open(d + "/ck.tmp", os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(t, b"checkpoint-1"); os.fsync(t); os.close(t)
    os.rename(d + "/ck.tmp", d + "/ck")      # a checkpoint, as OffsetCheckpoint writes one
    n = os.open(d + "/never-synced", os.O_RDWR | os.O_CREAT, 0o644)
    os.write(n, b"x" * 100); os.close(n)     # closed but never fsynced
    m[1 * 4096:2 * 4096] = b"B" * 4096       # a dirty page, never synced
    os.pwrite(fd, b"Q" * 1000, 4 * 4096)     # reaches the daemon now, never synced
    os.pwrite(fd, b"R" * 10, 20 * 4096)      # grows the file, never synced
    print("ready", flush=True)
    time.sleep(60)
""")


@pytest.fixture
def lossy(tmp_path_factory):
    preflight()
    base = Path(tempfile.mkdtemp(prefix="runnel-lossyfs-"))
    mount = LossyMount(base / "disk", base / "mnt", base / "lossyfs.log")
    mount.mount()
    try:
        yield mount
    finally:
        mount.unmount()
        subprocess.run(["rm", "-rf", str(base)], timeout=60)


def expect_synced_state(seg: bytes) -> None:
    assert len(seg) == 16 * PAGE, f"size {len(seg)}: the unsynced grow survived or the synced size is gone"
    assert seg[0:PAGE] == b"A" * PAGE, "the page written through the mapping and fdatasynced is gone"
    assert seg[PAGE:2 * PAGE] == bytes(PAGE), "the dirty page of the mapping (never synced) survived"
    assert seg[2 * PAGE:2 * PAGE + 1000] == b"P" * 1000, "the fdatasynced pwrite is gone"
    assert seg[3 * PAGE:4 * PAGE] == b"C" * PAGE, "the page made durable by msync(MS_SYNC) is gone"
    assert seg[4 * PAGE:4 * PAGE + 1000] == bytes(1000), "the unsynced pwrite survived"


@pytest.mark.deadline(90)
def test_lossyfs_power_cut_keeps_exactly_the_synced_writes(lossy):
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(lossy.mountpoint)], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        live = (lossy.mountpoint / "seg").read_bytes()
        assert live[PAGE:PAGE + 4] == b"BBBB" and live[4 * PAGE:4 * PAGE + 4] == b"QQQQ"
    finally:
        child.kill()
        child.wait(10)
    # After the kill the kernel still holds the mapping's dirty page; sync(2) hands it to the
    # daemon now, as writeback would later: a late write that the power cut must not keep.
    os.sync()
    disk = (lossy.backing / "seg").read_bytes()
    assert disk[PAGE:PAGE + 4] == b"BBBB", "the dirty page never reached the daemon: the test proves less than it says"
    assert disk[4 * PAGE:4 * PAGE + 4] == b"QQQQ"

    dropped = lossy.crash()
    assert dropped.get("writes", 0) >= 3, dropped
    expect_synced_state((lossy.backing / "seg").read_bytes())
    assert (lossy.backing / "ck").read_bytes() == b"checkpoint-1"
    assert not (lossy.backing / "ck.tmp").exists()
    assert (lossy.backing / "never-synced").read_bytes() == b"", "a file written but never fsynced kept its data"

    lossy.mount()   # a fresh daemon and superblock: the next process sees the disk, no cache
    expect_synced_state((lossy.mountpoint / "seg").read_bytes())
    assert (lossy.mountpoint / "ck").read_bytes() == b"checkpoint-1"


@pytest.mark.deadline(60)
def test_lossyfs_frozen_after_the_cut_writes_nothing_and_fails_fsync(lossy):
    f = lossy.mountpoint / "f"
    fd = os.open(f, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, b"synced", 0)
        os.fsync(fd)
        os.pwrite(fd, b"lost", 6)
        assert lossy.control("crash") == {"writes": 1, "bytes": 4, "files": 1, "kinds": {"f": [1, 4]}}
        assert os.pwrite(fd, b"late", 0) == 4          # accepted, as a dying kernel would
        with pytest.raises(OSError) as e:
            os.fsync(fd)                                # but never made durable
        assert e.value.errno == errno.EIO
    finally:
        os.close(fd)
    lossy.unmount()
    assert (lossy.backing / "f").read_bytes() == b"synced"


@pytest.mark.deadline(60)
def test_lossyfs_armed_cut_lands_right_after_a_segment_write(lossy):
    (lossy.mountpoint / "t-0").mkdir()
    seg = lossy.mountpoint / "t-0" / "00000000000000000000.log"
    fd = os.open(seg, os.O_RDWR | os.O_CREAT, 0o644)
    other = os.open(lossy.mountpoint / "t-0" / "00000000000000000000.index", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.pwrite(fd, b"batch-1", 0)
        os.fsync(fd)
        lossy.control("arm /t-")
        os.pwrite(other, b"not a segment", 0)
        assert lossy.frozen() is None, "an index write set off a cut armed for segments"
        os.pwrite(fd, b"batch-2", 7)
        assert lossy.frozen() == {"writes": 2, "bytes": 20, "files": 2,
                                  "kinds": {".index": [1, 13], ".log": [1, 7]}}
        with pytest.raises(OSError) as e:
            os.fsync(fd)    # the broker would go on a moment: its fsync fails, nothing counts
        assert e.value.errno == errno.EIO
    finally:
        os.close(fd)
        os.close(other)
    assert lossy.crash()["kinds"] == {".index": [1, 13], ".log": [1, 7]}
    assert seg.name in os.listdir(lossy.backing / "t-0")
    assert (lossy.backing / "t-0" / seg.name).read_bytes() == b"batch-1"
