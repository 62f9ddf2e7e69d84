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
- nonmonotonic-poll: a consumer reading an offset at or below the one it read before in that
  partition without a new assignment in between; poll-skip: a consumer jumping over offsets that
  the final read holds, without a new assignment in between.
- committed-backwards: a group's answered commits for a partition going down (scenario 13).
"""
from __future__ import annotations

from collections import defaultdict

ANOMALIES = ["lost-write", "unseen", "inconsistent-offsets", "duplicate", "aborted-read", "nonmonotonic-send",
             "nonmonotonic-poll", "poll-skip", "committed-backwards"]
REPORTED_ONLY = ["duplicate-plain"]


def check(history, final: dict[int, list[tuple[int, bytes]]]) -> dict:
    ops = sorted(history.ops, key=lambda o: o[1])   # members in other processes add theirs late
    found: dict[str, list] = {k: [] for k in ANOMALIES + REPORTED_ONLY}
    final_at = {(p, o): v for p, recs in final.items() for o, v in recs}
    final_values = set(final_at.values())
    final_max = {p: (recs[-1][0] if recs else -1) for p, recs in final.items()}

    acks = [o for o in ops if o[0] == "ack"]
    reads = [o for o in ops if o[0] == "read"]
    sends = [o for o in ops if o[0] == "send"]
    fails = [o for o in ops if o[0] == "fail"]

    # one offset, two values; one value, two offsets
    at: dict[tuple, set] = defaultdict(set)
    where: dict[bytes, set] = defaultdict(set)
    for _, _, _, v, p, off in acks:
        at[(p, off)].add(v); where[v].add((p, off))
    for _, _, _, v, p, off in reads:
        at[(p, off)].add(v); where[v].add((p, off))
    for (p, off), v in final_at.items():
        at[(p, off)].add(v); where[v].add((p, off))
    for k, vs in sorted(at.items()):
        if len(vs) > 1:
            found["inconsistent-offsets"].append((k, sorted(vs)))
    producer_of = {o[3]: o[2] for o in sends}
    for v, places in where.items():
        if len(places) > 1:
            kind = "duplicate" if history.idempotent.get(producer_of.get(v), True) else "duplicate-plain"
            found[kind].append((v, sorted(places)))

    for _, _, _, v, p, off in acks:
        if v not in final_values:
            (found["lost-write"] if final_max.get(p, -1) > off else found["unseen"]).append((v, p, off))

    refused = {o[3] for o in fails if o[5] in {"NOT_ENOUGH_REPLICAS"} and not history.retries.get(o[2], True)}
    seen = {o[3] for o in reads} | final_values
    found["aborted-read"] = sorted(refused & seen)

    # a producer's acknowledged offsets in send order, per partition
    order = {o[3]: i for i, o in enumerate(sends)}
    by_prod: dict[tuple, list] = defaultdict(list)
    for _, _, name, v, p, off in acks:
        by_prod[(name, p)].append((order.get(v, -1), off, v))
    for key, lst in by_prod.items():
        lst.sort()
        for (s1, o1, v1), (s2, o2, v2) in zip(lst, lst[1:]):
            if o2 <= o1:
                found["nonmonotonic-send"].append((key, v1, o1, v2, o2))

    # consumers: within one assignment, offsets per partition go up by one at a time
    last: dict[tuple, int] = {}
    for o in ops:
        if o[0] == "assign":
            for k in [k for k in last if k[0] == o[2]]:
                del last[k]
        elif o[0] == "read":
            _, _, c, v, p, off = o
            prev = last.get((c, p))
            if prev is not None:
                if off <= prev:
                    found["nonmonotonic-poll"].append((c, p, prev, off))
                elif off > prev + 1 and any((p, x) in final_at for x in range(prev + 1, off)):
                    found["poll-skip"].append((c, p, prev, off))
            last[(c, p)] = off

    high: dict[int, int] = {}
    for o in ops:
        if o[0] == "commit":
            for p, off in o[3].items():
                if off < high.get(p, -1):
                    found["committed-backwards"].append((o[2], p, high[p], off))
                high[p] = max(high.get(p, -1), off)

    return {
        "operations": len(sends) + len(acks) + len(fails) + len(reads),
        "sent": len(sends), "acknowledged": len(acks), "failed": len(fails), "reads": len(reads),
        "final": sum(len(r) for r in final.values()),
        "counts": {k: len(v) for k, v in found.items()},
        "examples": {k: v[:5] for k, v in found.items() if v},
    }


def violations(result: dict, allowed: set[str] = frozenset()) -> list[str]:
    return [f"{k}={n}" for k, n in result["counts"].items() if n and k in ANOMALIES and k not in allowed]
