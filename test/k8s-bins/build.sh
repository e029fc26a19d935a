#!/usr/bin/env bash
# Builds Kubernetes binaries from the Go module proxy into $BALLAST_CACHE/bin,
# keyed by version, so only the first run pays. Prints that directory.
#
#   build.sh        the lab's: etcd, kube-apiserver, kube-controller-manager, kubectl, helm
#   build.sh kind   those, plus what a kind node image needs (test/kind/): kubelet, kubeadm,
#                   kube-scheduler, kube-proxy, coredns, crictl, pause, kind, and agnhost
#                   (the e2e workload)
#
# The module and build caches live under $HOME/.cache too, so a later CI run
# on the same machine reuses them (a clean clone does not).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${BALLAST_CACHE:-$HOME/.cache/ballast}
bin=$cache/bin
mkdir -p "$bin"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=readonly
export GOMODCACHE=${GOMODCACHE_BALLAST:-$cache/go-mod}
export GOCACHE=${GOCACHE:-$HOME/.cache/go-build}

command -v go >/dev/null || { echo "build.sh: Go is required to build the lab's etcd and kube-apiserver (https://go.dev/dl, 1.26+)" >&2; exit 1; }

# build <set> <module dir> <version> <ldflags> [<name>=]<package>...: builds the
# packages of one wrapper module into $bin/<name>-v<version> (the name defaults
# to the package's last path element), unless a stamp says the same version was
# built from the same go.sum. <set> names the stamp, so one module can hold
# several sets that are built apart (the lab's and kind's).
build() {
  local set=$1 module=$2 version=$3 ldflags=$4; shift 4
  local stamp names=() pkgs=() missing="" arg
  stamp="$bin/.$set-v$version.$(sha256sum "$here/$module/go.sum" | cut -c1-12)"
  for arg in "$@"; do
    if [[ $arg == *=* ]]; then names+=("${arg%%=*}"); pkgs+=("${arg#*=}"); else names+=("$(basename "$arg")"); pkgs+=("$arg"); fi
  done
  for name in "${names[@]}"; do [[ -x $bin/$name-v$version ]] || missing=1; done
  [[ -f $stamp && -z $missing ]] && return
  echo "build.sh: building ${names[*]} v$version (first run only; minutes)" >&2
  local out target; out=$(mktemp -d "$bin/.build.XXXXXX")
  # One package: -o names the file; several: -o is a directory and each is named for its package.
  if ((${#pkgs[@]} == 1)); then target=$out/${names[0]}; else target=$out/; fi
  (cd "$here/$module" && go build -trimpath -ldflags "-s -w $ldflags" -o "$target" "${pkgs[@]}") || { rm -rf "$out"; return 1; }
  for name in "${names[@]}"; do mv "$out/$name" "$bin/$name-v$version"; done
  rmdir "$out"
  touch "$stamp"
}

k=$KUBERNETES_VERSION
minor=${k#*.}; minor=${minor%%.*}
kube_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  kube_ldflags+=" -X $pkg.gitVersion=v$k -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done
build kube kube "$k" "$kube_ldflags" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl
build etcd etcd "$ETCD_VERSION" "" etcd=go.etcd.io/etcd/server/v3
h=$HELM_VERSION
hv=helm.sh/helm/v${h%%.*}/internal/version
build helm helm "$h" "-X $hv.version=v$h -X $hv.gitTreeState=clean" "helm.sh/helm/v${h%%.*}/cmd/helm"

if [[ ${1:-} == kind ]]; then
  build kube-node kube "$k" "$kube_ldflags" \
    k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubeadm k8s.io/kubernetes/cmd/kube-scheduler \
    k8s.io/kubernetes/cmd/kube-proxy k8s.io/kubernetes/test/images/agnhost
  build coredns coredns "$COREDNS_VERSION" "" github.com/coredns/coredns
  build crictl crictl "$CRICTL_VERSION" "-X sigs.k8s.io/cri-tools/pkg/version.Version=v$CRICTL_VERSION" sigs.k8s.io/cri-tools/cmd/crictl
  build kind kind "$KIND_VERSION" "" sigs.k8s.io/kind
  # The pause container is C (kubernetes/build/pause): static, so its image is FROM scratch.
  if [[ ! -x $bin/pause-v$k ]]; then
    src=$(cd "$here/kube" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c
    [[ -f $src ]] || (cd "$here/kube" && go mod download k8s.io/kubernetes)
    gcc -Os -static -DVERSION="v$PAUSE_VERSION-ballast" -o "$bin/pause-v$k.tmp" "$src"
    strip "$bin/pause-v$k.tmp"
    mv "$bin/pause-v$k.tmp" "$bin/pause-v$k"
  fi
fi
echo "$bin"
