#!/usr/bin/env bash
# End-to-end test of Ballast on a real kind cluster, for machines with Docker.
#
# NOT RUN IN CI: kind needs a Docker engine, and the machines this project's CI
# and lab run on have none (they run the same checks natively: test/lab/). It
# has therefore never been run by the project's CI; run it on a Linux host with
# Docker, kind, kubectl and curl:
#
#   test/kind/run-e2e.sh            build, install, check, delete everything
#   KEEP=1 test/kind/run-e2e.sh     keep the cluster and network for a look
#
# What it does:
#   1. makes a Docker network in the documentation range 198.51.100.0/24
#      (containers get addresses from 198.51.100.0/25 only), so the pool's
#      198.51.100.200-198.51.100.250 is free and never a real address;
#   2. creates a kind cluster of 3 nodes on it (one control plane, two workers;
#      kind labels its control plane node.kubernetes.io/exclude-from-external-
#      load-balancers, so the workers announce);
#   3. builds the image (Dockerfile) under the tag deploy/ names and loads it
#      into the nodes, then installs with `kubectl apply -k deploy/`;
#   4. applies a pool from the network's range and an L2Advertisement,
#      deploys an echo workload (agnhost netexec) and a LoadBalancer Service;
#   5. checks that the Service got an address from the pool and answers curl
#      from this host (the host sits on the kind bridge: ARP from here);
#   6. failover: deletes the announcing node's speaker pod while curl runs
#      every 50 ms, and checks that traffic came back, reporting the longest gap.
#      FAILOVER=pause pauses the announcing node's container instead (a node
#      that dies without a word).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cluster=${CLUSTER:-ballast-e2e}
network=${NETWORK:-ballast-e2e}
subnet=198.51.100.0/24
container_range=198.51.100.0/25
pool_range=198.51.100.200-198.51.100.250
max_gap_ms=${MAX_GAP_MS:-2000}
failover=${FAILOVER:-delete-pod}
ns=ballast-system
app_ns=ballast-e2e

log() { printf 'e2e: %s\n' "$*" >&2; }
die() { log "FAIL: $*"; exit 1; }

for tool in docker kind kubectl curl; do
  command -v "$tool" >/dev/null || die "$tool is required (this script needs Docker; see docs/install.md)"
done
docker info >/dev/null 2>&1 || die "no Docker engine is reachable"

kctl() { kubectl --context "kind-$cluster" "$@"; }

paused=""
cleanup() {
  local code=$?
  if [[ -n $paused ]]; then docker unpause "$paused" >/dev/null 2>&1 || true; fi
  if [[ -n ${curl_pid:-} ]]; then kill "$curl_pid" 2>/dev/null || true; fi
  if [[ -n ${KEEP:-} ]]; then
    log "KEEP is set: cluster $cluster and network $network are left (kind delete cluster --name $cluster; docker network rm $network)"
  else
    kind delete cluster --name "$cluster" >/dev/null 2>&1 || true
    docker network rm "$network" >/dev/null 2>&1 || true
  fi
  exit "$code"
}
trap cleanup EXIT

# 1. network
if ! docker network inspect "$network" >/dev/null 2>&1; then
  log "creating docker network $network ($subnet)"
  docker network create --driver bridge --subnet "$subnet" --ip-range "$container_range" --gateway 198.51.100.1 "$network" >/dev/null
fi

# 2. cluster
if ! kind get clusters 2>/dev/null | grep -qx "$cluster"; then
  log "creating kind cluster $cluster (3 nodes)"
  KIND_EXPERIMENTAL_DOCKER_NETWORK=$network kind create cluster --name "$cluster" --wait 120s --config - <<'EOF'
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
  - role: worker
  - role: worker
EOF
fi

# 3. image and install
image=$(sed -n 's/^ *image: *\(ghcr.io\/ballast-lb\/ballast:.*\)$/\1/p' "$root/deploy/ballast.yaml" | head -n1)
[[ -n $image ]] || die "no image found in deploy/ballast.yaml"
log "building $image"
docker build -t "$image" "$root"
kind load docker-image "$image" --name "$cluster"
log "installing: kubectl apply -k deploy/"
kctl apply --server-side -k "$root/deploy"
kctl -n "$ns" rollout status deployment/ballast-controller --timeout=180s
kctl -n "$ns" rollout status daemonset/ballast-speaker --timeout=180s

