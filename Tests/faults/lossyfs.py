#!/usr/bin/python3
"""lossyfs: a FUSE passthrough that can forget every write a disk would lose in a power cut.

    /usr/bin/python3 lossyfs.py [--fsync-ms N] BACKING_DIR MOUNTPOINT     (stays in the foreground)

`--fsync-ms N`: every fsync takes N ms, as on a real disk (the daemon is single-threaded, so the
disk is busy meanwhile); without it an fsync costs nothing and a crash rarely finds data between
a write and its fsync.

Everything under MOUNTPOINT is stored in BACKING_DIR (the "disk"). Reads see every write at once,
as from a page cache. For each file the daemon keeps an undo log of what changed since the file's
last fsync/fdatasync: the bytes each write or shrinking truncate overwrote, and the size the file
had when its first unsynced change came. A control word written to MOUNTPOINT/.lossyfs-ctl acts
on those logs:

    lose    put back every unsynced change (the file's contents and size as at its last fsync)
    torn    like lose, but the first half of each unsynced write stays (a torn tail)
    crash   lose, then freeze: from now on nothing reaches the disk (writes are dropped as a
            powered-off disk drops them; fsync, truncate and namespace changes fail with EIO,
            reads fail with EIO). Use it for a power cut: kill the processes, write `crash`, then
            unmount and stop this daemon, and mount a fresh one on the same BACKING_DIR.
    sync    treat everything written so far as durable
    arm S   crash by itself right after the next write to a `.log` file whose path contains S
            (a segment of that topic): the cut then lands between a write and its fsync, which
            an fsync-before-ack broker otherwise leaves open for a few milliseconds only. The
            processes keep running on the frozen disk until they are killed: their fsyncs fail,
            so nothing they do after the cut counts.

Each control word logs one line on stderr (`lossyfs: <word>: dropped W writes (B bytes) in F
files; by kind {".log": [W, B], ...}`, kinds by file suffix). Why freezing matters: after kill -9 the kernel still holds dirty pages of shared
writable mappings and writes them back later (at the process's exit, at unmount, or on its
own schedule); they must not reach the disk after the power went out.

A shared writable mmap works (direct_io stays off): a dirty page reaches the daemon as a write at
writeback, and fsync/fdatasync/msync(MS_SYNC) reach it as fsync after the kernel wrote the dirty
pages back, so the model needs nothing mmap-specific. Not modelled: directory entries are durable
at once (create, rename, unlink, mkdir need no directory fsync), and nothing is reordered between
files. Files are the project's own test tool (D90). Needs Debian's python3-fusepy (module
`fusepy`) and libfuse2; run as root (mount(2) without fusermount).
"""
import errno
import json
import os
import sys
import threading
import time

try:
    from fusepy import FUSE, FuseOSError, Operations
except ImportError:  # pip's fusepy names the module `fuse`
    from fuse import FUSE, FuseOSError, Operations

CTL = "/.lossyfs-ctl"
STAT_KEYS = ("st_mode", "st_nlink", "st_size", "st_uid", "st_gid", "st_atime", "st_mtime", "st_ctime", "st_blocks")


