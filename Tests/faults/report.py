"""Renders the fault suite's JSON-lines results as RELIABILITY.md's table."""
import json
import sys

from checker import ACROSS_CUT, ANOMALIES


def brief(cut: dict) -> str:
    """One cut of scenarios 7-9 in a few words."""
    if "dropped" in cut:   # a power cut: segment writes put back per node ([writes, bytes])
        logs = ", ".join(f"n{n} {d.get('.log', [0, 0])[0]}/{d.get('.log', [0, 0])[1]} B" for n, d in cut["dropped"].items())
        return f"{cut['what']}{'' if cut.get('armed_went_off') else ' (unarmed)'}: segment writes dropped {logs}"
    return f"{cut['damage']} tail of n{cut['node']}: cut at {cut['position']}, {cut['index_entries']} index entries rebuilt"

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print("| scenario | seconds | operations | acknowledged | failed sends | " + " | ".join(ANOMALIES) + " | notes |")
print("|---" * (6 + len(ANOMALIES)) + "|")
for r in rows:
    notes = {k: r[k] for k in ("failover_s", "left_isr_s", "rejoined_isr_s", "acked_while_isr_alone", "fsync",
                               "acked_before_cut", "lost_acked", "lost_acked_before_cut", "read_then_lost", "cuts",
                               "member_kills", "coordinator_killed", "double_owned", "splits", "faults_injected",
                               "plain_batches_failed") if k in r}
    notes["duplicate-plain"] = r["counts"].get("duplicate-plain", 0)
    if r["counts"].get("nonmonotonic-send-resent"):
        notes["nonmonotonic-send-resent"] = r["counts"]["nonmonotonic-send-resent"]
    notes.update({k: r["counts"][k] for k in ACROSS_CUT if r["counts"].get(k)})
    if "cuts" in notes:
        notes["cuts"] = [brief(cut) for cut in notes["cuts"]]
    print(f"| {r['scenario']} | {r['seconds']} | {r['operations']} | {r['acknowledged']} | {r['failed']} | "
          + " | ".join(str(r["counts"].get(a, 0)) for a in ANOMALIES) + f" | {notes} |")
