#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager, kubectl and helm from the Go
# module proxy into $BALLAST_CACHE/bin, keyed by version, so only the first run pays.
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

k=$KUBERNETES_VERSION
minor=${k#*.}; minor=${minor%%.*}
kube_stamp="$bin/.kube-v$k.$(sha256sum "$here/kube/go.sum" | cut -c1-12)"
if [[ ! -f $kube_stamp || ! -x $bin/kube-apiserver-v$k || ! -x $bin/kube-controller-manager-v$k || ! -x $bin/kubectl-v$k ]]; then
  echo "build.sh: building kube-apiserver, kube-controller-manager and kubectl v$k (first run only; a few minutes)" >&2
  out=$(mktemp -d "$bin/.build.XXXXXX")
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=v$k -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
  done
  (cd "$here/kube" && go build -trimpath -ldflags "$ldflags" -o "$out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl)
  for b in kube-apiserver kube-controller-manager kubectl; do mv "$out/$b" "$bin/$b-v$k"; done
  rmdir "$out"
  touch "$kube_stamp"
fi

e=$ETCD_VERSION
etcd_stamp="$bin/.etcd-v$e.$(sha256sum "$here/etcd/go.sum" | cut -c1-12)"
if [[ ! -f $etcd_stamp || ! -x $bin/etcd-v$e ]]; then
  echo "build.sh: building etcd v$e (first run only)" >&2
  (cd "$here/etcd" && go build -trimpath -ldflags "-s -w" -o "$bin/etcd-v$e.tmp" go.etcd.io/etcd/server/v3)
  mv "$bin/etcd-v$e.tmp" "$bin/etcd-v$e"
  touch "$etcd_stamp"
fi
h=$HELM_VERSION
helm_stamp="$bin/.helm-v$h.$(sha256sum "$here/helm/go.sum" | cut -c1-12)"
if [[ ! -f $helm_stamp || ! -x $bin/helm-v$h ]]; then
  echo "build.sh: building helm v$h (first run only)" >&2
  hv=helm.sh/helm/v${h%%.*}/internal/version
  (cd "$here/helm" && go build -trimpath -ldflags "-s -w -X $hv.version=v$h -X $hv.gitTreeState=clean" \
    -o "$bin/helm-v$h.tmp" "helm.sh/helm/v${h%%.*}/cmd/helm")
  mv "$bin/helm-v$h.tmp" "$bin/helm-v$h"
  touch "$helm_stamp"
fi
echo "$bin"
