#!/usr/bin/env python3
"""Turns the raw results of Benchmarks/run-all.sh into BENCHMARKS.md.

    report.py RESULTS.jsonl MACHINE.json NOTES.md [--cluster C-RESULTS.jsonl C-MACHINE.json C-NOTES.md] > BENCHMARKS.md

RESULTS.jsonl has one line per measurement: {"case", "round", "tool", "status", "result"}.
Figures are medians over the rounds; failed runs (status != 0) are left out of the medians and
counted. Ratios are ratios of medians. NOTES.md (hand-written) is appended as it is.

With --cluster, the results of Benchmarks/cluster.sh (same line format, its own run) become a
section of their own before "Every run", followed by C-NOTES.md (hand-written).
"""
import json
import statistics
import sys


def load(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def get(result, path):
    value = result
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


class Results:
    def __init__(self, rows):
        self.rows = rows

    def runs(self, case, tool=None):
        return [r for r in self.rows if r["case"] == case and (tool is None or r["tool"] == tool)]

    def values(self, case, tool, path):
        out = []
        for r in self.runs(case, tool):
            if r["status"] == 0 and r["result"] is not None:
                v = get(r["result"], path)
                if isinstance(v, (int, float)):
                    out.append(float(v))
        return out

    def failures(self, case, tool=None):
        return [r for r in self.runs(case, tool) if r["status"] != 0 or r["result"] is None]

    def median(self, case, tool, path):
        v = self.values(case, tool, path)
        return statistics.median(v) if v else None


def n(value, digits=0):
    if value is None:
        return "—"
    if digits == 0:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def spread(values, digits=0):
    if not values:
        return ""
    return f"{n(min(values), digits)}–{n(max(values), digits)}"


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def verdict(value, target, higher_is_better=True):
    if value is None:
        return "no data"
    ok = value >= target if higher_is_better else value <= target
    return "✅ met" if ok else "❌ not met"


def round_rows(w, R, rounds, series):
    """One table row per (label, case, tool, path, digits): each round's figure ("a / b" when a
    round ran it twice, "failed" for a failed run)."""
    for label, case, tool, path, digits in series:
        cells = []
        for i in rounds:
            texts = []
            for run in [r for r in R.runs(case, tool) if r["round"] == i]:
                if run["status"] != 0 or run["result"] is None:
                    texts.append("failed")
                else:
                    texts.append(n(get(run["result"], path), digits))
            cells.append(" / ".join(texts))
        w(f"| {label} | " + " | ".join(cells) + " |")


def failed_runs(w, rows):
    errors = [r for r in rows if r["status"] != 0 or r["result"] is None]
    if errors:
        w("Failed runs (the error each tool reported):")
        w("")
        for r in errors:
            reason = get(r["result"], "error") if r["result"] else "no output"
            w(f"- {r['case']} round {r['round']} ({r['tool']}): {reason}")
        w("")


def cluster_section(rows, machine, notes):
    """The replication section: Benchmarks/cluster.sh's results, from its own run."""
    R = Results(rows)
    out = []
    w = out.append
    s = machine["sizes"]

    def m(case, path, tool="runnel"):
        return R.median(case, tool, path)

    rf1 = m("produce_100_all_rf1", "records_per_s")
    rf3 = m("produce_100_all_rf3", "records_per_s")
    ratios = []
    for i in sorted({r["round"] for r in rows}):
        a = [get(r["result"], "records_per_s") for r in R.runs("produce_100_all_rf1") if r["round"] == i and r["status"] == 0]
        b = [get(r["result"], "records_per_s") for r in R.runs("produce_100_all_rf3") if r["round"] == i and r["status"] == 0]
        if a and b and a[0]:
            ratios.append(b[0] / a[0])
    e50, e99, e999 = (m("e2e_10k_all_rf3", f"latency_ms.{p}") for p in ("p50", "p99", "p99_9"))
    tcp = R.median("loopback_tcp", "iperf3", "mb_per_s")
    catch = m("catchup", "mb_per_s")
    transfer = m("catchup", "transfer_mb_per_s")

    w("## Replication: a 3-node cluster on one machine")
    w("")
    w("Generated from `Benchmarks/cluster.sh`" + (" --quick" if machine.get("quick") else "")
      + f" on {machine['started']} ({machine['rounds']} interleaved rounds, {machine['catchups']} catch-ups; "
      + "medians over the rounds), a run of its own: its figures are comparable with each other, not with "
      + "the tables above. Three `runnel broker` processes (each also a controller) on loopback, the load "
      + f"generator beside them, all on the same {machine['cpus']} shared cores; load average "
      + f"{machine['load_before']} before, {machine['load_after']} after; Runnel at `{machine['commit']}`. "
      + "One partition per topic, default broker settings (`runnel.acks.all.fsync=true`: every ISR member "
      + "fsyncs before the high watermark passes a batch). `runnel bench`, linger 5 ms, batches up to "
      + "1,000,000 bytes. CPU is the three brokers' utime + stime over the run (`/proc/<pid>/stat`), "
      + "not the load generator's.")
    w("")
    w("| figure | goal | measured (median) | |")
    w("|---|---|---|---|")
    x = ratio(rf3, rf1)
    w(f"| produce 100 B acks=all, RF=3 ÷ RF=1 (same leader node) | ≥ 0.4 (Kafka: ~0.5) | {n(x, 2)} ({n(rf3)} ÷ {n(rf1)} records/s; "
      f"per-round ratios {', '.join(n(v, 2) for v in ratios)}) | {verdict(x, 0.4)} |")
    w(f"| end-to-end p50 / p99 / p99.9 at {n(s['e2e_rate'])} records/s, acks=all, RF=3 | p99 ≤ 10 ms | "
      f"{n(e50, 2)} / {n(e99, 2)} / {n(e999, 2)} ms | {verdict(e99, 10, False)} |")
    x = ratio(catch, tcp)
    w(f"| follower catch-up after a restart ÷ loopback TCP | — | {n(x and x * 100, 1)} % ({n(catch, 1)} ÷ {n(tcp, 1)} MB/s; "
      f"process start → back in the ISR; the transfer alone: {n(ratio(transfer, tcp) and ratio(transfer, tcp) * 100, 1)} %, {n(transfer, 1)} MB/s) | |")
    w("")
    w("| workload | records/s (MB/s) | latency p50 / p99 / p99.9 ms | broker CPU µs per record |")
    w("|---|---|---|---|")
    for case, label in [
        ("produce_100_all_rf1", f"produce {n(s['n100'])} × 100 B, acks=all, RF=1"),
        ("produce_100_all_rf3", f"produce {n(s['n100'])} × 100 B, acks=all, RF=3"),
        ("e2e_10k_all_rf1", f"end-to-end {n(s['ne2e'])} × 100 B at {n(s['e2e_rate'])}/s, acks=all, RF=1"),
        ("e2e_10k_all_rf3", f"end-to-end {n(s['ne2e'])} × 100 B at {n(s['e2e_rate'])}/s, acks=all, RF=3"),
        ("e2e_10k_all_rf3_nofsync", "… the same, RF=3 with `runnel.acks.all.fsync=false` (diagnostic: what the fsyncs cost)"),
    ]:
        cell = f"{n(m(case, 'records_per_s'))} ({n(m(case, 'mb_per_s'), 1)})"
        failed = len(R.failures(case, "runnel"))
        if failed:
            cell += f" — {failed} of {len(R.runs(case, 'runnel'))} runs failed"
        lat = " / ".join(n(m(case, f"latency_ms.{p}"), 2) for p in ("p50", "p99", "p99_9"))
        w(f"| {label} | {cell} | {lat} | {n(m(case, 'broker_cpu_us_per_record'), 2)} |")
    w("")
    w("| follower catch-up | median | range | with `runnel.acks.all.fsync=false` (diagnostic) | range |")
    w("|---|---|---|---|---|")
    mb = m("catchup", "copied_mb")
    w(f"| log copied to the restarted follower ({n(s['n_catchup'])} × 16 KiB records produced while it was down) | {n(mb, 1)} MB | | {n(m('catchup_nofsync', 'copied_mb'), 1)} MB | |")
    for path, label, unit, d in [
        ("ready_ms", "process start → port accepts", "ms", 0),
        ("first_byte_ms", "process start → first replicated bytes on its disk (du every 20 ms)", "ms", 0),
        ("copied_ms", "process start → its segments within 1 MiB of the leader's", "ms", 0),
        ("isr_ms", "process start → back in the ISR (`runnel topic describe`, polled every 50 ms)", "ms", 0),
        ("mb_per_s", "catch-up rate: MB copied ÷ (start → ISR)", "MB/s", 1),
        ("transfer_mb_per_s", "transfer rate: MB copied ÷ (first bytes → copied)", "MB/s", 1),
        ("broker_cpu_s", "brokers' CPU from start to ISR", "s", 2),
    ]:
        w(f"| {label} | {n(m('catchup', path), d)} {unit} | {spread(R.values('catchup', 'runnel', path), d)} "
          f"| {n(m('catchup_nofsync', path), d)} {unit} | {spread(R.values('catchup_nofsync', 'runnel', path), d)} |")
    w(f"| loopback TCP (iperf3 `-t {s['iperf_s']} -l 64K`, one stream, every round) | {n(tcp, 1)} MB/s | {spread(R.values('loopback_tcp', 'iperf3', 'mb_per_s'), 1)} | | |")
    dsync = R.median("dsync_write", "dd", "mb_per_s")
    w(f"| fsynced 1 MiB writes (`dd bs=1M count={s.get('dsync_mb')} oflag=dsync`, every round) | {n(dsync, 1)} MB/s | {spread(R.values('dsync_write', 'dd', 'mb_per_s'), 1)} | | |")
    x = ratio(transfer, tcp)
    y = ratio(m("catchup_nofsync", "transfer_mb_per_s"), tcp)
    w(f"| transfer rate ÷ loopback TCP | {n(x and x * 100, 1)} % | | {n(y and y * 100, 1)} % | |")
    x = ratio(transfer, dsync)
    w(f"| transfer rate ÷ fsynced 1 MiB writes | {n(x and x * 100, 0)} % | | | |")
    w("")
    rounds = sorted({r["round"] for r in rows})
    w("Round by round (RF=1 and RF=3 alternate which goes first):")
    w("")
    w("| figure | " + " | ".join(f"round {i}" for i in rounds) + " |")
    w("|---|" + "---|" * len(rounds))
    series = [
        ("loopback TCP MB/s", "loopback_tcp", "iperf3", "mb_per_s", 0),
        ("produce RF=1 records/s", "produce_100_all_rf1", "runnel", "records_per_s", 0),
        ("produce RF=3 records/s", "produce_100_all_rf3", "runnel", "records_per_s", 0),
        ("produce RF=1 broker CPU µs/record", "produce_100_all_rf1", "runnel", "broker_cpu_us_per_record", 2),
        ("produce RF=3 broker CPU µs/record", "produce_100_all_rf3", "runnel", "broker_cpu_us_per_record", 2),
        ("produce RF=1 ack p99 ms", "produce_100_all_rf1", "runnel", "latency_ms.p99", 1),
        ("produce RF=3 ack p99 ms", "produce_100_all_rf3", "runnel", "latency_ms.p99", 1),
        ("e2e RF=1 p50 ms", "e2e_10k_all_rf1", "runnel", "latency_ms.p50", 2),
        ("e2e RF=1 p99 ms", "e2e_10k_all_rf1", "runnel", "latency_ms.p99", 2),
        ("e2e RF=1 p99.9 ms", "e2e_10k_all_rf1", "runnel", "latency_ms.p99_9", 2),
        ("e2e RF=3 p50 ms", "e2e_10k_all_rf3", "runnel", "latency_ms.p50", 2),
        ("e2e RF=3 p99 ms", "e2e_10k_all_rf3", "runnel", "latency_ms.p99", 2),
        ("e2e RF=3 p99.9 ms", "e2e_10k_all_rf3", "runnel", "latency_ms.p99_9", 2),
        ("e2e RF=3 no fsync p50 ms", "e2e_10k_all_rf3_nofsync", "runnel", "latency_ms.p50", 2),
        ("e2e RF=3 no fsync p99 ms", "e2e_10k_all_rf3_nofsync", "runnel", "latency_ms.p99", 2),
        ("e2e RF=3 no fsync p99.9 ms", "e2e_10k_all_rf3_nofsync", "runnel", "latency_ms.p99_9", 2),
        ("e2e RF=1 broker CPU µs/record", "e2e_10k_all_rf1", "runnel", "broker_cpu_us_per_record", 1),
        ("e2e RF=3 broker CPU µs/record", "e2e_10k_all_rf3", "runnel", "broker_cpu_us_per_record", 1),
        ("fsynced 1 MiB writes MB/s", "dsync_write", "dd", "mb_per_s", 0),
        ("catch-up: start → ISR ms", "catchup", "runnel", "isr_ms", 0),
        ("catch-up MB/s (to ISR)", "catchup", "runnel", "mb_per_s", 1),
        ("catch-up transfer MB/s", "catchup", "runnel", "transfer_mb_per_s", 1),
        ("catch-up no fsync: start → ISR ms", "catchup_nofsync", "runnel", "isr_ms", 0),
        ("catch-up no fsync transfer MB/s", "catchup_nofsync", "runnel", "transfer_mb_per_s", 1),
    ]
    round_rows(w, R, rounds, series)
    w("")
    failed_runs(w, rows)
    if notes.strip():
        w(notes.rstrip())
        w("")
    return out


def main():
    args = sys.argv[1:]
    cluster = None
    if "--cluster" in args:
        at = args.index("--cluster")
        c_rows, c_machine, c_notes = args[at + 1:at + 4]
        del args[at:at + 4]
        with open(c_machine) as f:
            machine_c = json.load(f)
        notes_c = ""
        try:
            with open(c_notes) as f:
                notes_c = f.read()
        except FileNotFoundError:
            pass
        cluster = cluster_section(load(c_rows), machine_c, notes_c)
    sys.argv[1:] = args
    rows = load(sys.argv[1])
    with open(sys.argv[2]) as f:
        machine = json.load(f)
    with open(sys.argv[3]) as f:
        notes = f.read()
    R = Results(rows)
    out = []
    w = out.append

    memcpy = R.median("memcpy", "c", "gb_per_s")
    # dd in the same slot as the 16 KiB produces (after 1 GiB was freed) is the limit; the
    # first, discarded dd of the section (into memory unused for a while) is shown beside it.
    dd_first = R.median("dd_write_first", "dd", "mb_per_s")
    dd = R.median("dd_write", "dd", "mb_per_s")
    tcp = R.median("loopback_tcp", "iperf3", "mb_per_s")
    redis = R.median("redis_xadd", "redis-benchmark", "records_per_s")

    def m(case, tool, path):
        return R.median(case, tool, path)

    c_a1 = m("produce_100_acks1", "loadgen", "records_per_s")
    s_a1 = m("produce_100_acks1", "runnel", "records_per_s")
    c_all = m("produce_100_acksall", "loadgen", "records_per_s")
    s_all = m("produce_100_acksall", "runnel", "records_per_s")
    c_16k = m("produce_16k_acks1", "loadgen", "mb_per_s")
    s_16k = m("produce_16k_acks1", "runnel", "mb_per_s")
    c_c16k = m("consume_16k", "loadgen", "mb_per_s")
    s_c16k = m("consume_16k", "runnel", "mb_per_s")
    s_e2e99 = m("e2e_10k_all", "runnel", "latency_ms.p99")
    s_e2e999 = m("e2e_10k_all", "runnel", "latency_ms.p99_9")
    c_e2e99 = m("e2e_10k_all", "loadgen", "latency_ms.p99")
    c_e2e999 = m("e2e_10k_all", "loadgen", "latency_ms.p99_9")
    idle_mb = (m("start_to_ready", "runnel", "idle_rss_kb") or 0) / 1024 or None
    ready_ms = m("start_to_ready", "runnel", "ms")
    recovery_ms = m("recovery_1gib", "runnel", "served_ms")
    recovery_ready_ms = m("recovery_1gib", "runnel", "ready_ms")

    w("# Runnel benchmarks")
    w("")
    w("Generated by `Benchmarks/run-all.sh`" + (" --quick" if machine.get("quick") else "")
      + f" on {machine['started']} ({machine['rounds']} interleaved rounds; medians over the rounds). "
      + "Do not edit the tables by hand: run the script again. The explanation at the end is "
      + "hand-written (`Benchmarks/BENCHMARKS-notes.md`).")
    w("")
    w(f"Machine: {machine['cpus']} × {machine['cpu']}, {machine['mem_gib']} GiB, Linux {machine['kernel']}; "
      f"load average {machine['load_before']} before, {machine['load_after']} after. "
      f"{machine['swift']}; librdkafka {machine['librdkafka']}; Redis {machine['redis']}; "
      f"Runnel at `{machine['commit']}`. Broker, load generator and peer share the two cores.")
    w("")

    w("## The targets")
    w("")
    w("| figure | target | measured (median) | |")
    w("|---|---|---|---|")
    w(f"| produce 100 B, acks=1, C librdkafka generator | ≥ 1,000,000 records/s | {n(c_a1)} records/s | {verdict(c_a1, 1e6)} |")
    x = ratio(c_a1, redis)
    w(f"| … ÷ Redis Streams XADD (same run) | ≥ 4.5× | {n(x, 2)}× ({n(c_a1)} ÷ {n(redis)}) | {verdict(x, 4.5)} |")
    x = ratio(c_all, c_a1)
    w(f"| produce 100 B, acks=all (fsync before ack) ÷ acks=1 | ≥ 50 % | {n(x and x * 100, 0)} % ({n(c_all)} ÷ {n(c_a1)}) | {verdict(x, 0.5)} |")
    x = ratio(c_16k, dd)
    y = ratio(c_16k, dd_first)
    dd_values = R.values("dd_write", "dd", "mb_per_s") + R.values("dd_write_first", "dd", "mb_per_s")
    dd_best = max(dd_values) if dd_values else None
    z = ratio(c_16k, dd_best)
    w(f"| produce 16 KiB, acks=1 ÷ page-cache write (dd in the same slot) | ≥ 60 % | {n(x and x * 100, 0)} % ({n(c_16k, 1)} ÷ {n(dd, 1)} MB/s; "
      f"{n(y and y * 100, 0)} % of a dd into unused memory, {n(dd_first, 1)} MB/s; {n(z and z * 100, 0)} % of the fastest dd of the run, "
      f"{n(dd_best, 1)} MB/s — see the notes) | {verdict(x, 0.6)} |")
    x = ratio(c_c16k, tcp)
    w(f"| consume 16 KiB ÷ loopback TCP (iperf3) | ≥ 50 % | {n(x and x * 100, 0)} % ({n(c_c16k, 1)} ÷ {n(tcp, 1)} MB/s) | {verdict(x, 0.5)} |")
    w(f"| end-to-end p99 at 10,000 records/s, acks=all (`runnel bench e2e`) | ≤ 5 ms | {n(s_e2e99, 2)} ms (C generator: {n(c_e2e99, 2)} ms) | {verdict(s_e2e99, 5, False)} |")
    w(f"| end-to-end p99.9, same run | ≤ 10 ms | {n(s_e2e999, 2)} ms (C generator: {n(c_e2e999, 2)} ms) | {verdict(s_e2e999, 10, False)} |")
    x = ratio(s_a1, c_a1)
    w(f"| `runnel bench produce` ÷ C generator, 100 B acks=1 | ≥ 80 % | {n(x and x * 100, 0)} % ({n(s_a1)} ÷ {n(c_a1)}) | {verdict(x, 0.8)} |")
    w(f"| idle RSS | ≤ 30 MB | {n(idle_mb, 1)} MiB | {verdict(idle_mb, 30, False)} |")
    w(f"| start to ready (empty data directory) | ≤ 300 ms | {n(ready_ms)} ms | {verdict(ready_ms, 300, False)} |")
    w(f"| recovery of 1 GiB of log after kill -9 (start until the whole log is served) | ≤ 1 s | {n(recovery_ms)} ms (port open after {n(recovery_ready_ms)} ms) | {verdict(recovery_ms, 1000, False)} |")
    w("")
    w("The throughput targets are judged on the C librdkafka generator (the broker's figure); "
      "`runnel bench` is the second witness below.")
    w("")

    w("## The machine's limits and the peer, measured in the same run")
    w("")
    w("| figure | median | range | how |")
    w("|---|---|---|---|")
    w(f"| memcpy | {n(memcpy, 2)} GB/s | {spread(R.values('memcpy', 'c', 'gb_per_s'), 2)} | `Benchmarks/reference/memcpy.c`: 20 × 256 MiB |")
    w(f"| page-cache write | {n(dd, 1)} MB/s | {spread(R.values('dd_write', 'dd', 'mb_per_s'), 1)} | `sync; dd if=/dev/zero bs=1M count={machine['sizes']['dd_mb']}` (no fsync) in rotation with the 16 KiB produces, each after the previous writer's 1 GiB was deleted |")
    w(f"| page-cache write into memory unused for a while | {n(dd_first, 1)} MB/s | {spread(R.values('dd_write_first', 'dd', 'mb_per_s'), 1)} | the same, first of the section (discarded; see the notes) |")
    w(f"| loopback TCP | {n(tcp, 1)} MB/s ({n(tcp and tcp * 8 / 1000, 1)} Gbit/s) | {spread(R.values('loopback_tcp', 'iperf3', 'mb_per_s'), 1)} | `iperf3 -c 127.0.0.1 -t {machine['sizes']['iperf_s']} -l 64K`, one stream |")
    w(f"| Redis Streams XADD, 100 B | {n(redis)} records/s | {spread(R.values('redis_xadd', 'redis-benchmark', 'records_per_s'))} | `redis-benchmark -n {machine['sizes']['redis_n']} -c 50 -P 64 XADD s '*' f <100 B>`, AOF `appendfsync everysec` |")
    w("")

    w("## Runnel, two witnesses")
    w("")
    w("One partition per topic, single node, default broker settings (`runnel.acks.all.fsync=true`). "
      "Producers: linger 5 ms, batches up to 1,000,000 bytes, no compression, no key. "
      "Latency is send → acknowledgement for produce, send → receipt for end-to-end. "
      "MB/s is 10⁶ bytes of record values per second.")
    w("")
    w("| workload | C librdkafka generator | | `runnel bench` | | bench ÷ C |")
    w("|---|---|---|---|---|---|")
    w("| | records/s (MB/s) | latency p50 / p99 ms | records/s (MB/s) | latency p50 / p99 ms | |")
    s = machine["sizes"]
    workloads = [
        ("produce_100_acks1", f"produce {n(s['n100'])} × 100 B, acks=1", True),
        ("produce_100_acksall", f"produce {n(s['n100'])} × 100 B, acks=all", True),
        ("produce_16k_acks1", f"produce {n(s['n16k'])} × 16 KiB, acks=1", True),
        ("consume_100", f"consume {n(s['n100'])} × 100 B", False),
        ("consume_16k", f"consume {n(s['n16k'])} × 16 KiB", False),
        ("e2e_10k_all", f"end-to-end {n(s['ne2e'])} × 100 B at {n(s['e2e_rate'])}/s, acks=all", True),
        ("e2e_10k_acks1", f"end-to-end, the same with acks=1 (for comparison)", True),
    ]
    for case, label, has_latency in workloads:
        cells = []
        for tool in ("loadgen", "runnel"):
            rps = m(case, tool, "records_per_s")
            mbs = m(case, tool, "mb_per_s")
            cell = f"{n(rps)} ({n(mbs, 1)})"
            failed = len(R.failures(case, tool))
            if failed:
                cell += f" — {failed} of {len(R.runs(case, tool))} runs failed"
            cells.append(cell)
            if has_latency:
                cells.append(f"{n(m(case, tool, 'latency_ms.p50'), 2)} / {n(m(case, tool, 'latency_ms.p99'), 2)}"
                             + (f" (p99.9 {n(m(case, tool, 'latency_ms.p99_9'), 2)})" if case.startswith("e2e") else ""))
            else:
                cells.append("—")
        x = ratio(m(case, "runnel", "records_per_s"), m(case, "loadgen", "records_per_s"))
        w(f"| {label} | {cells[0]} | {cells[1]} | {cells[2]} | {cells[3]} | {n(x and x * 100, 0)} % |")
    w("")

    w("## Footprint")
    w("")
    peak = m("rss_under_load", "runnel", "peak_rss_kb")
    peak_anon = m("rss_under_load", "runnel", "peak_rss_anon_kb")
    w("| figure | median | range |")
    w("|---|---|---|")
    w(f"| start to ready, empty data directory (process start → port accepts) | {n(ready_ms)} ms | {spread(R.values('start_to_ready', 'runnel', 'ms'))} ms |")
    idle = [v / 1024 for v in R.values("start_to_ready", "runnel", "idle_rss_kb")]
    idle_anon = [v / 1024 for v in R.values("start_to_ready", "runnel", "idle_rss_anon_kb")]
    w(f"| idle RSS, 2 s after ready (of which anonymous) | {n(idle_mb, 1)} MiB ({n(statistics.median(idle_anon) if idle_anon else None, 1)} MiB) | {spread(idle, 1)} MiB |")
    w(f"| peak RSS during the rounds above (of which anonymous; the rest is mapped log segments) | {n(peak and peak / 1024, 0)} MiB ({n(peak_anon and peak_anon / 1024, 0)} MiB) | |")
    data = m("recovery_1gib", "runnel", "data_bytes")
    w(f"| recovery after kill -9 with {n(data and data / 2**30, 2)} GiB of log: port accepts | {n(recovery_ready_ms)} ms | {spread(R.values('recovery_1gib', 'runnel', 'ready_ms'))} ms |")
    w(f"| … until the whole log is served (high watermark back) | {n(recovery_ms)} ms | {spread(R.values('recovery_1gib', 'runnel', 'served_ms'))} ms |")
    rec_idle = [v / 1024 for v in R.values("recovery_1gib", "runnel", "idle_rss_kb")]
    rec_anon = [v / 1024 for v in R.values("recovery_1gib", "runnel", "idle_rss_anon_kb")]
    if rec_idle:
        w(f"| idle RSS 2 s after that recovery (of which anonymous) | {n(statistics.median(rec_idle), 1)} MiB ({n(statistics.median(rec_anon) if rec_anon else None, 1)} MiB) | {spread(rec_idle, 1)} MiB |")
    failed = R.failures("recovery_1gib")
    if failed:
        w(f"| recovery runs that failed | {len(failed)} | |")
    w("")

    if cluster:
        out.extend(cluster)

    w("## Every run")
    w("")
    w("Round by round (A/B pairs alternate which tool goes first), so that the noise is visible.")
    w("")
    rounds = sorted({r["round"] for r in rows if r["case"] == "memcpy"})
    header = "| figure | " + " | ".join(f"round {i}" for i in rounds) + " |"
    w(header)
    w("|---|" + "---|" * len(rounds))
    series = [
        ("memcpy GB/s", "memcpy", "c", "gb_per_s", 2),
        ("dd write MB/s, into unused memory", "dd_write_first", "dd", "mb_per_s", 0),
        ("dd write MB/s, in rotation", "dd_write", "dd", "mb_per_s", 0),
        ("loopback TCP MB/s", "loopback_tcp", "iperf3", "mb_per_s", 0),
        ("Redis XADD records/s", "redis_xadd", "redis-benchmark", "records_per_s", 0),
    ]
    for case, _, _ in workloads:
        for tool in ("loadgen", "runnel"):
            name = "C" if tool == "loadgen" else "bench"
            if case.startswith("e2e"):
                series.append((f"{case} {name} p99 ms", case, tool, "latency_ms.p99", 2))
                series.append((f"{case} {name} p99.9 ms", case, tool, "latency_ms.p99_9", 2))
            elif case.startswith("produce_16k") or case.startswith("consume_16k"):
                series.append((f"{case} {name} MB/s", case, tool, "mb_per_s", 0))
            else:
                series.append((f"{case} {name} records/s", case, tool, "records_per_s", 0))
    round_rows(w, R, rounds, series)
    w("")
    failed_runs(w, rows)
    w(notes.rstrip())
    w("")
    print("\n".join(out))


if __name__ == "__main__":
    main()
