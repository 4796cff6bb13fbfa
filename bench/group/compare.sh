#!/usr/bin/env bash
# compare.sh - BlazeMQ group vs Corosync in the namespace lab, one run (issue 7).
#   needs root, iproute2, nftables, corosync + libcpg-dev (apt-get install -y corosync libcpg-dev nftables)
#   usage: bench/group/compare.sh [--seconds=5] [--out=results.json] [--skip-corosync]
# Builds dist/ (tsc) and cpgbench2 (from ../shared/bench/group or $COROSYNC_BENCH_DIR), then runs
# bench/group/compare.ts, which prints a markdown table (progress as JSON lines on stderr).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "compare.sh: must run as root (network namespaces)" >&2; exit 1; }
for c in ip nft; do command -v "$c" >/dev/null || { echo "compare.sh: $c not found" >&2; exit 1; }; done
src="${COROSYNC_BENCH_DIR:-$(pwd)/../shared/bench/group}"
export COROSYNC_BENCH_DIR="$src"
extra=()
if [[ " $* " != *" --skip-corosync "* ]]; then
  command -v corosync >/dev/null || { echo "compare.sh: corosync not installed (or pass --skip-corosync)" >&2; exit 1; }
  bin="$(mktemp -d)/cpgbench2"
  gcc -O2 -o "$bin" "$src/cpgbench2.c" -lcpg
  extra+=("--cpgbench=$bin")
fi
# tsc emits even when files elsewhere in the tree have type errors; the CLI must exist afterwards.
npx tsc -p tsconfig.json >/dev/null || true
[ -f dist/cli/main.js ] || { echo "compare.sh: build failed" >&2; exit 1; }
exec npx tsx bench/group/compare.ts "${extra[@]}" "$@"
