#!/usr/bin/env bash
# A private Docker engine for the kind stage, from Debian's docker.io, apart
# from any other dockerd on the machine (own socket, exec root and data root):
#
#   dockerd.sh start    start it (installs docker.io first if dockerd is missing)
#   dockerd.sh stop     stop it (its containers die with it; images stay cached)
#   dockerd.sh host     print its DOCKER_HOST
#
# Images persist in $BALLAST_CACHE/docker, so a second run finds the node and
# base images it built. Docker touches neither iptables nor the host's IP
# forwarding: no default bridge, no NAT, nothing routed off the machine; builds
# use the host's network (--network host) to reach the package registries.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${BALLAST_CACHE:-$HOME/.cache/ballast}
run=/run/ballast-docker
sock=$run/docker.sock
pidfile=$run/dockerd.pid
log=${BALLAST_KIND_LOGS:-/tmp}/dockerd.log
say() { echo "dockerd.sh: $*" >&2; }

running() { [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

# CAP_SYS_RESOURCE is bit 24 of the bounding set.
lacks_sys_resource() { (( (0x$(awk '/^CapBnd:/ {print $2}' /proc/self/status) >> 24 & 1) == 0 )); }

start() {
  if ! command -v dockerd >/dev/null; then
    if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null; then say "dockerd is missing: install docker.io (Debian) or Docker"; exit 1; fi
    say "installing docker.io from Debian"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
  fi
  if running; then stop; fi
  mkdir -p "$run" "$cache/docker"
  local runtime=""
  if lacks_sys_resource; then
    say "this machine's bounding set lacks CAP_SYS_RESOURCE: privileged containers go through $here/runc-without-sys-resource"
    runtime=',"runtimes": {"ballast-runc": {"path": "'$here/runc-without-sys-resource'"}}, "default-runtime": "ballast-runc"'
  fi
  # default-address-pools: a network created without a subnet (nothing of ours
  # does) still lands in a documentation range, never in docker's private defaults.
  cat > "$run/daemon.json" <<EOF
{
  "hosts": ["unix://$sock"],
  "pidfile": "$pidfile",
  "exec-root": "$run/exec",
  "data-root": "$cache/docker",
  "storage-driver": "overlay2",
  "bridge": "none",
  "iptables": false,
  "ip-forward": false,
  "ip-masq": false,
  "default-address-pools": [{"base": "198.51.100.192/26", "size": 28}],
  "log-driver": "json-file",
  "log-opts": {"max-size": "10m", "max-file": "2"}
  $runtime
}
EOF
  say "starting dockerd (log: $log)"
  # setsid: its own session, so a Ctrl-C in the terminal reaches our trap, not dockerd.
  setsid dockerd --config-file "$run/daemon.json" >"$log" 2>&1 < /dev/null &
  for _ in $(seq 1 60); do
    if DOCKER_HOST=unix://$sock docker version >/dev/null 2>&1; then return 0; fi
    kill -0 $! 2>/dev/null || break
    sleep 0.5
  done
  say "dockerd did not come up; the end of $log:"
  tail -n 20 "$log" >&2
  exit 1
}

stop() {
  running || return 0
  local pid; pid=$(cat "$pidfile")
  say "stopping dockerd ($pid)"
  kill "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.5; done
  say "dockerd $pid did not stop in 30 s: killing it"
  kill -9 "$pid" 2>/dev/null || true
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  host) echo "unix://$sock" ;;
  *) sed -n '2,13p' "$0" >&2; exit 2 ;;
esac
