#!/usr/bin/env bash
# End-to-end test of Ballast on a real kind cluster, installed exactly as a
# user installs it: `kubectl apply --server-side -k deploy/`, then once more
# with the Helm chart. Run it as root (the host asks the nodes' LAN who has an
# IP with raw ARP/NDP frames), from a clone set up with `scripts/dev setup`:
#
#   test/kind/run-e2e.sh          on a machine with Docker, kind, kubectl, helm and a registry
#   scripts/dev kind test         here, offline: builds everything first (test/kind/offline/run.sh)
#   KEEP=1 test/kind/run-e2e.sh   keep the cluster and network for a look
#
# What it does:
#   1. a dual-stack kind cluster (1 control plane, 2 workers) on a docker
#      network in the documentation ranges (cluster.sh, addresses.env), unless
#      CLUSTER names one that exists;
#   2. builds the image (Dockerfile; NODE_IMAGE is passed on as its build
#      argument when set) under the tag deploy/ names and loads it into the
#      nodes, with the workload image (agnhost);
#   3. installs with kustomize and runs the whole suite (e2e.kind.test.ts):
#      a dual-stack Service answered by exactly one node's MAC, rolling update
#      of the speakers under traffic, a speaker Pod deleted, a node
#      disconnected and a node paused, externalTrafficPolicy Local following
#      its Pod, the controller's leader deleted while Services change, the
#      webhook refusing an overlapping pool, `ballast status`;
#   4. removes that install, installs with Helm and runs the whole suite again;
#   5. writes the figures to $RESULTS (default /tmp/ballast-kind-e2e.json).
#
# Environment: CLUSTER (ballast-e2e), NETWORK (ballast-kind), KIND (kind),
# KIND_NODE_IMAGE (see cluster.sh), NODE_IMAGE, DOCKER_BUILD_NETWORK (docker
# build --network), WORKLOAD_IMAGE (registry.k8s.io/e2e-test-images/agnhost:2.63),
# FAILOVER_TRIALS (3), RESULTS, KEEP.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
here=$root/test/kind
export CLUSTER=${CLUSTER:-ballast-e2e} NETWORK=${NETWORK:-ballast-kind}
kind=${KIND:-kind}
workload=${WORKLOAD_IMAGE:-registry.k8s.io/e2e-test-images/agnhost:2.63}
results=${RESULTS:-/tmp/ballast-kind-e2e.json}
ns=ballast-system
started=$(date +%s)

step_no=0
step() { step_no=$((step_no + 1)); current="$*"; printf 'e2e: [%d] %s (%ds)\n' "$step_no" "$*" "$(($(date +%s) - started))" >&2; }
die() { printf 'e2e: FAIL: %s\n' "$*" >&2; exit 1; }
current=""

for tool in docker "$kind" kubectl helm node; do
  command -v "$tool" >/dev/null || die "$tool is required (see README.md, \"The lab\" → kind)"
done
[[ $(id -u) == 0 ]] || die "run as root: the e2e sends ARP/NDP from the host (AF_PACKET needs CAP_NET_RAW)"
[[ -d $root/node_modules ]] || die "no node_modules: run scripts/dev setup first"
docker info >/dev/null 2>&1 || die "no Docker engine is reachable"
kctl() { kubectl --context "kind-$CLUSTER" "$@"; }

created=""
cleanup() {
  local code=$?
  if ((code != 0)) && [[ -n $current ]]; then printf 'e2e: FAIL in step "%s" (exit %d)\n' "$current" "$code" >&2; fi
  if [[ -n $created && -z ${KEEP:-} ]]; then
    CLUSTER=$CLUSTER NETWORK=$NETWORK KIND=$kind "$here/cluster.sh" delete
  elif [[ -n $created ]]; then
    printf 'e2e: KEEP is set: cluster %s and network %s stay (test/kind/cluster.sh delete removes them)\n' "$CLUSTER" "$NETWORK" >&2
  fi
  exit "$code"
}
trap cleanup EXIT

if ! "$kind" get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  step "creating kind cluster $CLUSTER"
  created=1
  KIND=$kind "$here/cluster.sh" create
fi

image=$(sed -n 's/^ *image: *\(ghcr.io\/ballast-lb\/ballast:.*\)$/\1/p' "$root/deploy/ballast.yaml" | head -n1)
[[ -n $image ]] || die "no image found in deploy/ballast.yaml"
step "building $image${NODE_IMAGE:+ on $NODE_IMAGE}"
build_args=()
[[ -n ${NODE_IMAGE:-} ]] && build_args+=(--build-arg "NODE_IMAGE=$NODE_IMAGE")
[[ -n ${DOCKER_BUILD_NETWORK:-} ]] && build_args+=(--network "$DOCKER_BUILD_NETWORK")
# Tried three times: the package mirrors a build reaches fail now and then.
for attempt in 1 2 3; do
  docker build "${build_args[@]}" -t "$image" "$root" && break
  ((attempt < 3)) || die "docker build failed three times"
  printf 'e2e: docker build failed, trying again\n' >&2
  sleep 10
done
image_bytes=$(docker image inspect -f '{{.Size}}' "$image")

step "loading $image and $workload into the nodes"
docker image inspect "$workload" >/dev/null 2>&1 || docker pull -q "$workload" >/dev/null
"$kind" load docker-image "$image" "$workload" --name "$CLUSTER" >/dev/null

suite() { # install method
  step "e2e suite on the $1 install"
  (cd "$root" && KIND=$kind KIND_CLUSTER=$CLUSTER KIND_NETWORK=$NETWORK KIND_E2E_INSTALL=$1 \
    KIND_E2E_WORKLOAD_IMAGE=$workload KIND_E2E_FAILOVER_TRIALS=${FAILOVER_TRIALS:-3} KIND_E2E_RESULTS=$results.$1 \
    npx vitest run --config test/kind/vitest.config.ts)
}
rolled_out() {
  kctl -n "$ns" rollout status deployment/ballast-controller --timeout=180s
  kctl -n "$ns" rollout status daemonset/ballast-speaker --timeout=180s
}

step "installing: kubectl apply --server-side -k deploy/"
kctl apply --server-side -k "$root/deploy" >/dev/null
rolled_out
suite kustomize
step "removing the kustomize install"
kctl delete -k "$root/deploy" --wait=true --timeout=180s >/dev/null

step "installing: helm install ballast deploy/helm/ballast"
helm --kube-context "kind-$CLUSTER" install ballast "$root/deploy/helm/ballast" -n "$ns" --create-namespace --wait --timeout 5m >/dev/null
rolled_out
suite helm
step "removing the Helm install"
helm --kube-context "kind-$CLUSTER" uninstall ballast -n "$ns" --wait >/dev/null

node -e '
  const [out, image, bytes, ...files] = process.argv.slice(1);
  const fs = require("node:fs");
  const r = { image, imageBytes: Number(bytes) };
  for (const f of files) r[f.split(".").pop()] = JSON.parse(fs.readFileSync(f, "utf8"));
  fs.writeFileSync(out, JSON.stringify(r, null, 2) + "\n");
' "$results" "$image" "$image_bytes" "$results.kustomize" "$results.helm"
rm -f "$results.kustomize" "$results.helm"
current=""
printf 'e2e: PASS in %ds; figures in %s\n' "$(($(date +%s) - started))" "$results" >&2