class LossyFS(Operations):
    use_ns = True   # utimens gets nanoseconds

    def __init__(self, root: str, fsync_seconds: float = 0):
        self.root = os.path.realpath(root)
        self.fsync_seconds = fsync_seconds
        self.mu = threading.Lock()
        self.undo: dict[str, list[tuple[int, bytes, int]]] = {}   # path -> [(offset, old bytes, length)]
        self.synced_size: dict[str, int] = {}                       # path -> size at the last fsync
        self.frozen = False
        self.armed: str | None = None

    def real(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    # ------------------------------------------------------------------ bookkeeping
    def note_change(self, path: str, fd: int | None, offset: int, length: int) -> None:
        """Remembers what a write or cut of [offset, offset+length) is about to overwrite."""
        real = self.real(path)
        try:
            size = os.fstat(fd).st_size if fd is not None else os.path.getsize(real)
        except OSError:
            fd, size = None, os.path.getsize(real)
        synced = self.synced_size.setdefault(path, size)
        # Bytes at or past the synced size are removed by the final truncate of `lose`; only what
        # lies below it needs its old contents.
        end = min(offset + length, synced, size)
        old = b""
        if end > offset:
            try:
                old = os.pread(fd, end - offset, offset) if fd is not None else b""
            except OSError:
                fd = None
            if fd is None:
                with open(real, "rb") as f:
                    f.seek(offset)
                    old = f.read(end - offset)
        self.undo.setdefault(path, []).append((offset, old, length))

    def forget(self, path: str) -> None:
        self.undo.pop(path, None)
        self.synced_size.pop(path, None)

    def put_back(self, torn: bool) -> tuple[int, int, int, dict]:
        writes = nbytes = files = 0
        kinds: dict[str, list[int]] = {}
        for path, log in list(self.undo.items()):
            real = self.real(path)
            if not os.path.exists(real):
                continue
            files += 1
            writes += len(log)
            nbytes += sum(length for _, _, length in log)
            kind = kinds.setdefault(os.path.splitext(path)[1] or os.path.basename(path), [0, 0])
            kind[0] += len(log)
            kind[1] += sum(length for _, _, length in log)
            keep = []
            with open(real, "r+b") as f:
                if torn:   # the first half of each write's newest bytes reached the disk
                    for off, _, length in log:
                        f.seek(off)
                        keep.append((off, f.read(max(1, length // 2))))
                for off, old, _ in reversed(log):
                    if old:
                        f.seek(off)
                        f.write(old)
                f.truncate(self.synced_size.get(path, os.fstat(f.fileno()).st_size))
                for off, data in keep:
                    if off <= os.fstat(f.fileno()).st_size:
                        f.seek(off)
                        f.write(data)
        self.undo.clear()
        self.synced_size.clear()
        return writes, nbytes, files, kinds

    def control(self, word: str) -> None:
        if word.startswith("arm "):
            self.armed = word[4:].strip()
            sys.stderr.write(f"lossyfs: armed for {self.armed}\n")
        elif word in ("lose", "torn", "crash"):
            writes, nbytes, files, kinds = self.put_back(torn=(word == "torn"))
            if word == "crash":
                self.frozen = True
            sys.stderr.write(f"lossyfs: {word}: dropped {writes} writes ({nbytes} bytes) in {files} files; "
                             f"by kind {json.dumps(kinds, sort_keys=True)}" + ("; frozen" if self.frozen else "") + "\n")
        elif word == "sync":
            n = sum(len(v) for v in self.undo.values())
            self.undo.clear()
            self.synced_size.clear()
            sys.stderr.write(f"lossyfs: sync: {n} writes made durable\n")
        else:
            raise FuseOSError(errno.EINVAL)
        sys.stderr.flush()

    def alive(self) -> None:
        if self.frozen:
            raise FuseOSError(errno.EIO)

    # ------------------------------------------------------------------ metadata
    def getattr(self, path, fh=None):
        if path == CTL:
            return dict(st_mode=0o100600, st_nlink=1, st_size=0, st_uid=0, st_gid=0,
                        st_atime=0, st_mtime=0, st_ctime=0)
        try:
            st = os.lstat(self.real(path))
        except OSError as e:
            raise FuseOSError(e.errno)
        return {k: getattr(st, k) for k in STAT_KEYS}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self.real(path))

    def statfs(self, path):
        s = os.statvfs(self.root)
        return {k: getattr(s, k) for k in ("f_bsize", "f_frsize", "f_blocks", "f_bfree", "f_bavail",
                                            "f_files", "f_ffree", "f_favail", "f_flag", "f_namemax")}

    def access(self, path, amode):
        if path != CTL and not os.access(self.real(path), amode):
            raise FuseOSError(errno.EACCES)
        return 0

    def chmod(self, path, mode):
        self.alive()
        os.chmod(self.real(path), mode)

    def utimens(self, path, times=None):
        self.alive()
        os.utime(self.real(path), ns=times) if times else os.utime(self.real(path))

    # ------------------------------------------------------------------ namespace (durable at once)
    def mkdir(self, path, mode):
        self.alive()
        os.mkdir(self.real(path), mode)

    def rmdir(self, path):
        self.alive()
        os.rmdir(self.real(path))

    def unlink(self, path):
        with self.mu:
            self.alive()
            self.forget(path)
            os.unlink(self.real(path))

    def rename(self, old, new):
        with self.mu:
            self.alive()
            os.rename(self.real(old), self.real(new))
            self.forget(new)
            if old in self.undo:
                self.undo[new] = self.undo.pop(old)
            if old in self.synced_size:
                self.synced_size[new] = self.synced_size.pop(old)

    # ------------------------------------------------------------------ files
    def create(self, path, mode, fi=None):
        with self.mu:
            self.alive()
            real = self.real(path)
            if os.path.exists(real) and os.path.getsize(real) > 0:   # emptied: an unsynced cut
                self.note_change(path, None, 0, os.path.getsize(real))
            return os.open(real, os.O_RDWR | os.O_CREAT | os.O_TRUNC, mode)

    def open(self, path, flags):
        if path == CTL:
            return 0
        # Always read-write: the kernel may use any open handle of a file to write back pages of a
        # shared mapping or to read pages in.
        return os.open(self.real(path), os.O_RDWR)

    def read(self, path, size, offset, fh):
        if path == CTL:
            return b""
        self.alive()
        return os.pread(fh, size, offset)

    def write(self, path, data, offset, fh):
        if path == CTL:
            with self.mu:
                self.control(bytes(data).decode(errors="replace").strip())
            return len(data)
        with self.mu:
            if self.frozen:
                return len(data)     # the power is off: the write never reaches the disk
            self.note_change(path, fh, offset, len(data))
            written = os.pwrite(fh, data, offset)
            if self.armed and path.endswith(".log") and self.armed in path:
                self.armed = None
                self.control("crash")
            return written

    def truncate(self, path, length, fh=None):
        if path == CTL:
            return 0
        with self.mu:
            self.alive()
            real = self.real(path)
            size = os.path.getsize(real)
            if length < size:
                self.note_change(path, None, length, size - length)
            else:
                self.synced_size.setdefault(path, size)
                self.undo.setdefault(path, [])
            os.truncate(real, length)
        return 0

    def fsync(self, path, datasync, fh):
        with self.mu:
            self.alive()
            if self.fsync_seconds:
                time.sleep(self.fsync_seconds)
            self.forget(path)
        return 0

    def fsyncdir(self, path, datasync, fh):
        self.alive()
        return 0

    def flush(self, path, fh):
        return 0            # close() is no durability point

    def release(self, path, fh):
        if path != CTL:
            os.close(fh)
        return 0


def main() -> None:
    args = sys.argv[1:]
    fsync_ms = 0.0
    if len(args) == 4 and args[0] == "--fsync-ms":
        fsync_ms, args = float(args[1]), args[2:]
    if len(args) != 2:
        sys.exit(__doc__)
    backing, mountpoint = args
    FUSE(LossyFS(backing, fsync_ms / 1000), mountpoint, foreground=True, nothreads=True, big_writes=True,
         fsname="lossyfs", subtype="lossyfs")


if __name__ == "__main__":
    main()
