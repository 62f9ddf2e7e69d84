"""A three-node Runnel cluster in network namespaces, with a client host, and its faults.

`scripts/netns-cluster.sh` builds hosts 10.77.0.1..4 in namespaces of a prefix unique to this
process (nodes 1-3 are brokers, every one broker and KRaft controller voter; node 4 is the client
host, which partitions never cut off). The calling thread (pytest's main thread) joins node 4's
network namespace, so every client thread started afterwards (librdkafka's too) talks to the
brokers over the namespaces' bridge only; nothing listens or connects in the root namespace.

Brokers are `ip netns exec rf…N runnel broker` processes (ip execs the broker, so the PID is the
broker's) with PR_SET_PDEATHSIG, so a dying test process takes them along. `close()` kills them by
PID, returns the thread to the root namespace and runs `netns-cluster.sh down`; it runs at fixture
teardown, also when the test failed.

With `lossy=True` (scenarios 7 and 8) each node's data directory is a lossyfs mount
(lossymount.py) over `node<i>/disk`, and `power_cut` makes nodes lose every write they had not
fsynced; the daemons are stopped by PID at `close()` too.
"""
from __future__ import annotations

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import lossymount

REPO_ROOT = Path(__file__).resolve().parents[2]
NETNS_SCRIPT = REPO_ROOT / "scripts" / "netns-cluster.sh"
CLIENT_NODE = 4
# lossyfs's fsync latency (a disk's, D90): long enough that a cut finds records between a write
# and its fsync, short enough for a Python daemon that serves one request at a time.
LOSSY_FSYNC_MS = float(os.environ.get("FAULTS_FSYNC_MS", "3"))
CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL("libc.so.6", use_errno=True)
_ROOT_NS_FD = os.open("/proc/self/ns/net", os.O_RDONLY)


def _setns(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns: {os.strerror(err)}")


def _die_with_parent() -> None:
    _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def runnel_bin() -> str:
    path = os.environ.get("RUNNEL_BIN") or str(REPO_ROOT / ".build" / "debug" / "runnel")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"runnel binary not found or not executable: {path} (set RUNNEL_BIN)")
    return path


def preflight() -> None:
    """Fails loudly (never skips) when this machine cannot run the fault suite."""
    problems = []
    if os.geteuid() != 0:
        problems.append("not root (network namespaces and nftables need root)")
    for tool, pkg in (("ip", "iproute2"), ("nft", "nftables")):
        if shutil.which(tool) is None and not os.path.exists(f"/usr/sbin/{tool}"):
            problems.append(f"missing '{tool}' (apt-get install -y {pkg})")
    if problems:
        raise RuntimeError("the fault suite cannot run here: " + "; ".join(problems))


