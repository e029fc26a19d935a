#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Container images built on this machine, with no container registry: each is
# built once and kept in the private dockerd's data root (dockerd.sh), under a
# tag keyed by its versions and by the recipe that made it. Prints the tag.
#
#   images.sh debian   Debian bookworm from debootstrap (the base of the others)
#   images.sh node     a kind node image: kind's base files, Debian's containerd,
#                      runc and CNI plugins, and the Kubernetes images kubeadm needs
#   images.sh nodejs   Debian + Node.js 24 and npm from the npm registry: the
#                      Dockerfile's NODE_IMAGE
#   images.sh agnhost  the e2e workload (agnhost from the Kubernetes module)
#
# Needs DOCKER_HOST set to a running engine, and test/k8s-bins/build.sh kind done.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
# shellcheck source=../../k8s-bins/versions.env
source "$root/test/k8s-bins/versions.env"
cache=${BALLAST_CACHE:-$HOME/.cache/ballast}
bin=$cache/bin
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
node_version=$(tr -d ' \n' < "$root/.node-version")
say() { echo "images.sh: $*" >&2; }
# The package mirrors reached from here fail now and then ("does not have a
# Release file" for a minute): what downloads is tried three times.
retry() { local i; for i in 1 2 3; do "$@" && return; ((i < 3)) && say "failed, trying again: $*" && sleep 10; done; return 1; }
# The legacy builder: Debian's dockerd 20.10 has no BuildKit frontend to offer
# without a registry. RUN steps use the host's network (no docker bridge here).
build() { retry env DOCKER_BUILDKIT=0 docker build --network host --force-rm -q "$@" >/dev/null; }
have() { docker image inspect "$1" >/dev/null 2>&1; }
# A short hash of a recipe (function bodies, files) and versions: part of each tag.
key() { sha256sum | cut -c1-10; }
# Scratch directories and build containers go when the script exits, however it exits.
leftovers=()
# shellcheck disable=SC2317
clean_up() { local x; for x in "${leftovers[@]}"; do if [[ -d $x ]]; then rm -rf "$x"; else docker rm -f "$x" >/dev/null 2>&1; fi; done; }
trap clean_up EXIT
# scratch_dir: a new directory in $dir (not by command substitution: the list of leftovers must see it).
scratch_dir() { mkdir -p "$cache/tmp"; dir=$(mktemp -d "$cache/tmp/image.XXXXXX"); leftovers+=("$dir"); }

