"""The checker's two lives of the log (scenario 8 with fsync=false, D91) on small made-up histories:
what spans the power cut is counted apart, what happens within one life is still an anomaly."""
from __future__ import annotations

from checker import check, violations
from workload import History


def history(*ops) -> History:
    h = History()
    h.idempotent.update({"idem": True, "plain": False})
    h.retries.update({"idem": True, "plain": False})
    for op in ops:
        h.add(*op)
    return h


def test_an_offset_reused_after_the_cut_is_counted_apart_and_the_loss_stays_a_lost_write():
    h = history(("send", 1.0, "idem", b"a", 0), ("ack", 1.1, "idem", b"a", 0, 0),
                ("read", 1.2, "r", b"a", 0, 0),
                ("send", 5.0, "idem", b"b", 0), ("ack", 5.1, "idem", b"b", 0, 0),
                ("send", 5.2, "idem", b"c", 0), ("ack", 5.3, "idem", b"c", 0, 1),
                ("read", 5.4, "r", b"b", 0, 0))
    final = {0: [(0, b"b"), (1, b"c")]}
    r = check(h, final, cut_at=3.0)
    assert r["counts"]["inconsistent-offsets"] == 0
    assert r["counts"]["inconsistent-offsets-across-cut"] == 1
    assert r["counts"]["nonmonotonic-send-across-cut"] == 1
    assert r["counts"]["nonmonotonic-poll-across-cut"] == 1
    assert r["counts"]["lost-write"] == 1
    assert violations(r, {"lost-write"}) == []
    # without the cut the same history is three anomalies
    plain = check(h, final)
    assert sorted(violations(plain, {"lost-write"})) == ["inconsistent-offsets=1", "nonmonotonic-poll=1",
                                                         "nonmonotonic-send=1"]


def test_two_values_at_one_offset_within_one_life_is_still_an_anomaly():
    h = history(("send", 5.0, "idem", b"b", 0), ("ack", 5.1, "idem", b"b", 0, 0),
                ("send", 5.2, "idem", b"c", 0), ("ack", 5.3, "idem", b"c", 0, 0))
    r = check(h, {0: [(0, b"c")]}, cut_at=3.0)
    assert r["counts"]["inconsistent-offsets"] == 1
    assert r["counts"]["inconsistent-offsets-across-cut"] == 0
    assert "inconsistent-offsets=1" in violations(r, {"lost-write", "unseen"})


def test_a_plain_producers_reorder_is_explained_only_by_a_batch_librdkafka_sent_again():
    # plain sends a, b, c to partition 0; a is acknowledged after b and c
    ops = [("send", 1.0, "plain", b"a", 0), ("send", 1.1, "plain", b"b", 0), ("send", 1.2, "plain", b"c", 0),
           ("ack", 2.0, "plain", b"b", 0, 0), ("ack", 2.1, "plain", b"c", 0, 1), ("ack", 3.0, "plain", b"a", 0, 2)]
    final = {0: [(0, b"b"), (1, b"c"), (2, b"a")]}
    unexplained = check(history(*ops), final)
    assert unexplained["counts"]["nonmonotonic-send"] == 1
    # librdkafka reported a batch of partition 0 failed while a was out: the client sent a again
    refused = ("batch-error", 1.5, "plain", 0, 1, "Broker: Not leader for partition", "Refresh,MsgNotPersisted")
    r = check(history(*ops, refused), final)
    assert r["counts"]["nonmonotonic-send"] == 0 and r["counts"]["nonmonotonic-send-resent"] == 1
    assert violations(r, set()) == []
    # a failed batch before a was sent, after it was acknowledged, or of another partition, explains nothing
    for t, p in [(0.5, 0), (3.5, 0), (1.5, 1)]:
        other = ("batch-error", t, "plain", p, 1, "Broker: Not leader for partition", "Refresh")
        assert check(history(*ops, other), final)["counts"]["nonmonotonic-send"] == 1
    # an idempotent producer's order is the broker's promise: no failed batch excuses it
    idem = [tuple("idem" if x == "plain" else x for x in o) for o in [*ops, refused]]
    assert check(history(*idem), final)["counts"]["nonmonotonic-send"] == 1
