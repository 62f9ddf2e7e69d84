"""Fixtures for the interop suite: real `runnel broker` processes on free loopback ports.

Each broker gets a port found by binding port 0, a fresh temporary data dir, and a log file that
collects its stdout and stderr. A failing test's report ends with the tail of the log of every
broker it used. Brokers are always killed at teardown, and the kernel kills them if pytest dies
(PR_SET_PDEATHSIG), so no run leaves a broker behind.

Fixtures:
- `module_broker`: one broker per test module, shared by tests that use unique topic names. A
  module sets `BROKER_OVERRIDES = {"num.partitions": "3"}` to add `--override` flags.
- `broker`: a fresh broker for one test (for restarts and kills).
- `start_broker(overrides=None)`: start more brokers inside one test.
- `module_cluster`: one three-node cluster per module (`CLUSTER_OVERRIDES`); `cluster`: a fresh one
  for one test that kills, pauses or restarts nodes (`CLUSTER_OVERRIDES` plus
  `@pytest.mark.cluster_overrides({...})`).

Time bounds: pytest-timeout is not installed, so every test runs under a SIGALRM deadline
(`@pytest.mark.deadline(seconds)`, default 120 s) that raises in the test, plus a hard faulthandler
backstop 60 s later that dumps every thread's stack and exits.
"""
from __future__ import annotations

import ctypes
import faulthandler
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DEADLINE_S = 120
READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 30.0


def runnel_bin() -> str:
    path = os.environ.get("RUNNEL_BIN") or str(REPO_ROOT / ".build" / "debug" / "runnel")
    if not os.access(path, os.X_OK):
        pytest.fail(f"runnel binary not found or not executable: {path} (set RUNNEL_BIN)", pytrace=False)
    return path


_ports_given: set[int] = set()


