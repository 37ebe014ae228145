#!/usr/bin/env bash
# A second, throw-away Docker engine and a local registry, for the tests that simulate fresh CI
# runners (`docker buildx prune -af` between jobs). The wipe happens on this engine only, never
# on the shared one that scripts/engine.sh starts.
#
#   scripts/ci-engine.sh [image ...]   start (idempotent) and copy the images from the main
#                                      engine into the CI engine when missing or different
#   scripts/ci-engine.sh stop          stop the CI engine and the registry (data kept)
#
# The engine: its own dockerd (own --data-root, --exec-root, --pidfile, unix socket, bridge
# `hoardci0` on 172.31.77.0/24 with its own NAT rule; `--iptables=false` so it never touches the
# main engine's chains), containerd image store, managed containerd of its own.
# The registry: Debian's `docker-registry` (installed when missing), run without auth on
# 127.0.0.1:5000 with its storage under the CI root; Docker treats localhost:5000 as HTTP.
# Prints `export DOCKER_HOST=...` for the CI engine on stdout (everything else goes to stderr).
set -euo pipefail

root=${HOARD_CI_ROOT:-/var/lib/hoard-ci}
run=${HOARD_CI_RUN:-/run/hoard-ci}
sock=$run/docker.sock
host=unix://$sock
bridge=hoardci0
subnet=172.31.77
log() { echo "ci-engine: $*" >&2; }

if [ "$(id -u)" != 0 ]; then log "needs root"; exit 1; fi

scripts_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/pidfiles.sh
. "$scripts_dir/pidfiles.sh"
# What identifies our processes in their command lines (pids alone may be stale, see there).
dockerd_text="--exec-root $run/exec"
containerd_text="$run/exec/containerd"
registry_text="$root/registry.yml"

if [ "${1:-}" = stop ]; then
  stop_by_file "$run/dockerd.pid" "$dockerd_text"
  stop_by_file "$run/registry.pid" "$registry_text"
  exit 0
fi

"$scripts_dir/engine.sh" >&2 # the main engine: images are copied from it

mkdir -p "$root" "$run"

# --- registry -------------------------------------------------------------------------------
if ! command -v docker-registry >/dev/null 2>&1; then
  log "installing docker-registry"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-registry >/dev/null
fi
# The package's own service (basic auth, same port) must not hold :5000.
if command -v service >/dev/null 2>&1; then service docker-registry stop >/dev/null 2>&1 || true; fi
if ! pid_of "$run/registry.pid" "$registry_text" >/dev/null; then
  # Everything in it is throw-away (every test and bench run pushes under fresh tags), but it
  # grows with each run and the disk is shared: start over when it passes the limit.
  limit_gb=${HOARD_CI_REGISTRY_MAX_GB:-8}
  if [ -d "$root/registry" ] && [ "$(du -s --block-size=1G "$root/registry" | cut -f1)" -gt "$limit_gb" ]; then
    log "registry storage over ${limit_gb} GB: emptied"
    rm -rf "$root/registry"
  fi
  mkdir -p "$root/registry"
  cat >"$root/registry.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $root/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5000
YML
  setsid nohup docker-registry serve "$root/registry.yml" >"$root/registry.log" 2>&1 </dev/null &
  echo $! >"$run/registry.pid"
fi
for _ in $(seq 1 30); do
  curl -fsS http://127.0.0.1:5000/v2/ >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS http://127.0.0.1:5000/v2/ >/dev/null || { log "registry did not come up:"; tail -n 20 "$root/registry.log" >&2; exit 1; }

# --- engine ---------------------------------------------------------------------------------
if ! ip link show "$bridge" >/dev/null 2>&1; then
  ip link add "$bridge" type bridge
  ip addr add "$subnet.1/24" dev "$bridge"
fi
ip link set "$bridge" up
sysctl -qw net.ipv4.ip_forward=1
iptables -t nat -C POSTROUTING -s "$subnet.0/24" ! -o "$bridge" -j MASQUERADE 2>/dev/null \
  || iptables -t nat -A POSTROUTING -s "$subnet.0/24" ! -o "$bridge" -j MASQUERADE
for dir in "-i $bridge" "-o $bridge"; do
  # shellcheck disable=SC2086
  iptables -C FORWARD $dir -j ACCEPT 2>/dev/null || iptables -I FORWARD $dir -j ACCEPT
done

cat >"$root/daemon.json" <<JSON
{"features":{"containerd-snapshotter":true}}
JSON
if ! DOCKER_HOST=$host docker info >/dev/null 2>&1; then
  stop_by_file "$run/dockerd.pid" "$dockerd_text"
  # Its managed containerd: dockerd waits for one that a stale pid file names, then times out.
  stop_by_file "$run/exec/containerd/containerd.pid" "$containerd_text"
  log "starting the CI dockerd on $host"
  setsid nohup /usr/sbin/dockerd \
    --config-file "$root/daemon.json" \
    --data-root "$root/docker" \
    --exec-root "$run/exec" \
    --pidfile "$run/dockerd.pid" \
    -H "$host" \
    --bridge "$bridge" \
    --iptables=false --ip6tables=false \
    >"$root/dockerd.log" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    DOCKER_HOST=$host docker info >/dev/null 2>&1 && break
    sleep 1
  done
  DOCKER_HOST=$host docker info >/dev/null 2>&1 || { log "CI dockerd did not come up:"; tail -n 30 "$root/dockerd.log" >&2; exit 1; }
fi

# --- images from the main engine --------------------------------------------------------------
for img in "$@"; do
  want=$(docker image inspect -f '{{.Id}}' "$img")
  have=$(DOCKER_HOST=$host docker image inspect -f '{{.Id}}' "$img" 2>/dev/null || true)
  if [ "$want" != "$have" ]; then
    log "loading $img"
    docker save "$img" | DOCKER_HOST=$host docker load -q >&2
  fi
done
echo "export DOCKER_HOST=$host"
