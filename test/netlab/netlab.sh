#!/usr/bin/env bash
# netlab.sh - private multicast lab built from Linux network namespaces.
#
# Topology (nothing is configured on the host's own interfaces):
#
#   netns ${P}br : bridge "br0" (multicast_snooping=0, i.e. multicast is flooded)
#                  ports ${P}1-p ... ${P}N-p  (veth peers)
#   netns ${P}i  : eth0 = 10.77.0.i/24 (MTU 1500), lo up,
#                  route 224.0.0.0/4 dev eth0
#
# Usage:
#   ./netlab.sh up [N]                 create N member namespaces (default 5); a failure
#                                      part-way tears down what was made
#   ./netlab.sh down                   kill processes left in the lab's namespaces, then
#                                      delete every namespace with this prefix
#   ./netlab.sh snmp I                 Udp counters of member I (/proc/net/snmp), as
#                                      "Name value" lines (RcvbufErrors = socket overruns)
#   ./netlab.sh status                 list namespaces, addresses, qdiscs
#   ./netlab.sh loss I PCT [in|out]    random UDP loss via nftables in the bridge ns
#                                      (works on kernels without sch_netem):
#                                      in  (default): packets RECEIVED by member I are
#                                           dropped, independently per receiver
#                                           (bridge 'forward' hook, oifname)
#                                      out: packets SENT by member I are dropped before
#                                           flooding, i.e. lost for ALL receivers
#                                           (bridge 'prerouting' hook, iifname)
#                                      PCT may have one decimal: 2, 0.5, 12.5
#   ./netlab.sh loss-all PCT           'in' loss on every member port
#   ./netlab.sh rate I RATE            tbf rate limit on member I egress (e.g. 100mbit)
#   ./netlab.sh netem I [netem args]   e.g. ./netlab.sh netem 2 loss 2% delay 5ms
#                                      applied on egress of eth0 in ns ${P}I
#                                      NEEDS CONFIG_NET_SCH_NETEM (absent on the
#                                      6.18 firecracker kernel this was written on)
#   ./netlab.sh netem-in I [args]      netem on the bridge port facing member I
#   ./netlab.sh netem-all [args]       netem on egress of every member
#   ./netlab.sh isolate I / unisolate I  take member I's bridge port down/up
#                                      (crash-like silence without killing it)
#   ./netlab.sh counters               show nft drop counters
#   ./netlab.sh clear [I|all]          remove loss rules and qdiscs
#   ./netlab.sh exec I cmd ...         run a command inside member I
#   ./netlab.sh partition "1 2" "3 4 5"  split the L2 domain: members of the 2nd
#                                      group are moved to a second bridge br1
#   ./netlab.sh heal                   undo partition (all ports back on br0)
#
# Env: NETLAB_PREFIX (default "grp") - namespace name prefix; tests pass a unique one
#      per run (test/netlab/lab.ts) so parallel runs never share or delete each
#      other's namespaces. It must not end in a digit, so that members of prefix
#      "a-" (a-1, a-2) can never be mistaken for those of another prefix.
#      Interface names are "<prefix><i>-p": keep prefix + digits + 2 <= 15 chars.
#      NETLAB_MTU (default 1500).
#
# Copied from the shared netlab recipe and adapted for the project's tests.
set -euo pipefail

P="${NETLAB_PREFIX:-grp}"
MTU="${NETLAB_MTU:-1500}"
BR_NS="${P}br"
SUBNET="10.77.0"

die() { echo "netlab: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
case "$P" in *[0-9]) die "NETLAB_PREFIX must not end in a digit: $P" ;; esac

ns_exists() { ip netns list | awk '{print $1}' | grep -qx "$1"; }
members() { ip netns list | awk '{print $1}' | grep -E "^${P}[0-9]+$" | sort -V; }

up() {
  local n="${1:-5}"
  [ "$n" -ge 1 ] && [ "$n" -le 250 ] || die "N must be 1..250"
  # never leave half a lab behind
  trap 'echo "netlab: up failed, tearing down" >&2; down >&2' ERR
  if ! ns_exists "$BR_NS"; then
    ip netns add "$BR_NS"
    ip -n "$BR_NS" link set lo up
    ip -n "$BR_NS" link add br0 type bridge
    # flood multicast to every port (no IGMP snooping / querier needed)
    ip -n "$BR_NS" link set br0 type bridge mcast_snooping 0
    ip -n "$BR_NS" link set br0 up
  fi
  for i in $(seq 1 "$n"); do
    local ns="${P}${i}"
    ns_exists "$ns" && continue
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    # create the pair directly in the target namespaces
    ip link add "${P}v${i}" mtu "$MTU" netns "$ns" type veth peer name "${ns}-p" mtu "$MTU" netns "$BR_NS"
    ip -n "$ns" link set "${P}v${i}" name eth0
    ip -n "$ns" addr add "${SUBNET}.${i}/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" route add 224.0.0.0/4 dev eth0
    ip -n "$BR_NS" link set "${ns}-p" master br0
    ip -n "$BR_NS" link set "${ns}-p" up
    # relax reverse-path filtering; allow large socket buffers is host-global
    ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 || true
  done
  trap - ERR
  status
}

