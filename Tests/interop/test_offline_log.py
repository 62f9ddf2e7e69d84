"""A partition log that goes offline while acks=all produces are queued (issue 9 item 1), driven
as the probe that found the crash drove it: the partition directory is made immutable
(`chattr +i`) and kcat pipes ~400 records of 500 bytes with acks=all into it, so the log must
roll and cannot create the next segment. Before the fix the broker died with SIGSEGV (group commit
retried the flush of the offline log recursively). Now the produces fail (kcat reports delivery
errors), the broker keeps running and serving other partitions, and says why the log is offline.
"""
from __future__ import annotations

import subprocess

import pytest

from interop_support import Rec, ck_consume, ck_create_topic, ck_produce, unique_topic


def chattr(flag: str, path) -> bool:
    return subprocess.run(["chattr", flag, str(path)], capture_output=True).returncode == 0


@pytest.mark.broker_overrides({"log.segment.bytes": "65536"})
def test_offline_log_fails_queued_acks_all_produces_and_the_broker_lives(broker):
    topic, other = unique_topic("imm"), unique_topic("other")
    ck_create_topic(broker.bootstrap, topic, 1)
    ck_create_topic(broker.bootstrap, other, 1)
    ck_produce(broker.bootstrap, topic, [Rec(0, None, b"r%d" % i) for i in range(3)])
    pdir = broker.data_dir / f"{topic}-0"
    if not chattr("+i", pdir):
        pytest.skip("chattr +i is not supported here (needs root and ext4-like file system)")
    try:
        lines = b"".join(b"%03d " % i + b"x" * 496 + b"\n" for i in range(400))
        res = subprocess.run(["kcat", "-P", "-b", broker.bootstrap, "-t", topic, "-p", "0",
                              "-X", "acks=all", "-X", "batch.num.messages=20", "-X", "message.timeout.ms=8000"],
                             input=lines, capture_output=True, timeout=60)
        stderr = res.stderr.decode(errors="replace")
        assert broker.alive(), f"broker died (exit {broker.proc.returncode}); log:\n{broker.log_tail(40)}"
        assert "Delivery failed" in stderr or res.returncode != 0, f"kcat reported no failure: {stderr[-2000:]}"
        assert "is offline" in broker.log_text(), broker.log_tail(30)
        # Other partitions keep serving, acks=all included.
        assert ck_produce(broker.bootstrap, other, [Rec(0, b"k", b"still here")]) == {0: [0]}
        got = ck_consume(broker.bootstrap, other, [0], {0: 1})[0]
        assert [r.value for r in got] == [b"still here"]
    finally:
        chattr("-i", pdir)
    assert broker.alive(), broker.log_tail(40)
    broker.stop()
