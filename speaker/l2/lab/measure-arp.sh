#!/usr/bin/env bash
# ARP reply latency and responder footprint, between two throwaway network
# namespaces (needs root). Usage, inside `eval "$(scripts/dev env)"`:
#   speaker/l2/lab/measure-arp.sh [requests/s=5000] [seconds=5] [runs=3] [responder script]
# The responder script defaults to the .ts source (Node strips types at run
# time, which costs ~35 MB RSS); pass a type-stripped .js copy to see the
# footprint of the code itself.
set -euo pipefail
rate=${1:-5000} seconds=${2:-5} runs=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
responder=${4:-$here/responder-process.ts}
ns=bl2-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')
fifo=$(mktemp -u /tmp/bl2-fifo.XXXXXX)
cleanup() {
  exec 3>&- 2>/dev/null || true
  [[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null || true
  ip netns del "$ns-node" 2>/dev/null || true
  ip netns del "$ns-client" 2>/dev/null || true
  rm -f "$fifo"
}
trap cleanup EXIT
ip netns add "$ns-node"
ip netns add "$ns-client"
ip link add lan0 netns "$ns-node" type veth peer name lan0 netns "$ns-client"
for side in node client; do ip -n "$ns-$side" link set lo up; ip -n "$ns-$side" link set lan0 up; done
ip -n "$ns-client" addr add 198.51.100.1/24 dev lan0
ip -n "$ns-client" route add 203.0.113.0/24 dev lan0
mkfifo "$fifo"
# `ip netns exec` execs node in place, so $! is the responder itself.
ip netns exec "$ns-node" node "$responder" lan0 < "$fifo" > /dev/null &
pid=$!
exec 3> "$fifo"
echo '{"op":"own","table":[["203.0.113.10","all"]]}' >&3
sleep 2
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$pid/status"; }
echo "responder idle RSS: $(rss)"
hz=$(getconf CLK_TCK)
for run in $(seq "$runs"); do
  before=$(ticks)
  result=$(ip netns exec "$ns-client" node "$here/client-tool.ts" arp-latency lan0 203.0.113.10 "$rate" "$seconds")
  cpu=$(( ($(ticks) - before) * 100 / hz ))
  echo "run $run: $result responder-cpu-s=$(( cpu / 100 )).$(printf %02d $(( cpu % 100 ))) rss=$(rss)"
done
