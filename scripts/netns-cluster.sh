#!/usr/bin/env bash
# netns-cluster.sh - a throw-away N-node "cluster" on one Linux host, built from
# network namespaces, for multi-host fault tests of runnel (partitions, link
# loss, latency, pauses, kills).
#
# Topology (nothing is configured in the root namespace):
#
#   netns rnlhub:   bridge rnlbr0  <- rnlp1 .. rnlpN (veth peer ends)
#   netns rnl<i>:   eth0 = 10.77.0.<i>/24   (veth end), lo up
#
# The bridge lives in its own namespace, so 10.77.0.0/24 exists only inside
# our namespaces; root's firewall (docker, br_netfilter) never sees the traffic
# and no traffic can leave the machine.
#
# Usage: netns-cluster.sh COMMAND [ARGS]
#   up [N]                  create N nodes (default $N or 3)
#   down                    kill every process in our namespaces, delete them
#   status                  namespaces, addresses, fault rules, qdiscs, pids
#   exec NODE CMD...        run CMD inside node NODE (1..N) in the foreground
#   bg NODE LOG CMD...      run CMD in background inside NODE, output -> LOG,
#                           prints the PID (also kept in $STATE/pids)
#   ip NODE                 print the address of NODE
#   isolate NODE            drop all 10.77/24 traffic to/from NODE (nft, inside
#                           NODE's namespace; link stays up, packets vanish)
#   partition G1 G2 ...     groups of nodes, e.g. "1,2 3": nodes only talk to
#                           nodes in their own group (majority/minority split)
#   oneway FROM TO          drop packets FROM -> TO only (asymmetric partition)
#   heal [NODE|all]         remove partition/loss rules (default all)
#   linkdown NODE / linkup NODE   ip link set eth0 down/up inside NODE
#   netem NODE ARGS...      tc qdisc replace dev eth0 root netem ARGS (needs
#                           sch_netem in the kernel; reports if missing)
#   loss NODE PCT           random drop of PCT% of NODE's inbound+outbound
#                           packets: netem if present, else nft numgen
#   delay NODE MS PORT      add MS ms each way to TCP connections INTO
#                           NODE:PORT: netem if present, else a userspace
#                           proxy (nft redirect PORT -> proxy -> server)
#   rate NODE RATE          token-bucket limit on NODE egress (tc tbf), e.g. 1mbit
#   clear NODE              remove qdiscs and delay proxies of NODE
#   pause NODE / resume NODE     SIGSTOP / SIGCONT every process in NODE
#   kill NODE [SIGNAL]      signal (default KILL) every process in NODE
#   selftest                up 3 nodes, http.server on 1, curl from 2, isolate,
#                           heal, loss, delay, down - all bounded in time
#
# Env: N (nodes, default 3), PFX (namespace prefix, default rnl),
#      STATE (state dir, default /run/runnel-netns),
#      KEEP (nodes, e.g. "4", that isolate/partition never cut off: a client
#      host that keeps reaching every side, as Jepsen's clients do).
#
# Vendored into Runnel from the project's shared tools (docs/decisions.md D83);
# the KEEP variable is Runnel's addition.
set -euo pipefail

