#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Ballast on a kind cluster on a machine with no container registry (this
# project's CI and development machines), from Debian's packages, the Go
# module proxy and the npm registry only. `scripts/dev kind` runs it.
#
#   run.sh up     build what is missing, start a cluster, install Ballast with a
#                 demo Service, and keep it until Ctrl-C
#   run.sh test   build what is missing, start a cluster, run test/kind/run-e2e.sh
#
# Steps (each prints a line, and logs to $BALLAST_KIND_LOGS/<step>.log):
#   binaries  kubelet, kubeadm, … kind, agnhost from the Go module proxy (test/k8s-bins/build.sh kind)
#   docker    a private dockerd from Debian's docker.io (offline/dockerd.sh); removes
#             a cluster a killed run left in its data root
#   images    Debian base, kind node image, Node.js 24 base, agnhost (offline/images.sh)
#   routes    unreachable routes for every range the cluster uses (addresses.env)
#   cluster   1 control plane + 2 workers on a documentation-range docker network (cluster.sh)
#   e2e|demo  the suite, or an install to play with
# Everything is torn down at the end, on failure and on Ctrl-C: the cluster,
# the network, the routes, the dockerd. What was built stays cached under
# $BALLAST_CACHE (default ~/.cache/ballast), keyed by version.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kind_dir=$(dirname "$here")
root=$(cd "$kind_dir/../.." && pwd)
# shellcheck source=../addresses.env
source "$kind_dir/addresses.env"
# shellcheck source=../../k8s-bins/versions.env
source "$root/test/k8s-bins/versions.env"
mode=${1:-}
[[ $mode == up || $mode == test ]] || { sed -n '2,20p' "$0" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "kind: run as root (dockerd, routes, raw ARP/NDP from the host)" >&2; exit 1; }

