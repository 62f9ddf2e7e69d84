"""Fixtures of the fault suite: `netcluster`, a fresh three-node cluster in network namespaces for
one test (harness.NetCluster), closed at teardown whatever happened (`lossy_netcluster`: the same
with each data directory on a lossyfs mount; a test parametrized with `fsync` sets
runnel.acks.all.fsync); a per-test SIGALRM deadline
(`@pytest.mark.deadline(s)`) with a faulthandler backstop; a failing test's report ends with every
node's log tail."""
from __future__ import annotations

import faulthandler
import signal
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import NetCluster  # noqa: E402

OVERRIDES = {
    "broker.session.timeout.ms": "3000",
    "broker.heartbeat.interval.ms": "500",
    "replica.lag.time.max.ms": "3000",
    "replica.fetch.backoff.ms": "200",
    "default.replication.factor": "3",
    "min.insync.replicas": "2",
    "offsets.topic.replication.factor": "3",
    "offsets.topic.num.partitions": "3",
    "group.initial.rebalance.delay.ms": "0",
}
_CLUSTERS: list[NetCluster] = []


def _cluster(request, lossy: bool):
    overrides = dict(OVERRIDES)
    marker = request.node.get_closest_marker("cluster_overrides")
    if marker:
        overrides.update(marker.args[0])
    params = getattr(getattr(request.node, "callspec", None), "params", {})
    if "fsync" in params:   # scenarios run in both durability modes
        overrides["runnel.acks.all.fsync"] = params["fsync"]
    c = NetCluster(overrides, lossy=lossy)
    _CLUSTERS.append(c)
    try:
        c.start()
        yield c
    finally:
        _CLUSTERS.remove(c)
        c.close()


@pytest.fixture
def netcluster(request):
    yield from _cluster(request, lossy=False)


@pytest.fixture
def lossy_netcluster(request):
    """Like `netcluster`, each node's data directory on its own lossyfs mount (power cuts)."""
    yield from _cluster(request, lossy=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "deadline(seconds): per-test time limit")
    config.addinivalue_line("markers", "cluster_overrides(dict): more broker overrides")


class DeadlineExceeded(Exception):
    pass


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    marker = item.get_closest_marker("deadline")
    limit = int(marker.args[0]) if marker else 300

    def on_alarm(signum, frame):
        raise DeadlineExceeded(f"{item.nodeid} exceeded its {limit} s deadline")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(limit)
    faulthandler.dump_traceback_later(limit + 90, exit=True)
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
        for c in _CLUSTERS:
            report.sections.append(("faults injected", "\n".join(f"{t:.1f} {w}" for t, w in c.fault_log)))
            for n in c.nodes.values():
                report.sections.append((f"node {n.id} log tail ({'running' if n.alive() else 'down'})",
                                        n.log_tail(60)))
                if n.disk:
                    report.sections.append((f"node {n.id} lossyfs log tail", n.disk.log_tail(20)))