PFX=${PFX:-rnl}
HUB=${PFX}hub
BR=${PFX}br0
SUBNET=10.77.0
STATE=${STATE:-/run/runnel-netns}
N=${N:-3}
KEEP=${KEEP:-}
kept() { local k; for k in ${KEEP//,/ }; do [ "$k" = "$1" ] && return 0; done; return 1; }

die() { echo "netns-cluster: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "missing '$1' (apt-get install -y $2)"; }
need ip iproute2

ns()    { echo "${PFX}$1"; }
addr()  { echo "${SUBNET}.$1"; }
nsx()   { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }
nodes() { ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${PFX}[0-9]+$" | sed "s/^${PFX}//" | sort -n; }
check_node() { ip netns list | awk '{print $1}' | grep -qx "$(ns "$1")" || die "no node $1 (run: $0 up)"; }
have_netem() { [ -r /proc/config.gz ] && zcat /proc/config.gz 2>/dev/null | grep -q '^CONFIG_NET_SCH_NETEM=[ym]' && return 0
               # no config exposed: probe on the hub's lo (harmless)
               ip netns exec "$HUB" tc qdisc add dev lo root netem delay 1ms 2>/dev/null &&
               ip netns exec "$HUB" tc qdisc del dev lo root 2>/dev/null; }

cmd_up() {
  local n=${1:-$N}
  [ "$n" -ge 1 ] && [ "$n" -le 250 ] || die "N must be 1..250"
  mkdir -p "$STATE"; : >>"$STATE/pids"
  ip netns list | awk '{print $1}' | grep -qx "$HUB" || ip netns add "$HUB"
  ip -n "$HUB" link set lo up
  ip -n "$HUB" link show "$BR" >/dev/null 2>&1 || ip -n "$HUB" link add "$BR" type bridge
  ip -n "$HUB" link set "$BR" up
  for i in $(seq 1 "$n"); do
    local s; s=$(ns "$i")
    if ip netns list | awk '{print $1}' | grep -qx "$s"; then continue; fi
    ip netns add "$s"
    # create the pair inside the hub, then move one end into the node
    ip -n "$HUB" link add "${PFX}p$i" type veth peer name eth0 netns "$s"
    ip -n "$HUB" link set "${PFX}p$i" master "$BR" up
    ip -n "$s" link set lo up
    ip -n "$s" addr add "$(addr "$i")/24" dev eth0
    ip -n "$s" link set eth0 up
  done
  echo "up: $(nodes | tr '\n' ' ')(bridge $BR in netns $HUB, ${SUBNET}.0/24)"
}

kill_ns_pids() { # $1 namespace, $2 signal
  local p; for p in $(ip netns pids "$1" 2>/dev/null); do kill "-$2" "$p" 2>/dev/null || true; done
}

cmd_down() {
  local i s
  for i in $(nodes); do s=$(ns "$i"); kill_ns_pids "$s" CONT; kill_ns_pids "$s" TERM; done
  sleep 0.5
  for i in $(nodes); do s=$(ns "$i"); kill_ns_pids "$s" KILL; done
  # proxies/backgrounds we started (they live in the namespaces, but be sure)
  if [ -f "$STATE/pids" ]; then
    while read -r p; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null || true; done <"$STATE/pids"
  fi
  for i in $(nodes); do ip netns del "$(ns "$i")"; done
  ip netns list | awk '{print $1}' | grep -qx "$HUB" && { kill_ns_pids "$HUB" KILL; ip netns del "$HUB"; }
  rm -rf "$STATE"
  echo "down: remaining namespaces: $(ip netns list | awk '{print $1}' | grep -E "^${PFX}" | tr '\n' ' ')"
}

cmd_status() {
  local i
  for i in $(nodes); do
    echo "== node $i ($(ns "$i")): $(ip -n "$(ns "$i")" -4 -br addr show dev eth0 | awk '{print $2, $3}')"
    nsx "$i" nft list table inet runnel_fault 2>/dev/null | grep -E 'drop|numgen' | sed 's/^/   nft: /' || true
    ip -n "$(ns "$i")" -br link show eth0 | sed 's/^/   link: /'
    tc -n "$(ns "$i")" qdisc show dev eth0 | sed 's/^/   tc: /'
    echo "   pids: $(ip netns pids "$(ns "$i")" | tr '\n' ' ')"
  done
}

# --- partitions: one nft table per node, chains on input+output ------------
fault_table() { # $1 node: (re)create empty table with input/output chains
  nsx "$1" nft delete table inet runnel_fault 2>/dev/null || true
  nsx "$1" nft -f - <<EOF
table inet runnel_fault {
  chain input  { type filter hook input  priority -10; policy accept; }
  chain output { type filter hook output priority -10; policy accept; }
}
EOF
}
ensure_table() { nsx "$1" nft list table inet runnel_fault >/dev/null 2>&1 || fault_table "$1"; }

drop_peer() { # $1 node, $2 peer node: drop both directions at node $1
  ensure_table "$1"
  nsx "$1" nft add rule inet runnel_fault input  ip saddr "$(addr "$2")" drop
  nsx "$1" nft add rule inet runnel_fault output ip daddr "$(addr "$2")" drop
}

cmd_isolate() {
  check_node "$1"; need nft nftables
  ensure_table "$1"
  local k
  for k in ${KEEP//,/ }; do
    nsx "$1" nft add rule inet runnel_fault input  ip saddr "$(addr "$k")" accept
    nsx "$1" nft add rule inet runnel_fault output ip daddr "$(addr "$k")" accept
  done
  nsx "$1" nft add rule inet runnel_fault input  ip saddr ${SUBNET}.0/24 drop
  nsx "$1" nft add rule inet runnel_fault output ip daddr ${SUBNET}.0/24 drop
  echo "isolated node $1 ($(addr "$1"))"
}

cmd_partition() { # groups like "1,2" "3"
  need nft nftables
  [ $# -ge 2 ] || die "partition needs at least two groups, e.g. partition 1,2 3"
  declare -A grp=()
  local g=0 x
  for arg in "$@"; do g=$((g+1)); for x in ${arg//,/ }; do check_node "$x"; grp[$x]=$g; done; done
  for a in "${!grp[@]}"; do
    fault_table "$a"
    for b in $(nodes); do
      [ "$a" = "$b" ] && continue
      kept "$b" && continue
      # nodes not named in any group are treated as their own group
      if [ "${grp[$b]:-x$b}" != "${grp[$a]}" ]; then drop_peer "$a" "$b"; fi
    done
  done
  echo "partition: $*"
}

cmd_oneway() { # drop packets FROM -> TO (at TO's input and FROM's output)
  check_node "$1"; check_node "$2"; need nft nftables
  ensure_table "$1"; ensure_table "$2"
  nsx "$1" nft add rule inet runnel_fault output ip daddr "$(addr "$2")" drop
  nsx "$2" nft add rule inet runnel_fault input  ip saddr "$(addr "$1")" drop
  echo "oneway: $1 -> $2 dropped"
}

cmd_heal() {
  local t=${1:-all} i
  for i in $( [ "$t" = all ] && nodes || echo "$t" ); do
    check_node "$i"
    nsx "$i" nft delete table inet runnel_fault 2>/dev/null || true
    ip -n "$(ns "$i")" link set eth0 up
  done
  echo "healed: $t"
}

cmd_link() { check_node "$2"; ip -n "$(ns "$2")" link set eth0 "$1"; echo "node $2 eth0 $1"; }

# --- tc / latency / loss -----------------------------------------------------
cmd_netem() {
  local n=$1; shift; check_node "$n"
  if nsx "$n" tc qdisc replace dev eth0 root netem "$@"; then echo "netem on node $n: $*"
  else die "tc netem failed: kernel has no sch_netem (CONFIG_NET_SCH_NETEM); use 'loss'/'delay' fallbacks"; fi
}

cmd_loss() {
  local n=$1 pct=$2; check_node "$n"
  if have_netem; then cmd_netem "$n" loss "${pct}%"; return; fi
  need nft nftables; ensure_table "$n"
  nsx "$n" nft add rule inet runnel_fault input  ip saddr ${SUBNET}.0/24 numgen random mod 100 \< "$pct" drop
  nsx "$n" nft add rule inet runnel_fault output ip daddr ${SUBNET}.0/24 numgen random mod 100 \< "$pct" drop
  echo "loss on node $n: ${pct}% each direction (nft numgen; no netem in this kernel)"
}

write_proxy() {
  mkdir -p "$STATE"
  cat >"$STATE/delayproxy.py" <<'PY'
# TCP proxy that delays every chunk by D seconds per direction, keeping order.
# argv: listen_port target_host target_port delay_ms [lifetime_s]
import asyncio, sys, time
lport, thost, tport, dms = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
life = float(sys.argv[5]) if len(sys.argv) > 5 else 3600.0
D = dms / 1000.0
async def pump(r, w):
    q = asyncio.Queue()
    async def rd():
        while True:
            b = await r.read(65536)
            await q.put((time.monotonic() + D, b))
            if not b: return
    async def wr():
        while True:
            due, b = await q.get()
            dt = due - time.monotonic()
            if dt > 0: await asyncio.sleep(dt)
            if not b:
                try: w.write_eof()
                except Exception: pass
                return
            w.write(b); await w.drain()
    try: await asyncio.gather(rd(), wr())
    except Exception: pass
    finally:
        try: w.close()
        except Exception: pass
async def handle(cr, cw):
    try: sr, sw = await asyncio.open_connection(thost, tport)
    except Exception:
        cw.close(); return
    await asyncio.gather(pump(cr, sw), pump(sr, cw))
async def main():
    srv = await asyncio.start_server(handle, "0.0.0.0", lport)
    async with srv:
        await asyncio.sleep(life)
asyncio.run(main())
PY
}

cmd_delay() {
  local n=$1 ms=$2 port=${3:-}; check_node "$n"
  if have_netem; then cmd_netem "$n" delay "${ms}ms"; return; fi
  [ -n "$port" ] || die "no netem in this kernel: delay needs a TCP PORT for the proxy fallback"
  need nft nftables; need python3 python3; write_proxy
  local lport=$(( port + 20000 ))
  [ "$lport" -le 65535 ] || lport=$(( port - 20000 ))
  nsx "$n" nft delete table ip runnel_delay 2>/dev/null || true
  nsx "$n" nft -f - <<EOF
table ip runnel_delay {
  chain pre { type nat hook prerouting priority -100; policy accept;
              tcp dport $port redirect to :$lport; }
}
EOF
  local py; py=$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || command -v python3 )
  nsx "$n" "$py" "$STATE/delayproxy.py" "$lport" "$(addr "$n")" "$port" "$ms" 3600 \
      >>"$STATE/proxy-$n-$port.log" 2>&1 &
  echo $! >>"$STATE/pids"
  # wait (at most 10 s) until the proxy listens, else connections get RST
  local k; for k in $(seq 1 100); do
    nsx "$n" ss -Hltn "sport = :$lport" | grep -q . && break; sleep 0.1; done
  echo "delay on node $n: +${ms}ms each way on TCP into :$port (userspace proxy pid $!, port $lport; no netem in kernel)"
}

cmd_rate() { check_node "$1"; nsx "$1" tc qdisc replace dev eth0 root tbf rate "$2" burst 32kbit latency 400ms; echo "rate on node $1: $2"; }

cmd_clear() {
  local n=$1; check_node "$n"
  nsx "$n" tc qdisc del dev eth0 root 2>/dev/null || true
  nsx "$n" nft delete table ip runnel_delay 2>/dev/null || true
  # stop delay proxies of this node (they run inside the node namespace)
  local p
  for p in $(ip netns pids "$(ns "$n")"); do
    tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null | grep -q "$STATE/delayproxy.py" && kill "$p" 2>/dev/null || true
  done
  echo "cleared qdisc/delay on node $n"
}

cmd_bg() {
  local n=$1 log=$2; shift 2; check_node "$n"; mkdir -p "$STATE"
  nsx "$n" "$@" >"$log" 2>&1 </dev/null &
  echo $! >>"$STATE/pids"; echo $!
}

cmd_signal_all() { check_node "$1"; kill_ns_pids "$(ns "$1")" "$2"; echo "sent SIG$2 to node $1: $(ip netns pids "$(ns "$1")" | tr '\n' ' ')"; }

# --- selftest ----------------------------------------------------------------
cmd_selftest() {
  local C="$0" ok=0 bad=0
  t() { local want=$1; shift; if "$@" >/dev/null 2>&1; then r=pass; else r=fail; fi
        if [ "$r" = "$want" ]; then ok=$((ok+1)); echo "  ok   ($want) $*"; else bad=$((bad+1)); echo "  BAD  (wanted $want) $*"; fi; }
  need curl curl; need python3 python3; need nft nftables
  "$C" down >/dev/null 2>&1 || true
  "$C" up 3
  mkdir -p "$STATE"; echo hello-from-node1 >"$STATE/index.html"
  "$C" bg 1 "$STATE/http.log" timeout 120 python3 -m http.server 8000 --bind 10.77.0.1 --directory "$STATE" >/dev/null
  for _ in $(seq 1 50); do "$C" exec 2 curl -s -m 1 http://10.77.0.1:8000/index.html >/dev/null 2>&1 && break; sleep 0.1; done
  echo "[1] baseline"
  t pass "$C" exec 2 curl -sf -m 2 http://10.77.0.1:8000/index.html
  t pass "$C" exec 3 ping -c1 -W1 10.77.0.1
  t fail curl -sf -m 2 http://10.77.0.1:8000/index.html          # root ns cannot reach
  echo "[2] isolate 1"
  "$C" isolate 1
  t fail "$C" exec 2 curl -sf -m 2 http://10.77.0.1:8000/index.html
  t pass "$C" exec 2 ping -c1 -W1 10.77.0.3
  echo "[3] heal"
  "$C" heal
  t pass "$C" exec 2 curl -sf -m 2 http://10.77.0.1:8000/index.html
  echo "[4] partition 1,2 | 3"
  "$C" partition 1,2 3
  t pass "$C" exec 2 curl -sf -m 2 http://10.77.0.1:8000/index.html
  t fail "$C" exec 3 curl -sf -m 2 http://10.77.0.1:8000/index.html
  "$C" heal
  echo "[5] oneway 3 -> 1 (SYN never arrives)"
  "$C" oneway 3 1
  t fail "$C" exec 3 curl -sf -m 2 http://10.77.0.1:8000/index.html
  t pass "$C" exec 2 curl -sf -m 2 http://10.77.0.1:8000/index.html
  "$C" heal
  echo "[6] linkdown 1"
  "$C" linkdown 1
  t fail "$C" exec 2 curl -sf -m 2 http://10.77.0.1:8000/index.html
  "$C" linkup 1
  sleep 0.3
  t pass "$C" exec 2 curl -sf -m 2 http://10.77.0.1:8000/index.html
  echo "[7] loss 50% on node 1 (20 pings)"
  "$C" loss 1 50
  "$C" exec 2 ping -c20 -i0.05 -W1 10.77.0.1 | grep -E 'packet loss' || true
  "$C" heal
  echo "[8] delay 200ms on node 1 port 8000"
  "$C" delay 1 200 8000
  sleep 0.5
  local t0 t1; t0=$(date +%s%N)
  t pass "$C" exec 2 curl -sf -m 5 http://10.77.0.1:8000/index.html
  t1=$(date +%s%N); echo "  curl with delay took $(( (t1-t0)/1000000 )) ms (baseline ~10 ms)"
  "$C" clear 1
  t0=$(date +%s%N); "$C" exec 2 curl -sf -m 5 http://10.77.0.1:8000/index.html >/dev/null; t1=$(date +%s%N)
  echo "  after clear: $(( (t1-t0)/1000000 )) ms"
  echo "[9] pause/resume node 1"
  "$C" pause 1 >/dev/null
  t fail "$C" exec 2 curl -sf -m 2 http://10.77.0.1:8000/index.html
  "$C" resume 1 >/dev/null
  t pass "$C" exec 2 curl -sf -m 3 http://10.77.0.1:8000/index.html
  echo "[10] rate 1mbit on node 1"
  "$C" rate 1 1mbit >/dev/null && { "$C" exec 2 curl -sf -m 3 http://10.77.0.1:8000/index.html >/dev/null && echo "  tbf ok"; "$C" clear 1 >/dev/null; }
  "$C" status
  "$C" down
  echo "selftest: $ok ok, $bad bad"
  [ "$bad" -eq 0 ]
}

c=${1:-}; [ -n "$c" ] && shift || true
case "$c" in
  up) cmd_up "${1:-$N}";;
  down) cmd_down;;
  status) cmd_status;;
  exec) [ $# -ge 2 ] || die "exec NODE CMD..."; n=$1; shift; check_node "$n"; nsx "$n" "$@";;
  bg) [ $# -ge 3 ] || die "bg NODE LOG CMD..."; cmd_bg "$@";;
  ip) addr "$1";;
  isolate) cmd_isolate "$1";;
  partition) cmd_partition "$@";;
  oneway) cmd_oneway "$1" "$2";;
  heal) cmd_heal "${1:-all}";;
  linkdown) cmd_link down "$1";;
  linkup) cmd_link up "$1";;
  netem) cmd_netem "$@";;
  loss) cmd_loss "$1" "$2";;
  delay) cmd_delay "$1" "$2" "${3:-}";;
  rate) cmd_rate "$1" "$2";;
  clear) cmd_clear "$1";;
  pause) cmd_signal_all "$1" STOP;;
  resume) cmd_signal_all "$1" CONT;;
  kill) cmd_signal_all "$1" "${2:-KILL}";;
  selftest) cmd_selftest;;
  *) sed -n '2,45p' "$0"; exit 2;;
esac