debian_tag() { echo "ballast.local/debian:bookworm-$(declare -f build_debian | key)"; }
build_debian() {
  local dir; scratch_dir
  command -v debootstrap >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
  # shellcheck disable=SC2317  # called through retry
  bootstrap() { rm -rf "$dir/rootfs"; debootstrap --variant=minbase --include=ca-certificates bookworm "$dir/rootfs" "$mirror"; }
  retry bootstrap
  cat > "$dir/rootfs/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb ${mirror%/debian}/debian-security bookworm-security main
EOF
  rm -rf "$dir"/rootfs/var/cache/apt/archives/*.deb "$dir"/rootfs/var/lib/apt/lists/*
  tar -C "$dir/rootfs" -c . | docker import --change 'CMD ["bash"]' - "$1"
}

# Tagged as kubeadm expects them for this version (kubeadm config images list),
# except etcd: ours is ETCD_VERSION, and the cluster config points kubeadm at
# that tag (test/kind/cluster.sh), so no image claims a version it is not.
component_images() {
  local k=v$KUBERNETES_VERSION
  echo "registry.k8s.io/kube-apiserver:$k kube-apiserver-$k"
  echo "registry.k8s.io/kube-controller-manager:$k kube-controller-manager-$k"
  echo "registry.k8s.io/kube-scheduler:$k kube-scheduler-$k"
  echo "registry.k8s.io/etcd:$ETCD_VERSION-0 etcd-v$ETCD_VERSION"
  echo "registry.k8s.io/coredns/coredns:v$COREDNS_VERSION coredns-v$COREDNS_VERSION"
  echo "registry.k8s.io/pause:$PAUSE_VERSION pause-$k"
}

node_tag() {
  { declare -f build_node component_images; cat "$here"/node-image/*; echo "$KUBERNETES_VERSION $ETCD_VERSION $COREDNS_VERSION $CRICTL_VERSION $PAUSE_VERSION $KIND_VERSION $(debian_tag)"; } | key |
    sed "s/^/ballast.local\/kind-node:v$KUBERNETES_VERSION-/"
}
build_node() {
  local out=$1 debian; ensure debian; debian=$tag
  local dir; scratch_dir
  local k=v$KUBERNETES_VERSION kind_src
  kind_src=$(cd "$root/test/k8s-bins/kind" && GOMODCACHE=${GOMODCACHE_BALLAST:-$cache/go-mod} GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' sigs.k8s.io/kind)

  # 1. Images the control plane runs. Static binaries need nothing around them;
  # kube-proxy needs iptables, conntrack and ipset.
  say "component images"
  local images=() image binary
  while read -r image binary; do
    mkdir -p "$dir/$binary"
    cp "$bin/$binary" "$dir/$binary/${binary%-v*}"
    local name=${binary%-v*}
    # coredns and pause are started by their image's entrypoint, the others by the command kubeadm writes.
    printf 'FROM scratch\nENV PATH=/usr/local/bin:/\nCOPY %s /usr/local/bin/%s\nENTRYPOINT ["/usr/local/bin/%s"]\n' "$name" "$name" "$name" > "$dir/$binary/Dockerfile"
    case $name in
      coredns) printf 'FROM scratch\nCOPY coredns /coredns\nENTRYPOINT ["/coredns"]\n' > "$dir/$binary/Dockerfile" ;;
      pause) printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' > "$dir/$binary/Dockerfile" ;;
    esac
    build -t "$image" "$dir/$binary"
    images+=("$image")
  done < <(component_images)
  mkdir -p "$dir/kube-proxy"
  cp "$bin/kube-proxy-$k" "$dir/kube-proxy/kube-proxy"
  cat > "$dir/kube-proxy/Dockerfile" <<EOF
FROM $debian
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables conntrack ipset kmod \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY kube-proxy /usr/local/bin/kube-proxy
EOF
  build -t "registry.k8s.io/kube-proxy:$k" "$dir/kube-proxy"
  images+=("registry.k8s.io/kube-proxy:$k")
  # containerd asks for kind's sandbox tag too (its config says pause:3.10).
  docker tag "registry.k8s.io/pause:$PAUSE_VERSION" registry.k8s.io/pause:3.10
  images+=(registry.k8s.io/pause:3.10)
  docker save -o "$dir/images.tar" "${images[@]}"

  # 2. The node's file system: kind's base-image recipe (its images/base/Dockerfile) with Debian's packages.
  say "node file system (kind $KIND_VERSION's base files, Debian packages, kubelet/kubeadm/kubectl/crictl)"
  local ctx=$dir/context
  mkdir -p "$ctx/bin"
  cp -r "$kind_src/images/base/files" "$ctx/kind-files"
  chmod -R u+w "$ctx/kind-files"
  cp "$here"/node-image/* "$ctx/"
  for b in kubelet kubeadm kubectl; do cp "$bin/$b-$k" "$ctx/bin/$b"; done
  cp "$bin/crictl-v$CRICTL_VERSION" "$ctx/bin/crictl"
  build -t "$out-fs" --build-arg "DEBIAN_IMAGE=$debian" --build-arg "KUBERNETES_VERSION=$k" --build-arg "PAUSE_IMAGE=registry.k8s.io/pause:$PAUSE_VERSION" "$ctx"

  # 3. The images go into the node's containerd store, as kind's own node image
  # build does (content only, pinned so the kubelet never collects them).
  say "importing the component images into the node's containerd"
  local container; container=$(docker run -d --entrypoint sleep "$out-fs" infinity)
  leftovers+=("$container")
  docker cp "$dir/images.tar" "$container:/images.tar"
  docker exec "$container" bash -ec '
    (containerd >/tmp/containerd.log 2>&1 &)
    for i in $(seq 1 50); do ctr version >/dev/null 2>&1 && break; sleep 0.2; done
    ctr --namespace=k8s.io images import --label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack /images.tar >/dev/null
    ctr --namespace=k8s.io images list -q
    pkill containerd; for i in $(seq 1 50); do pgrep containerd >/dev/null || break; sleep 0.2; done
    rm -f /images.tar /tmp/containerd.log'
  docker commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' --change 'CMD []' "$container" "$out" >/dev/null
  docker rm -f "$container" >/dev/null
  docker rmi "$out-fs" "${images[@]}" >/dev/null
}

# Certificate authorities this machine adds to Debian's (an egress proxy's, say):
# npm inside a build reaches the registry the way the host's npm does only if
# the image trusts them too.
local_cas() { find /usr/local/share/ca-certificates -name '*.crt' 2>/dev/null | sort; }
nodejs_tag() {
  { declare -f build_nodejs; echo "$node_version $NPM_VERSION $(debian_tag)"; local_cas | xargs -r cat; } | key | sed "s/^/ballast.local\/node:$node_version-/"
}
# What the Dockerfile needs of node:24-bookworm-slim: node and npm on PATH,
# and Node's headers in /usr/local/include for the native addon.
build_nodejs() {
  local debian; ensure debian; debian=$tag
  local dir; scratch_dir
  local arch; case $(uname -m) in x86_64) arch=x64 ;; aarch64) arch=arm64 ;; *) say "no Node.js package for $(uname -m)"; return 1 ;; esac
  (cd "$dir" && retry npm pack --silent "node-linux-$arch@$node_version" "npm@$NPM_VERSION" >/dev/null)
  mkdir -p "$dir/node" "$dir/npm"
  tar xzf "$dir"/node-linux-*.tgz -C "$dir/node" --strip-components=1
  tar xzf "$dir"/npm-*.tgz -C "$dir/npm" --strip-components=1
  rm -f "$dir"/*.tgz "$dir"/node/{README.md,CHANGELOG.md}
  mkdir -p "$dir/cas"
  local_cas | xargs -r cp -t "$dir/cas"
  cat > "$dir/Dockerfile" <<EOF
FROM $debian
COPY cas/ /usr/local/share/ca-certificates/
RUN update-ca-certificates >/dev/null
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
COPY node/bin/node /usr/local/bin/node
COPY node/include /usr/local/include
COPY npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \
 && node --version && npm --version
CMD ["node"]
EOF
  build -t "$1" "$dir"
}

agnhost_tag() { echo "ballast.local/agnhost:v$KUBERNETES_VERSION"; }
build_agnhost() {
  local dir; scratch_dir
  cp "$bin/agnhost-v$KUBERNETES_VERSION" "$dir/agnhost"
  printf 'FROM scratch\nCOPY agnhost /agnhost\nENTRYPOINT ["/agnhost"]\n' > "$dir/Dockerfile"
  build -t "$1" "$dir"
}

# ensure <name>: sets $tag, after building the image if it is missing; older
# tags of the same image are removed.
ensure() {
  local name=$1; tag=$("${name}_tag")
  if ! have "$tag"; then
    say "building $tag"
    "build_$name" "$tag" >&2
    tag=$("${name}_tag")
    have "$tag" || { say "building $tag left no image"; return 1; }
    local repo=${tag%:*} old
    for old in $(docker image ls --format '{{.Repository}}:{{.Tag}}' "$repo"); do
      [[ $old == "$tag" ]] || docker rmi "$old" >/dev/null 2>&1 || true
    done
  fi
}

case ${1:-} in
  debian | node | nodejs | agnhost) ensure "$1"; echo "$tag" ;;
  *) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