class Node:
    def __init__(self, cluster: "NetCluster", nid: int):
        self.cluster = cluster
        self.id = nid
        self.addr = f"10.77.0.{nid}"
        self.port = 9092
        self.dir = cluster.base / f"node{nid}"
        self.data_dir = self.dir / "data"
        self.data_dir.mkdir(parents=True)
        # lossy: data_dir is the mount point, `disk` the backing directory (what survives a cut)
        self.disk: lossymount.LossyMount | None = None
        if cluster.lossy:
            self.disk = lossymount.LossyMount(self.dir / "disk", self.data_dir, self.dir / "lossyfs.log",
                                              fsync_ms=LOSSY_FSYNC_MS)
        self.log_path = self.dir / "broker.log"
        self.proc: subprocess.Popen | None = None
        self.paused = False
        self.starts = 0

    @property
    def bootstrap(self) -> str:
        return f"{self.addr}:{self.port}"

    @property
    def ns(self) -> str:
        return f"{self.cluster.pfx}{self.id}"

    def command(self) -> list[str]:
        c = self.cluster
        overrides = {
            "node.id": str(self.id),
            "process.roles": "broker,controller",
            "listeners": f"PLAINTEXT://{self.addr}:9092,CONTROLLER://{self.addr}:9093",
            "advertised.listeners": f"PLAINTEXT://{self.addr}:9092",
            "controller.listener.names": "CONTROLLER",
            "controller.quorum.voters": ",".join(f"{i}@10.77.0.{i}:9093" for i in c.ids),
            "log.dirs": str(self.data_dir),
            **c.overrides,
        }
        cmd = ["ip", "netns", "exec", self.ns, c.binary, "broker"]
        for k, v in overrides.items():
            cmd += ["--override", f"{k}={v}"]
        return cmd

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def launch(self) -> None:
        assert not self.alive(), f"node {self.id} already running"
        self.starts += 1
        self.paused = False
        with open(self.log_path, "ab") as log:
            log.write(f"==== start #{self.starts} at {time.time():.3f}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, cwd=self.dir,
                                         preexec_fn=_die_with_parent, start_new_session=True)

    def serving(self) -> bool:
        try:
            with socket.create_connection((self.addr, self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def wait_serving(self, timeout: float = 40) -> None:
        deadline = time.monotonic() + timeout
        while not self.serving():
            if not self.alive():
                raise AssertionError(f"node {self.id} exited with {self.proc.returncode} during start-up:\n"
                                     f"{self.log_tail(60)}")
            if time.monotonic() > deadline:
                raise AssertionError(f"node {self.id} did not serve {self.bootstrap} within {timeout:.0f} s:\n"
                                     f"{self.log_tail(60)}")
            time.sleep(0.1)

    def kill9(self) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self.paused = False

    def terminate(self, timeout: float = 30) -> int:
        if self.alive():
            self.resume()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill9()
        return self.proc.returncode

    def pause(self) -> None:
        if self.alive():
            os.kill(self.proc.pid, signal.SIGSTOP)
            self.paused = True

    def resume(self) -> None:
        if self.alive():
            os.kill(self.proc.pid, signal.SIGCONT)
        self.paused = False

    def log_tail(self, lines: int = 80) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


class NetCluster:
    """Three broker+controller nodes at 10.77.0.1-3, the caller at 10.77.0.4."""

    def __init__(self, overrides: dict[str, str] | None = None, size: int = 3, keep_dir: bool = False,
                 lossy: bool = False):
        preflight()
        if lossy:
            lossymount.preflight()
        self.lossy = lossy
        self.binary = runnel_bin()
        self.pfx = "rf" + os.urandom(2).hex()
        self.ids = list(range(1, size + 1))
        self.base = Path(tempfile.mkdtemp(prefix=f"runnel-faults-{self.pfx}-"))
        self.state = self.base / "netns-state"
        self.overrides = {k: str(v) for k, v in (overrides or {}).items()}
        self.keep_dir = keep_dir
        self.in_client_ns = False
        self.fault_log: list[tuple[float, str]] = []
        self.nodes = {i: Node(self, i) for i in self.ids}
        cluster_id = "faults-" + os.urandom(6).hex()
        for n in self.nodes.values():   # formatted before any mount: durable from the start
            where = n.disk.backing if n.disk else n.data_dir
            (where / "meta.properties").write_text(f"version=1\nnode.id={n.id}\ncluster.id={cluster_id}\n")

    # ------------------------------------------------------------------ netns-cluster.sh
    def sh(self, *args: str, timeout: float = 30) -> str:
        env = {**os.environ, "PFX": self.pfx, "STATE": str(self.state), "KEEP": str(CLIENT_NODE),
               "N": str(len(self.ids) + 1)}
        r = subprocess.run(["bash", str(NETNS_SCRIPT), *args], env=env, capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"netns-cluster.sh {' '.join(args)} failed ({r.returncode}): {r.stderr.strip()}")
        return r.stdout

    def note(self, what: str) -> None:
        self.fault_log.append((time.monotonic(), what))

    @property
    def bootstrap(self) -> str:
        return ",".join(n.bootstrap for n in self.nodes.values())

    def start(self) -> "NetCluster":
        self.sh("up", str(len(self.ids) + 1))
        fd = os.open(f"/run/netns/{self.pfx}{CLIENT_NODE}", os.O_RDONLY)
        try:
            _setns(fd)
        finally:
            os.close(fd)
        self.in_client_ns = True
        for n in self.nodes.values():
            if n.disk:
                n.disk.mount()
        for n in self.nodes.values():
            n.launch()
        for n in self.nodes.values():
            n.wait_serving()
        return self

    def close(self) -> None:
        for n in self.nodes.values():
            if n.alive():
                n.resume()
                n.proc.kill()
                try:
                    n.proc.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        for n in self.nodes.values():
            if n.disk:
                n.disk.unmount()
        if self.in_client_ns:
            _setns(_ROOT_NS_FD)
            self.in_client_ns = False
        try:
            self.sh("down", timeout=60)
        finally:
            if not self.keep_dir:
                shutil.rmtree(self.base, ignore_errors=True)

    # ------------------------------------------------------------------ faults
    def kill9(self, nid: int) -> None:
        self.note(f"kill -9 node {nid}")
        self.nodes[nid].kill9()

    def restart(self, nid: int, wait: bool = True) -> None:
        self.note(f"restart node {nid}")
        n = self.nodes[nid]
        if n.alive():
            n.kill9()
        n.launch()
        if wait:
            n.wait_serving()

    def power_cut(self, ids: list[int], arm: str | None = None) -> dict[int, dict]:
        """Power loss of the nodes `ids` at one instant: SIGKILL to every broker first, then each
        disk drops what its broker had not fsynced (lossymount.LossyMount.crash) and is mounted
        afresh. The brokers stay down (`restart` them). Returns each node's dropped writes, and
        under "armed" whether the cut was armed and went off.

        With `arm` (a path substring, e.g. "/<topic>-"), the instant is chosen by the disks: each
        is armed to freeze right after its next write to a segment under `arm`, and the kill
        follows as soon as the first froze (within 10 s; else the cut comes unarmed)."""
        assert self.lossy, "power_cut needs NetCluster(lossy=True)"
        went_off = None
        if arm:
            for nid in ids:
                self.nodes[nid].disk.control(f"arm {arm}")
            deadline = time.monotonic() + 10
            while not (went_off := any(self.nodes[nid].disk.frozen() for nid in ids)):
                if time.monotonic() > deadline:
                    break
                time.sleep(0.002)
        self.note(f"power cut of nodes {ids}" + (f" (armed: went off {went_off})" if arm else ""))
        for nid in ids:
            n = self.nodes[nid]
            if n.alive():
                n.resume()
                n.proc.send_signal(signal.SIGKILL)
        for nid in ids:
            n = self.nodes[nid]
            if n.proc is not None:
                n.proc.wait(10)
            n.paused = False
        dropped = {nid: self.nodes[nid].disk.crash() for nid in ids}
        for nid in ids:
            self.nodes[nid].disk.mount()
        return {**dropped, "armed": went_off}

    def pause(self, nid: int) -> None:
        self.note(f"SIGSTOP node {nid}")
        self.nodes[nid].pause()

    def resume(self, nid: int) -> None:
        self.note(f"SIGCONT node {nid}")
        self.nodes[nid].resume()

    def isolate(self, nid: int) -> None:
        self.note(f"isolate node {nid}")
        self.sh("isolate", str(nid))

    def partition(self, *groups: list[int]) -> None:
        self.note(f"partition {groups}")
        self.sh("partition", *(",".join(map(str, g)) for g in groups))

    def oneway(self, src: int, dst: int) -> None:
        self.note(f"oneway {src} -> {dst}")
        self.sh("oneway", str(src), str(dst))

    def heal(self) -> None:
        self.note("heal")
        self.sh("heal")
        for n in self.nodes.values():
            if n.paused:
                n.resume()

    def logs(self, lines: int = 60) -> str:
        return "\n".join(f"---- node {n.id} ({'running' if n.alive() else 'down'}) ----\n{n.log_tail(lines)}"
                         for n in self.nodes.values())
