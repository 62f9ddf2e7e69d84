"""Names Jepsen's Kafka anomalies in a workload history and a final read of the log.

- lost-write: an acknowledged value missing from the final read although the final read holds a
  higher offset of its partition.
- unseen: an acknowledged value missing from the final read (taken after healing) and not counted
  as lost (nothing later in its partition was read).
- inconsistent-offsets: one (partition, offset) seen with two values (acknowledgements, reads, final).
- duplicate: one value at two offsets (counted for idempotent producers; others are reported as
  duplicate-plain, which Kafka allows for a retrying producer without idempotence).
- aborted-read: a value refused with a definite error (NOT_ENOUGH_REPLICAS to a producer that never
  retries, i.e. refused before the append) that some consumer or the final read saw.
- nonmonotonic-send: a producer's later send acknowledged at an earlier offset of its partition.
  For a producer without idempotence, a pair whose earlier record was out when librdkafka reported
  a failed batch of that partition (history "batch-error"), and acknowledged after it, is counted
  apart as
  `nonmonotonic-send-resent` (REPORTED_ONLY): librdkafka puts a batch refused with
  NOT_LEADER_OR_FOLLOWER or UNKNOWN_TOPIC_OR_PARTITION back in its queue without counting a
  retry (even with retries=0), so a later batch already sent to the new leader lands first.
  Kafka promises order under retries only with idempotence (D100).
- nonmonotonic-poll: a consumer reading an offset at or below the one it read before in that
  partition without a new assignment in between; poll-skip: a consumer jumping over offsets that
  the final read holds, without a new assignment in between.
- committed-backwards: a group's answered commits for a partition going down (scenario 13).

With `cut_at` (scenario 8 with fsync=false: a power cut that may lose acknowledged records) the
history has two lives of the log: acknowledgements and reads up to `cut_at`, and everything
after it plus the final read. The anomalies above are judged within each life; what only spans
the cut — an offset that held one value before and another after (the log went back and the
offset was used again), a value stored again after the cut, a producer's, consumer's or group's
offsets going back across the cut — is counted apart (`*-across-cut`, REPORTED_ONLY): it is what
losing acknowledged records costs, measured, not an anomaly of one life.
"""
from __future__ import annotations

from collections import defaultdict

ANOMALIES = ["lost-write", "unseen", "inconsistent-offsets", "duplicate", "aborted-read", "nonmonotonic-send",
             "nonmonotonic-poll", "poll-skip", "committed-backwards"]
ACROSS_CUT = ["inconsistent-offsets-across-cut", "duplicate-across-cut", "nonmonotonic-send-across-cut",
              "nonmonotonic-poll-across-cut", "poll-skip-across-cut", "committed-backwards-across-cut"]
REPORTED_ONLY = ["duplicate-plain", "nonmonotonic-send-resent"] + ACROSS_CUT


