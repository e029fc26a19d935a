#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# The kind cluster the end-to-end suite runs on: one control plane and two
# workers, dual-stack, on a docker network of its own in the documentation
# ranges (addresses.env), so the host sits on the nodes' LAN and plays the client.
#
#   cluster.sh create   the network, then the cluster; returns when every node is Ready
#   cluster.sh delete   the cluster, then the network
#
# Environment:
#   CLUSTER          kind cluster name (default ballast-e2e)
#   NETWORK          docker network name (default ballast-kind)
#   KIND             the kind binary (default: kind on PATH)
#   KIND_NODE_IMAGE  a node image built without a registry (offline/images.sh node):
#                    its own CNI instead of kindnetd (node-image/ballast-cni), and
#                    the etcd tag it carries; unset: kind's default image and CNI
#   KUBECONFIG       where kind writes the cluster's credentials (kind's default otherwise)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=addresses.env
source "$here/addresses.env"
cluster=${CLUSTER:-ballast-e2e}
network=${NETWORK:-ballast-kind}
kind=${KIND:-kind}
say() { echo "cluster.sh: $*" >&2; }

create_network() {
  if docker network inspect "$network" >/dev/null 2>&1; then return; fi
  say "docker network $network: $KIND_SUBNET4, $KIND_SUBNET6"
  # No masquerading: nothing on this network is meant to reach past the host.
  docker network create --driver bridge --ipv6 \
    --subnet "$KIND_SUBNET4" --ip-range "$KIND_CONTAINERS4" --gateway "$KIND_GATEWAY4" \
    --subnet "$KIND_SUBNET6" --ip-range "$KIND_CONTAINERS6" --gateway "$KIND_GATEWAY6" \
    -o com.docker.network.bridge.name="${network:0:13}0" \
    -o com.docker.network.bridge.enable_ip_masquerade=false \
    "$network" >/dev/null
}

config() {
  local own_cni=false
  [[ -n ${KIND_NODE_IMAGE:-} ]] && own_cni=true
  cat <<EOF
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
networking:
  ipFamily: dual
  podSubnet: "$KIND_POD_SUBNETS"
  serviceSubnet: "$KIND_SERVICE_SUBNETS"
  disableDefaultCNI: $own_cni
nodes:
  - role: control-plane
  - role: worker
  - role: worker
kubeadmConfigPatches:
  # kubelet >= 1.35 refuses cgroup v1 hosts unless told otherwise (harmless on v2).
  - |
    kind: KubeletConfiguration
    failCgroupV1: false
kubeadmConfigPatchesJSON6902:
  # A /27 per node: the pod range is one /25 of a documentation /24.
  - group: kubeadm.k8s.io
    version: v1beta4
    kind: ClusterConfiguration
    patch: |
      - op: add
        path: /controllerManager/extraArgs/-
        value: {name: node-cidr-mask-size-ipv4, value: "$KIND_POD_MASK4"}
EOF
  if [[ -n ${KIND_NODE_IMAGE:-} ]]; then
    # That image carries the etcd of versions.env, tagged as what it is (offline/images.sh).
    # shellcheck source=../k8s-bins/versions.env
    source "$here/../k8s-bins/versions.env"
    cat <<EOF
      - op: add
        path: /etcd
        value: {local: {imageTag: "$ETCD_VERSION-0"}}
EOF
  fi
}

create() {
  create_network
  # One that exists already was left by a run that was killed: its containers
  # may not have survived a dockerd restart, and its credentials may be gone.
  if "$kind" get clusters 2>/dev/null | grep -qx "$cluster"; then
    say "kind cluster $cluster exists already (left by an earlier run): deleting it first"
    "$kind" delete cluster --name "$cluster"
  fi
  say "creating kind cluster $cluster (1 control plane, 2 workers${KIND_NODE_IMAGE:+, image $KIND_NODE_IMAGE})"
  local args=(create cluster --name "$cluster" --config -)
  [[ -n ${KIND_NODE_IMAGE:-} ]] && args+=(--image "$KIND_NODE_IMAGE")
  # With kind's CNI, kind waits for the nodes; with ours they turn Ready once ballast-cni has written its configuration.
  [[ -z ${KIND_NODE_IMAGE:-} ]] && args+=(--wait 180s)
  config | KIND_EXPERIMENTAL_DOCKER_NETWORK=$network "$kind" "${args[@]}"
  [[ -n ${KIND_NODE_IMAGE:-} ]] && own_cni_credentials
  say "waiting for every node to be Ready"
  kubectl --context "kind-$cluster" wait --for=condition=Ready node --all --timeout=180s >/dev/null
}

# ballast-cni's kubeconfig on every node (see offline/ballast-cni-rbac.yaml).
own_cni_credentials() {
  local k=(kubectl --context "kind-$cluster") token="" node
  "${k[@]}" apply -f "$here/offline/ballast-cni-rbac.yaml" >/dev/null
  for _ in $(seq 1 50); do
    token=$("${k[@]}" -n kube-system get secret ballast-cni-token -o jsonpath='{.data.token}' | base64 -d)
    [[ -n $token ]] && break
    sleep 0.2
  done
  [[ -n $token ]] || { say "the token of ServiceAccount kube-system/ballast-cni never appeared"; return 1; }
  for node in $("$kind" get nodes --name "$cluster"); do
    docker exec -i "$node" sh -c 'mkdir -p /etc/ballast-cni && cat > /etc/ballast-cni/kubeconfig' <<EOF
apiVersion: v1
kind: Config
clusters: [{name: kind, cluster: {server: "https://$cluster-control-plane:6443", certificate-authority: /etc/kubernetes/pki/ca.crt}}]
users: [{name: ballast-cni, user: {token: "$token"}}]
contexts: [{name: kind, context: {cluster: kind, user: ballast-cni}}]
current-context: kind
EOF
  done
}

delete() {
  # A missing kind would make the delete below a silent no-op, leaving the cluster behind.
  command -v "$kind" >/dev/null || { say "no kind binary at '$kind'"; return 1; }
  "$kind" delete cluster --name "$cluster" >/dev/null 2>&1 || true
  docker network rm "$network" >/dev/null 2>&1 || true
}

case ${1:-} in
  create) create ;;
  delete) delete ;;
  config) config ;;
  *) sed -n '2,18p' "$0" >&2; exit 2 ;;
esac