logs=${BALLAST_KIND_LOGS:-/tmp/ballast-kind-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$logs"
export BALLAST_KIND_LOGS=$logs
work=$(mktemp -d /tmp/ballast-kind-run.XXXXXX)
export CLUSTER=${CLUSTER:-ballast-e2e} NETWORK=${NETWORK:-ballast-kind}
export DOCKER_HOST KUBECONFIG=$work/kubeconfig DOCKER_BUILDKIT=0
DOCKER_HOST=$("$here/dockerd.sh" host)
started=$(date +%s)
say() { printf 'kind: %s\n' "$*" >&2; }

current="" current_log=""
# step <name> <what> <command...>: runs the command with its output in the
# step's log; prints one line when it starts and one when it ends.
step() {
  local name=$1 what=$2; shift 2
  current=$name current_log=$logs/$name.log
  local t0; t0=$(date +%s)
  say "[$name] $what …"
  "$@" >"$current_log" 2>&1
  say "[$name] done in $(($(date +%s) - t0))s"
  current=""
}

routes_added=()
dockerd_started=""
teardown() {
  local code=$?
  trap - EXIT INT TERM
  if ((code != 0)) && [[ -n $current ]]; then
    say "FAILED in step '$current' (exit $code); its log: $current_log — last lines:"
    tail -n 25 "$current_log" >&2 || true
  fi
  say "tearing down (log: $logs/teardown.log)"
  {
    if [[ -n $dockerd_started ]]; then
      KIND="$work/bin/kind" "$kind_dir/cluster.sh" delete || true
    fi
    for r in "${routes_added[@]}"; do read -ra route <<< "$r"; ip route del "${route[@]}" || true; done
    [[ -n $dockerd_started ]] && "$here/dockerd.sh" stop
    rm -rf "$work"
  } >>"$logs/teardown.log" 2>&1
  local ended=FAILED
  ((code == 0)) && ended=finished
  # Ctrl-C (or a TERM) ending `kind up` between steps is how the demo is meant to end.
  ((code == 130)) && [[ $mode != test && -z $current ]] && ended=stopped
  say "$ended after $(($(date +%s) - started))s; logs in $logs"
  exit "$code"
}
trap teardown EXIT
trap 'exit 130' INT TERM

# The tools, under the names the scripts call them by, from the versioned cache.
tools() {
  local bin
  bin=$("$root/test/k8s-bins/build.sh" kind)
  mkdir -p "$work/bin"
  ln -sf "$bin/kind-v$KIND_VERSION" "$work/bin/kind"
  ln -sf "$bin/kubectl-v$KUBERNETES_VERSION" "$work/bin/kubectl"
  ln -sf "$bin/helm-v$HELM_VERSION" "$work/bin/helm"
}

images() {
  node_image=$("$here/images.sh" node)
  nodejs_image=$("$here/images.sh" nodejs)
  agnhost_image=$("$here/images.sh" agnhost)
  printf '%s\n' "$node_image" "$nodejs_image" "$agnhost_image" > "$work/images"
  docker image ls
}

# Type unreachable, with a high metric: while the docker network exists its
# connected route wins; without it, a packet for these ranges stops here
# instead of following the default route off the machine.
routes() {
  local r
  for r in $KIND_UNREACHABLE; do
    ip route del unreachable "$r" metric 4242 2>/dev/null || true  # left by a run that was killed
    ip route add unreachable "$r" metric 4242
    routes_added+=("unreachable $r metric 4242")
  done
  ip route show type unreachable; ip -6 route show type unreachable
  # The package registries must stay reachable (the image builds fetch from
  # them): a range of ours over one of their addresses is a bug in addresses.env.
  local host addr
  for host in registry.npmjs.org deb.debian.org proxy.golang.org; do
    for addr in $(getent ahosts "$host" | awk '{print $1}' | sort -u); do
      if ! ip route get "$addr" >/dev/null 2>&1; then
        echo "kind: the routes of addresses.env cut $host ($addr) off; pick ranges that leave it out" >&2
        return 1
      fi
    done
  done
}

# After tools: the kind binary that removes a cluster left behind must exist by then.
start_docker() {
  "$here/dockerd.sh" start
  dockerd_started=1
  # A cluster left by a run that was killed hard (its containers are in the cached data root).
  KIND="$work/bin/kind" "$kind_dir/cluster.sh" delete
  docker info
}

demo() {
  local k=(kubectl --context "kind-$CLUSTER")
  "$work/bin/kind" load docker-image "$(sed -n 3p "$work/images")" --name "$CLUSTER"
  docker build -q --network host --build-arg "NODE_IMAGE=$(sed -n 2p "$work/images")" \
    -t ghcr.io/ballast-lb/ballast:0.1.0 "$root"
  "$work/bin/kind" load docker-image ghcr.io/ballast-lb/ballast:0.1.0 --name "$CLUSTER"
  "${k[@]}" apply --server-side -k "$root/deploy"
  "${k[@]}" -n ballast-system rollout status deployment/ballast-controller --timeout=180s
  "${k[@]}" -n ballast-system rollout status daemonset/ballast-speaker --timeout=180s
  for i in $(seq 1 45); do
    "${k[@]}" apply -f - <<EOF && break
apiVersion: ballast.io/v1beta1
kind: L2Advertisement
metadata: {name: demo, namespace: ballast-system}
spec: {ipAddressPools: [demo]}
---
apiVersion: ballast.io/v1beta1
kind: IPAddressPool
metadata: {name: demo, namespace: ballast-system}
spec: {addresses: ["$POOL4", "$POOL6"]}
EOF
    ((i < 45)) || return 1
    sleep 2
  done
  "${k[@]}" create namespace demo
  "${k[@]}" -n demo create deployment demo --image "$(sed -n 3p "$work/images")" --replicas 2 -- /agnhost netexec --http-port=8080
  "${k[@]}" -n demo apply -f - <<EOF
apiVersion: v1
kind: Service
metadata: {name: demo}
spec:
  type: LoadBalancer
  ipFamilyPolicy: RequireDualStack
  selector: {app: demo}
  ports: [{port: 80, targetPort: 8080}]
EOF
  "${k[@]}" -n demo rollout status deployment/demo --timeout=120s
  for _ in $(seq 1 60); do
    ip4=$("${k[@]}" -n demo get service demo -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
    [[ -n $ip4 ]] && curl -fsS --max-time 1 "http://$ip4/hostname" && return 0
    sleep 1
  done
  return 1
}

say "logs in $logs"
step binaries "building the Kubernetes binaries and kind from the Go module proxy (cached: seconds)" tools
export PATH=$work/bin:$PATH
step docker "starting a private dockerd (Debian's docker.io)" start_docker
step images "building the images (cached: seconds)" images
step routes "adding unreachable routes for $KIND_UNREACHABLE" routes
say "images: $(tr '\n' ' ' < "$work/images")"
step cluster "creating the kind cluster $CLUSTER (1 control plane, 2 workers)" \
  env KIND_NODE_IMAGE="$(sed -n 1p "$work/images")" "$kind_dir/cluster.sh" create

if [[ $mode == test ]]; then
  current=e2e current_log=$logs/e2e.log
  say "[e2e] test/kind/run-e2e.sh (its output follows; also in $current_log)"
  NODE_IMAGE=$(sed -n 2p "$work/images") DOCKER_BUILD_NETWORK=host WORKLOAD_IMAGE=$(sed -n 3p "$work/images") \
    RESULTS=${RESULTS:-$logs/kind-e2e.json} "$kind_dir/run-e2e.sh" 2>&1 | tee "$current_log"
  current=""
else
  step demo "installing Ballast (kubectl apply -k deploy/), a pool and a dual-stack demo Service" demo
  ips=$(kubectl --context "kind-$CLUSTER" -n demo get service demo -o jsonpath='{.status.loadBalancer.ingress[*].ip}')
  cat >&2 <<EOF

kind: the cluster is up ($(($(date +%s) - started))s). In another shell:
  export DOCKER_HOST=$DOCKER_HOST KUBECONFIG=$KUBECONFIG PATH=$work/bin:\$PATH
  kubectl get svc -A
  curl http://${ips%% *}/hostname; curl -g 'http://[${ips##* }]/hostname'
  eval "\$(scripts/dev env)"; node cli/ballast.ts status
Ctrl-C removes the cluster, the network, the routes and the dockerd.
EOF
  # In the background and waited for: a foreground sleep would hold off the Ctrl-C trap until it ends.
  while :; do sleep 3600 & wait $!; done
fi
