#!/usr/bin/env bash
# Side-by-side comparison with the real peers, in one run, with the neutral harness of ../shared/bench/brokers
# (same clients, same workloads for every broker). Needs root once for peers/install.sh.
#   bench/compare.sh [ROUNDS=3] [WORKLOADS="W4n"] [PEERS="activemq rabbitmq"]
# Writes raw results to $OUT (default /tmp/blazemq-compare.jsonl) and prints the harness's table.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
WORKLOADS=${WORKLOADS:-W4n}
PEERS=${PEERS:-activemq rabbitmq}
SHARED=${SHARED:-../shared/bench/brokers}
OUT=${OUT:-/tmp/blazemq-compare.jsonl}
[ -d "$SHARED/harness" ] || { echo "no $SHARED: the shared benchmark is not next to the project" >&2; exit 1; }
(cd "$SHARED/harness" && [ -d node_modules ] || npm install --no-audit --no-fund >/dev/null)
[ -d /usr/share/activemq ] && command -v rabbitmq-server >/dev/null || "$SHARED/peers/install.sh"
npm run build --silent
rm -f "$OUT"
declare -A STOMP_PORT=([activemq]=61613 [rabbitmq]=61614)

data=$(mktemp -d)
node dist/cli/main.js start --data "$data" --stomp 0 --http off --ports-file "$data/ports.json" --log-level warn &
BPID=$!
trap 'kill $BPID 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 100); do [ -s "$data/ports.json" ] && break; sleep 0.1; done
BPORT=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$data/ports.json','utf8')).stomp)")

for wl in $WORKLOADS; do
  for p in $PEERS; do
    "$SHARED/peers/start-$p.sh" >/dev/null
    node "$SHARED/harness/run.mjs" --target "stomp://127.0.0.1:${STOMP_PORT[$p]}" --workload "$wl" --runs "$ROUNDS" \
      --broker "$p" --label "$p" --out "$OUT" >/dev/null
    "$SHARED/peers/stop-$p.sh" >/dev/null
  done
  node "$SHARED/harness/run.mjs" --target "stomp://127.0.0.1:$BPORT" --workload "$wl" --runs "$ROUNDS" \
    --broker-pid "$BPID" --label blazemq --out "$OUT" >/dev/null
done
node "$SHARED/harness/report.mjs" "$OUT"
