#!/usr/bin/env bash
# Side-by-side comparison with the real peers, in one run, with the neutral harness of ../shared/bench/brokers
# (same clients, same workloads for every broker). Needs root once for peers/install.sh.
#   bench/compare.sh [ROUNDS=3]      with env WORKLOADS="W4n W4p W1 W2 W3 W5" (default W4n) and PEERS (default: the
#                                    peers that speak each workload's protocol: STOMP activemq rabbitmq; MQTT also
#                                    mosquitto nats)
# Writes raw results to $OUT (default /tmp/blazemq-compare.jsonl) and prints the harness's table.
# Before the measured rounds of each workload every broker gets WARMUP (default 1) unrecorded runs of it: the
# harness's runs are short (20-200 k messages, often under a second), so a broker's first run also measures its
# JIT (V8, the JVM, BEAM) and its first segment/queue files; the peers are started fresh for every workload
# (with INTERLEAVE=1, for every round).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
WORKLOADS=${WORKLOADS:-W4n}
PEERS=${PEERS:-}
WARMUP=${WARMUP:-1}
SHARED=${SHARED:-../shared/bench/brokers}
OUT=${OUT:-/tmp/blazemq-compare.jsonl}
[ -d "$SHARED/harness" ] || { echo "no $SHARED: the shared benchmark is not next to the project" >&2; exit 1; }
(cd "$SHARED/harness" && [ -d node_modules ] || npm install --no-audit --no-fund >/dev/null)
[ -d /usr/share/activemq ] && command -v rabbitmq-server >/dev/null || "$SHARED/peers/install.sh"
npm run build --silent
rm -f "$OUT"
declare -A STOMP_PORT=([activemq]=61613 [rabbitmq]=61614)
declare -A MQTT_PORT=([mosquitto]=1883 [activemq]=1884 [rabbitmq]=1885 [nats]=1886)

data=$(mktemp -d)
# The node flags of the bin's shebang (src/cli/main.ts), as `blazemq start` runs.
node $(head -1 dist/cli/main.js | sed -E 's/^#!\S+\s*(-S\s+)?node//') dist/cli/main.js start --data "$data" --stomp 0 --mqtt 0 --native off --http off --ports-file "$data/ports.json" --log-level warn &
BPID=$!
trap 'kill $BPID 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do [ -s "$data/ports.json" ] && break; sleep 0.1; done
port_of() { node -e "console.log(JSON.parse(require('fs').readFileSync('$data/ports.json','utf8')).$1)"; }
BSTOMP=$(port_of stomp)
BMQTT=$(port_of mqtt)

warm_up() {
  [ "$WARMUP" -gt 0 ] || return 0
  node "$SHARED/harness/run.mjs" --target "$1" --workload "$2" --runs "$WARMUP" --label warm-up >/dev/null 2>&1
}

# One measured block of $2 runs of workload $1 per broker, every broker in turn (peers started fresh).
measure_block() {
  local wl=$1 runs=$2 proto peers ours p port
  case $wl in
    W4*) proto=stomp; peers=${PEERS:-activemq rabbitmq}; ours="stomp://127.0.0.1:$BSTOMP" ;;
    *) proto=mqtt; peers=${PEERS:-mosquitto activemq rabbitmq nats}; ours="mqtt://127.0.0.1:$BMQTT" ;;
  esac
  for p in $peers; do
    if [ $proto = stomp ]; then port=${STOMP_PORT[$p]:-}; else port=${MQTT_PORT[$p]:-}; fi
    [ -n "$port" ] || continue
    "$SHARED/peers/start-$p.sh" >/dev/null
    warm_up "$proto://127.0.0.1:$port" "$wl"
    node "$SHARED/harness/run.mjs" --target "$proto://127.0.0.1:$port" --workload "$wl" --runs "$runs" \
      --broker "$p" --label "$p" --out "$OUT" >/dev/null
    "$SHARED/peers/stop-$p.sh" >/dev/null
  done
  warm_up "$ours" "$wl"
  node "$SHARED/harness/run.mjs" --target "$ours" --workload "$wl" --runs "$runs" \
    --broker-pid "$BPID" --label blazemq --out "$OUT" >/dev/null
}

# INTERLEAVE=1: round by round (each broker one run, with its warm-up, per round) instead of each broker's
# rounds in one block. For latency (W5), where the machine's state drifts over minutes by as much as the
# brokers differ: a block measured in a quiet minute would beat one measured in a busy one.
for wl in $WORKLOADS; do
  if [ "${INTERLEAVE:-0}" = 1 ]; then
    for _ in $(seq "$ROUNDS"); do measure_block "$wl" 1; done
  else
    measure_block "$wl" "$ROUNDS"
  fi
done
node "$SHARED/harness/report.mjs" "$OUT"
