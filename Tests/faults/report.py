"""Renders the fault suite's JSON-lines results as RELIABILITY.md's table."""
import json
import sys

from checker import ANOMALIES

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print("| scenario | seconds | operations | acknowledged | failed sends | " + " | ".join(ANOMALIES) + " | notes |")
print("|---" * (6 + len(ANOMALIES)) + "|")
for r in rows:
    notes = {k: r[k] for k in ("failover_s", "left_isr_s", "rejoined_isr_s", "acked_while_isr_alone", "fsync",
                               "acked_before_cut", "lost_acked", "lost_acked_before_cut", "read_then_lost", "cuts",
                               "member_kills", "coordinator_killed", "double_owned", "splits", "faults_injected") if k in r}
    notes["duplicate-plain"] = r["counts"].get("duplicate-plain", 0)
    print(f"| {r['scenario']} | {r['seconds']} | {r['operations']} | {r['acknowledged']} | {r['failed']} | "
          + " | ".join(str(r["counts"].get(a, 0)) for a in ANOMALIES) + f" | {notes} |")