down() {
  local ns pids
  # A namespace outlives `ip netns del` while a process still runs in it: end ours first, by pid.
  for ns in $(members) $(ns_exists "$BR_NS" && echo "$BR_NS"); do
    pids="$(ip netns pids "$ns" 2>/dev/null || true)"
    [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
  done
  for ns in $(members); do ip netns del "$ns"; done
  if ns_exists "$BR_NS"; then ip netns del "$BR_NS"; fi
  echo "netlab: torn down (prefix $P)"
}

snmp() {
  ip netns exec "${P}$1" awk '/^Udp:/ { if (!h) { split($0, k); h = 1 } else { for (i = 2; i <= NF; i++) print k[i], $i } }' /proc/net/snmp
}

status() {
  for ns in $(members); do
    printf '%-8s %s  qdisc: %s\n' "$ns" \
      "$(ip -n "$ns" -4 -o addr show dev eth0 | awk '{print $4}')" \
      "$(ip netns exec "$ns" tc qdisc show dev eth0 | head -1)"
  done
}

netem_out() { local i="$1"; shift; ip netns exec "${P}${i}" tc qdisc replace dev eth0 root netem "$@"; }
netem_in()  { local i="$1"; shift; ip netns exec "$BR_NS" tc qdisc replace dev "${P}${i}-p" root netem "$@"; }
nft_br() { ip netns exec "$BR_NS" nft "$@"; }
nft_init() {
  nft_br list table bridge netlab >/dev/null 2>&1 && return 0
  nft_br add table bridge netlab
  nft_br add chain bridge netlab lossin  '{ type filter hook forward priority 0; policy accept; }'
  nft_br add chain bridge netlab lossout '{ type filter hook prerouting priority 0; policy accept; }'
}
# per-mille threshold from a percentage with at most one decimal
permille() { awk -v p="$1" 'BEGIN{ v=int(p*10+0.5); if (v<0||v>1000) exit 1; print v }'; }
loss() {
  local i="$1" pct="$2" dir="${3:-in}" pm
  command -v nft >/dev/null || die "nft not installed (apt-get install nftables)"
  pm="$(permille "$pct")" || die "bad percentage $pct"
  nft_init
  del_rules "$i" "$dir"
  [ "$pm" = 0 ] && return 0
  if [ "$dir" = in ]; then
    nft_br add rule bridge netlab lossin oifname "${P}${i}-p" meta l4proto udp \
      numgen random mod 1000 '<' "$pm" counter drop comment "\"netlab-${i}-in\""
  else
    nft_br add rule bridge netlab lossout iifname "${P}${i}-p" meta l4proto udp \
      numgen random mod 1000 '<' "$pm" counter drop comment "\"netlab-${i}-out\""
  fi
}
del_rules() { # del_rules I [in|out|both]
  local i="$1" dir="${2:-both}" chain h
  nft_br list table bridge netlab >/dev/null 2>&1 || return 0
  for chain in lossin lossout; do
    nft_br -a list chain bridge netlab "$chain" | { grep -E "comment \"netlab-${i}-(${dir/both/in|out})\"" || true; } \
      | sed -E 's/.*# handle ([0-9]+).*/\1/' | while read -r h; do
        nft_br delete rule bridge netlab "$chain" handle "$h"; done
  done
}
clear_one() {
  local i="$1"
  ip netns exec "${P}${i}" tc qdisc del dev eth0 root 2>/dev/null || true
  ip netns exec "$BR_NS" tc qdisc del dev "${P}${i}-p" root 2>/dev/null || true
  command -v nft >/dev/null && del_rules "$i" both
  ip -n "$BR_NS" link set "${P}${i}-p" up 2>/dev/null || true
}

partition() {
  # $1 stays on br0, $2 is moved to br1 (no L2 path between the bridges)
  ip -n "$BR_NS" link show br1 >/dev/null 2>&1 || {
    ip -n "$BR_NS" link add br1 type bridge
    ip -n "$BR_NS" link set br1 type bridge mcast_snooping 0
    ip -n "$BR_NS" link set br1 up
  }
  for i in $2; do ip -n "$BR_NS" link set "${P}${i}-p" master br1; done
}
heal() {
  for ns in $(members); do ip -n "$BR_NS" link set "${ns}-p" master br0; done
}

cmd="${1:-}"; shift || true
case "$cmd" in
  up) up "${1:-5}" ;;
  down|teardown) down ;;
  status) status ;;
  snmp) snmp "$1" ;;
  netem) i="$1"; shift; netem_out "$i" "$@" ;;
  netem-in) i="$1"; shift; netem_in "$i" "$@" ;;
  netem-all) for ns in $(members); do netem_out "${ns#$P}" "$@"; done ;;
  loss) loss "$1" "$2" "${3:-in}" ;;
  loss-all) for ns in $(members); do loss "${ns#$P}" "$1" in; done ;;
  rate) ip netns exec "${P}$1" tc qdisc replace dev eth0 root tbf rate "$2" burst 64kb latency 50ms ;;
  isolate) ip -n "$BR_NS" link set "${P}$1-p" down ;;
  unisolate) ip -n "$BR_NS" link set "${P}$1-p" up ;;
  counters) nft_br list table bridge netlab 2>/dev/null | grep counter || echo "no loss rules" ;;
  clear)
    if [ "${1:-all}" = all ]; then for ns in $(members); do clear_one "${ns#$P}"; done
    else clear_one "$1"; fi ;;
  exec) i="$1"; shift; exec ip netns exec "${P}${i}" "$@" ;;
  partition) partition "$1" "$2" ;;
  heal) heal ;;
  *) sed -n '2,60p' "$0"; exit 1 ;;
esac