def check(history, final: dict[int, list[tuple[int, bytes]]], cut_at: float | None = None) -> dict:
    ops = sorted(history.ops, key=lambda o: o[1])   # members in other processes add theirs late
    found: dict[str, list] = {k: [] for k in ANOMALIES + REPORTED_ONLY}

    def life(t: float) -> int:
        return 0 if cut_at is None or t <= cut_at else 1
    final_at = {(p, o): v for p, recs in final.items() for o, v in recs}
    final_values = set(final_at.values())
    final_max = {p: (recs[-1][0] if recs else -1) for p, recs in final.items()}

    acks = [o for o in ops if o[0] == "ack"]
    reads = [o for o in ops if o[0] == "read"]
    sends = [o for o in ops if o[0] == "send"]
    fails = [o for o in ops if o[0] == "fail"]

    # one offset, two values; one value, two offsets (per life of the log)
    at: dict[tuple, dict] = defaultdict(lambda: defaultdict(set))
    where: dict[bytes, dict] = defaultdict(lambda: defaultdict(set))
    for _, t, _, v, p, off in acks + reads:
        at[(p, off)][life(t)].add(v); where[v][life(t)].add((p, off))
    for (p, off), v in final_at.items():
        at[(p, off)][1 if cut_at is not None else 0].add(v); where[v][1 if cut_at is not None else 0].add((p, off))
    for k, lives in sorted(at.items()):
        if any(len(vs) > 1 for vs in lives.values()):
            found["inconsistent-offsets"].append((k, sorted(set().union(*lives.values()))))
        elif len(set().union(*lives.values())) > 1:
            found["inconsistent-offsets-across-cut"].append((k, sorted(set().union(*lives.values()))))
    producer_of = {o[3]: o[2] for o in sends}
    for v, lives in where.items():
        places = sorted(set().union(*lives.values()))
        if any(len(ps) > 1 for ps in lives.values()):
            kind = "duplicate" if history.idempotent.get(producer_of.get(v), True) else "duplicate-plain"
            found[kind].append((v, places))
        elif len(places) > 1:
            found["duplicate-across-cut"].append((v, places))

    for _, _, _, v, p, off in acks:
        if v not in final_values:
            (found["lost-write"] if final_max.get(p, -1) > off else found["unseen"]).append((v, p, off))

    refused = {o[3] for o in fails if o[5] in {"NOT_ENOUGH_REPLICAS"} and not history.retries.get(o[2], True)}
    seen = {o[3] for o in reads} | final_values
    found["aborted-read"] = sorted(refused & seen)

    # a producer's acknowledged offsets in send order, per partition
    order = {o[3]: i for i, o in enumerate(sends)}
    sent_at = {o[3]: o[1] for o in sends}
    acked_at = {o[3]: o[1] for o in acks}
    batch_errors: dict[tuple, list[float]] = defaultdict(list)
    for _, t, name, p, *_ in (o for o in ops if o[0] == "batch-error"):
        batch_errors[(name, p)].append(t)

    def resent(name: str, p: int, v: bytes) -> bool:
        """librdkafka failed one of this producer's batches of this partition while `v` was out
        (sent, not yet acknowledged), and `v` was acknowledged after it: `v` went out again."""
        sent, acked = sent_at.get(v), acked_at.get(v)
        return sent is not None and acked is not None and any(sent < t < acked for t in batch_errors[(name, p)])

    by_prod: dict[tuple, list] = defaultdict(list)
    for _, t, name, v, p, off in acks:
        by_prod[(name, p)].append((order.get(v, -1), off, v, life(t)))
    for key, lst in by_prod.items():
        lst.sort()
        for (s1, o1, v1, l1), (s2, o2, v2, l2) in zip(lst, lst[1:]):
            if o2 <= o1:
                if l1 != l2:
                    kind = "nonmonotonic-send-across-cut"
                elif not history.idempotent.get(key[0], False) and resent(key[0], key[1], v1):
                    kind = "nonmonotonic-send-resent"
                else:
                    kind = "nonmonotonic-send"
                found[kind].append((key, v1, o1, v2, o2))

    # consumers: within one assignment, offsets per partition go up by one at a time
    last: dict[tuple, tuple[int, int]] = {}   # (consumer, partition) -> (offset, life)
    for o in ops:
        if o[0] == "assign":
            for k in [k for k in last if k[0] == o[2]]:
                del last[k]
        elif o[0] == "read":
            _, t, c, v, p, off = o
            prev, prev_life = last.get((c, p), (None, None))
            if prev is not None:
                if off <= prev:
                    kind = "nonmonotonic-poll" if prev_life == life(t) else "nonmonotonic-poll-across-cut"
                    found[kind].append((c, p, prev, off))
                elif off > prev + 1 and any((p, x) in final_at for x in range(prev + 1, off)):
                    found["poll-skip" if prev_life == life(t) else "poll-skip-across-cut"].append((c, p, prev, off))
            last[(c, p)] = (off, life(t))

    high: dict[int, tuple[int, int]] = {}   # partition -> (highest answered commit, its life)
    for o in ops:
        if o[0] == "commit":
            for p, off in o[3].items():
                top, top_life = high.get(p, (-1, life(o[1])))
                if off < top:
                    kind = "committed-backwards" if top_life == life(o[1]) else "committed-backwards-across-cut"
                    found[kind].append((o[2], p, top, off))
                high[p] = (off, life(o[1])) if top_life != life(o[1]) else (max(top, off), top_life)

    return {
        "operations": len(sends) + len(acks) + len(fails) + len(reads),
        "sent": len(sends), "acknowledged": len(acks), "failed": len(fails), "reads": len(reads),
        "final": sum(len(r) for r in final.values()),
        "counts": {k: len(v) for k, v in found.items()},
        "examples": {k: v[:5] for k, v in found.items() if v},
    }


def violations(result: dict, allowed: set[str] = frozenset()) -> list[str]:
    return [f"{k}={n}" for k, n in result["counts"].items() if n and k in ANOMALIES and k not in allowed]