# 4. configuration (retried: the webhook answers once the controller has patched its CA in)
config=$(cat <<EOF
apiVersion: ballast.io/v1beta1
kind: IPAddressPool
metadata: {name: e2e, namespace: $ns}
spec:
  addresses: [$pool_range]
---
apiVersion: ballast.io/v1beta1
kind: L2Advertisement
metadata: {name: e2e, namespace: $ns}
spec:
  ipAddressPools: [e2e]
EOF
)
for i in $(seq 1 30); do
  if kctl apply -f - <<<"$config"; then break; fi
  ((i < 30)) || die "the pool was not accepted"
  sleep 2
done

kctl create namespace "$app_ns" --dry-run=client -o yaml | kctl apply -f -
kctl apply -n "$app_ns" -f - <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: echo}
spec:
  replicas: 2
  selector: {matchLabels: {app: echo}}
  template:
    metadata: {labels: {app: echo}}
    spec:
      containers:
        - name: echo
          image: registry.k8s.io/e2e-test-images/agnhost:2.53
          args: [netexec, --http-port=8080]
          ports: [{containerPort: 8080}]
          readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 2}
---
apiVersion: v1
kind: Service
metadata: {name: echo}
spec:
  type: LoadBalancer
  selector: {app: echo}
  ports: [{port: 80, targetPort: 8080}]
EOF
kctl -n "$app_ns" rollout status deployment/echo --timeout=180s

# 5. address and reachability
ip=""
for _ in $(seq 1 60); do
  ip=$(kctl -n "$app_ns" get service echo -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
  [[ -n $ip ]] && break
  sleep 1
done
[[ -n $ip ]] || die "Service echo got no address; kubectl -n $app_ns describe service echo"
[[ $ip == 198.51.100.2[0-5][0-9] ]] || die "Service echo got $ip, outside the pool $pool_range"
log "Service echo has $ip"
for i in $(seq 1 30); do
  if answer=$(curl -fsS --max-time 1 "http://$ip/hostname"); then break; fi
  ((i < 30)) || die "http://$ip/ did not answer from this host"
  sleep 1
done
log "http://$ip/hostname answered: $answer"

announcer() {
  kctl -n "$ns" get servicel2statuses -o jsonpath="{range .items[?(@.status.serviceName==\"echo\")]}{.status.node}{\"\\n\"}{end}" | head -n1
}
node=$(announcer)
[[ -n $node ]] || die "no ServiceL2Status names the node announcing $ip"
log "announced by $node"

# 6. failover
probe_log=$(mktemp)
(
  while :; do
    if curl -fsS --max-time 0.2 "http://$ip/hostname" >/dev/null 2>&1; then echo "ok $(date +%s%3N)"; else echo "fail $(date +%s%3N)"; fi
    sleep 0.05
  done
) >"$probe_log" &
curl_pid=$!
sleep 2
case $failover in
  delete-pod)
    pod=$(kctl -n "$ns" get pods -l app.kubernetes.io/component=speaker --field-selector "spec.nodeName=$node" -o name)
    log "deleting $pod on $node"
    kctl -n "$ns" delete "$pod" --wait=false
    ;;
  pause)
    log "pausing node $node"
    docker pause "$node" >/dev/null
    paused=$node
    ;;
  *) die "FAILOVER must be delete-pod or pause" ;;
esac
sleep 10
kill "$curl_pid"; wait "$curl_pid" 2>/dev/null || true; curl_pid=""
new_node=$(announcer)
[[ -n $paused ]] && { docker unpause "$paused" >/dev/null; paused=""; }

# Longest stretch without a successful answer, from the probe log.
read -r gap fails < <(awk '
  $1 == "ok" { if (last != "") { g = $2 - last; if (g > max) max = g } last = $2 }
  $1 == "fail" { f++ }
  END { print max + 0, f + 0 }' "$probe_log")
tail -n1 "$probe_log" | grep -q '^ok' || die "traffic to $ip did not come back after the failover (log: $probe_log)"
log "failover ($failover on $node): longest gap between answers ${gap} ms, $fails failed probes; now announced by ${new_node:-?}"
((gap <= max_gap_ms)) || die "longest gap ${gap} ms exceeds ${max_gap_ms} ms"
rm -f "$probe_log"
log "PASS"
