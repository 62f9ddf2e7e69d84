"""One lossyfs mount (lossyfs.py) as a daemon process: mount, power cut, unmount.

A power cut of the machine whose data directory is `mountpoint` (`crash`): its processes must be
dead already (kill -9, waited for). Then `crash` is written to the control file, so every write
not fsynced is put back and the daemon drops whatever still arrives (dirty pages of shared
mappings the kernel writes back late); the mount is detached (`umount -l`: the brokers of other
namespaces hold copies of it, since `ip netns exec` copies the mount table) and the daemon is
killed by its PID. `mount()` then starts a fresh daemon on the same backing directory, so the next
process sees only what was durable, through a new superblock with nothing cached.
"""
from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

LOSSYFS = Path(__file__).resolve().with_name("lossyfs.py")
# Debian's python3-fusepy is installed for the system interpreter, which may differ from the one
# running the tests (pyenv).
FUSE_PYTHON = os.environ.get("LOSSYFS_PYTHON", "/usr/bin/python3")
_libc = ctypes.CDLL("libc.so.6", use_errno=True)


def _die_with_parent() -> None:
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def preflight() -> None:
    """Fails loudly when lossyfs cannot run here."""
    if not os.path.exists("/dev/fuse"):
        raise RuntimeError("lossyfs needs /dev/fuse")
    r = subprocess.run([FUSE_PYTHON, "-c", "import fusepy"], capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"lossyfs needs python3-fusepy for {FUSE_PYTHON} (apt-get install -y python3-fusepy): "
                           f"{r.stderr.strip()[-200:]}")


def is_mounted(path: Path) -> bool:
    target = str(path)
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == target for line in f)


class LossyMount:
    def __init__(self, backing: Path, mountpoint: Path, log_path: Path, fsync_ms: float = 0):
        self.fsync_ms = fsync_ms
        self.backing = backing
        self.mountpoint = mountpoint
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None
        self.mounts = 0
        backing.mkdir(parents=True, exist_ok=True)
        mountpoint.mkdir(parents=True, exist_ok=True)

    @property
    def ctl(self) -> Path:
        return self.mountpoint / ".lossyfs-ctl"

    def mount(self, timeout: float = 15) -> None:
        assert self.proc is None, "already mounted"
        self.mounts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"==== mount #{self.mounts} at {time.time():.3f}\n".encode())
            log.flush()
            self.proc = subprocess.Popen([FUSE_PYTHON, str(LOSSYFS), "--fsync-ms", str(self.fsync_ms),
                                          str(self.backing), str(self.mountpoint)],
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while not is_mounted(self.mountpoint):
            if self.proc.poll() is not None:
                raise RuntimeError(f"lossyfs exited with {self.proc.returncode}:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.unmount()
                raise RuntimeError(f"lossyfs did not mount {self.mountpoint} within {timeout:.0f} s")
            time.sleep(0.05)

    def control(self, word: str) -> dict:
        """Writes a control word; returns what the daemon reported for it."""
        before = self.log_path.stat().st_size
        with open(self.ctl, "w") as f:
            f.write(word + "\n")
        # The write returns once the daemon handled it, and it logged before replying.
        text = self.log_path.read_bytes()[before:].decode(errors="replace")
        m = self.DROPPED.search(text)
        if not m:
            return {"log": text.strip()}
        return {"writes": int(m[1]), "bytes": int(m[2]), "files": int(m[3]), "kinds": json.loads(m[4])}

    DROPPED = re.compile(r"lossyfs: \w+: dropped (\d+) writes \((\d+) bytes\) in (\d+) files; by kind (\{.*?\})")

    def frozen(self) -> dict | None:
        """What the daemon dropped when it froze in this mount (an armed crash), or None."""
        text = self.log_path.read_bytes().decode(errors="replace").split(f"==== mount #{self.mounts} ")[-1]
        m = self.DROPPED.search(text)
        return {"writes": int(m[1]), "bytes": int(m[2]), "files": int(m[3]), "kinds": json.loads(m[4])} if m else None

    def crash(self) -> dict:
        """The power cut (the processes using the mount must be dead): put back every unsynced
        write and freeze — unless an armed crash froze the disk already — then detach and kill
        the daemon. Returns what the daemon dropped."""
        dropped = self.frozen() or self.control("crash")
        self.unmount()
        return dropped

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.mountpoint)], capture_output=True, timeout=30)
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""