def free_port() -> int:
    """A port free now, never one already handed out in this run: the system may give the same
    free port twice in a row (a node's client and controller listeners once got one port)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _ports_given:
            _ports_given.add(port)
            return port


def _die_with_parent() -> None:
    # Runs in the child between fork and exec: SIGKILL the broker when pytest exits.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Broker:
    """One `runnel broker` process. Restarts keep the port and the data dir."""

    def __init__(self, binary: str, overrides: dict[str, str] | None = None, name: str = "broker"):
        self.binary = binary
        self.name = name
        self.port = free_port()
        self.base_dir = Path(tempfile.mkdtemp(prefix=f"runnel-interop-{name}-"))
        self.data_dir = self.base_dir / "data"
        self.data_dir.mkdir()
        self.log_path = self.base_dir / "broker.log"
        self.overrides = {
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "log.dirs": str(self.data_dir),
        }
        self.overrides.update({k: str(v) for k, v in (overrides or {}).items()})
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def command(self) -> list[str]:
        cmd = [self.binary, "broker"]
        for key, value in self.overrides.items():
            cmd += ["--override", f"{key}={value}"]
        return cmd

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    def start(self) -> "Broker":
        self.launch()
        self._wait_ready()
        return self

    def launch(self) -> "Broker":
        """Starts the process without waiting for its client port (a cluster node opens it only
        once the metadata quorum has formed and the controller has unfenced it)."""
        assert not self.alive(), "broker already running"
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"==== start #{self.starts}: {' '.join(self.command)}\n".encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.base_dir, preexec_fn=_die_with_parent, start_new_session=True)
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while True:
            code = self.proc.poll()
            if code is not None:
                pytest.fail(f"{self.name} exited with code {code} during start-up.\n"
                            f"command: {' '.join(self.command)}\nlog:\n{self.log_tail(80)}", pytrace=False)
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.kill9()
                pytest.fail(f"{self.name} did not accept TCP connections on {self.bootstrap} within "
                            f"{READY_TIMEOUT_S:.0f} s.\ncommand: {' '.join(self.command)}\n"
                            f"log:\n{self.log_tail(80)}", pytrace=False)
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> int:
        """Send `sig`, wait for the process to exit and return its exit code (negative = signal).
        A broker still running after `timeout` is killed and the test fails."""
        assert self.proc is not None, "broker never started"
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
                pytest.fail(f"{self.name} did not exit within {timeout:.0f} s of signal {sig}; killed.\n"
                            f"log:\n{self.log_tail(60)}", pytrace=False)
        return self.proc.returncode

    def kill9(self) -> int:
        return self.stop(signal.SIGKILL, timeout=10)

    def restart(self) -> "Broker":
        """Stop (SIGTERM) if running, then start again on the same port and data dir."""
        if self.alive():
            self.stop()
        return self.start()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    def close(self) -> None:
        if self.alive():
            self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
        shutil.rmtree(self.base_dir, ignore_errors=True)


class Cluster:
    """`size` brokers that are also the voters of one metadata quorum (every node broker and
    controller), data directories formatted with one cluster id. Every node is killed at
    teardown, like a single Broker."""

    def __init__(self, binary: str, size: int = 3, overrides: dict[str, str] | None = None, name: str = "cluster"):
        controller_ports = [free_port() for _ in range(size)]
        voters = ",".join(f"{i + 1}@127.0.0.1:{p}" for i, p in enumerate(controller_ports))
        cluster_id = "interop-" + os.urandom(6).hex()
        self.nodes: list[Broker] = []
        for i in range(size):
            node = Broker(binary, overrides, f"{name}-node{i + 1}")
            node.overrides.update({
                "node.id": str(i + 1),
                "process.roles": "broker,controller",
                "listeners": f"PLAINTEXT://127.0.0.1:{node.port},CONTROLLER://127.0.0.1:{controller_ports[i]}",
                "advertised.listeners": f"PLAINTEXT://127.0.0.1:{node.port}",
                "controller.listener.names": "CONTROLLER",
                "controller.quorum.voters": voters,
            })
            (node.data_dir / "meta.properties").write_text(f"version=1\nnode.id={i + 1}\ncluster.id={cluster_id}\n")
            self.nodes.append(node)

    @property
    def bootstrap(self) -> str:
        return ",".join(n.bootstrap for n in self.nodes)

    def start(self) -> "Cluster":
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            node._wait_ready()
        return self

    def close(self) -> None:
        for node in self.nodes:
            node.close()


# Brokers the running test can see, so a failure report can show their logs.
_VISIBLE_BROKERS: list[Broker] = []


def _new_broker(overrides: dict[str, str] | None, name: str) -> Broker:
    b = Broker(runnel_bin(), overrides, name)
    _VISIBLE_BROKERS.append(b)
    try:
        b.start()
    except BaseException:
        b.close()
        _VISIBLE_BROKERS.remove(b)
        raise
    return b


@pytest.fixture(scope="module")
def module_broker(request):
    overrides = getattr(request.module, "BROKER_OVERRIDES", None)
    b = _new_broker(overrides, f"{request.module.__name__}-shared")
    yield b
    if b in _VISIBLE_BROKERS:
        _VISIBLE_BROKERS.remove(b)
    b.close()


@pytest.fixture
def start_broker(request):
    started: list[Broker] = []

    def start(overrides: dict[str, str] | None = None) -> Broker:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:40]
        b = _new_broker(overrides, f"{name}-{len(started)}")
        started.append(b)
        return b

    yield start
    for b in started:
        if b in _VISIBLE_BROKERS:
            _VISIBLE_BROKERS.remove(b)
        b.close()


@pytest.fixture(scope="module")
def module_cluster(request):
    """One three-node cluster per test module (tests use unique topic names)."""
    overrides = getattr(request.module, "CLUSTER_OVERRIDES", None)
    cluster = Cluster(runnel_bin(), 3, overrides, f"{request.module.__name__}-cluster")
    _VISIBLE_BROKERS.extend(cluster.nodes)
    try:
        cluster.start()
    except BaseException:
        cluster.close()
        raise
    yield cluster
    for node in cluster.nodes:
        if node in _VISIBLE_BROKERS:
            _VISIBLE_BROKERS.remove(node)
    cluster.close()


@pytest.fixture
def cluster(request):
    """A fresh three-node cluster for one test (kills, pauses and restarts nodes). Overrides: the
    module's `CLUSTER_OVERRIDES`, then `@pytest.mark.cluster_overrides({...})`."""
    overrides = dict(getattr(request.module, "CLUSTER_OVERRIDES", None) or {})
    marker = request.node.get_closest_marker("cluster_overrides")
    if marker:
        overrides.update(marker.args[0])
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:40]
    c = Cluster(runnel_bin(), 3, overrides, name)
    _VISIBLE_BROKERS.extend(c.nodes)
    try:
        c.start()
        yield c
    finally:
        for node in c.nodes:
            if node in _VISIBLE_BROKERS:
                _VISIBLE_BROKERS.remove(node)
        c.close()


@pytest.fixture
def broker(start_broker, request):
    marker = request.node.get_closest_marker("broker_overrides")
    return start_broker(marker.args[0] if marker else None)


def pytest_configure(config):
    config.addinivalue_line("markers", "deadline(seconds): per-test time limit (default 120 s)")
    config.addinivalue_line("markers", "broker_overrides(dict): --override flags for the `broker` fixture")
    config.addinivalue_line("markers", "cluster_overrides(dict): more --override flags for the `cluster` fixture")


class DeadlineExceeded(Exception):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("deadline")
    limit = int(marker.args[0]) if marker else DEFAULT_DEADLINE_S

    def on_alarm(signum, frame):
        raise DeadlineExceeded(f"{item.nodeid} exceeded its {limit} s deadline")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(limit)
    faulthandler.dump_traceback_later(limit + 60, exit=True)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.when in ("setup", "call"):
        for b in _VISIBLE_BROKERS:
            state = "running" if b.alive() else f"exited {b.proc.returncode if b.proc else '-'}"
            report.sections.append((f"{b.name} log tail ({b.bootstrap}, {state})", b.log_tail(80)))
