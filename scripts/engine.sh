#!/usr/bin/env bash
# Ensure a Docker engine with BuildKit and the containerd image store is running.
# Reuses a running engine; otherwise installs Docker from Debian's packages (sid pinned low,
# runc from the base suite) and starts dockerd in the background. Idempotent; safe in CI.
set -euo pipefail

log() { echo "engine: $*" >&2; }

if docker info >/dev/null 2>&1; then
  log "reusing the running engine ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  log "no engine is running and installing one needs root"; exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! docker buildx version >/dev/null 2>&1; then
  suite=${HOARD_ENGINE_SUITE:-sid}
  log "installing Docker from Debian $suite"
  if [ ! -f /etc/apt/sources.list.d/hoard-"$suite".sources ]; then
    cat > /etc/apt/sources.list.d/hoard-"$suite".sources <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    cat > /etc/apt/preferences.d/hoard-"$suite" <<PIN
Package: *
Pin: release n=$suite
Pin-Priority: 100
PIN
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  base=$(. /etc/os-release && echo "$VERSION_CODENAME")
  apt-get install -y -qq -o Dpkg::Options::=--force-confold "runc/$base" >/dev/null
  apt-get install -y -qq -o Dpkg::Options::=--force-confold \
    -t "$suite" docker.io containerd docker-buildx tini-static >/dev/null
fi

mkdir -p /etc/docker
if ! grep -q containerd-snapshotter /etc/docker/daemon.json 2>/dev/null; then
  echo '{"features":{"containerd-snapshotter":true}}' > /etc/docker/daemon.json
fi

scripts_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/pidfiles.sh
. "$scripts_dir/pidfiles.sh"
# The main dockerd writes /var/run/docker.pid; the CI engine's dockerd (scripts/ci-engine.sh)
# has its own, so it is not mistaken for this one. Stale pid files from a restored machine
# would stop dockerd ("process is still running") or its containerd from starting.
if ! pid_of /var/run/docker.pid dockerd >/dev/null; then
  drop_stale /var/run/docker.pid dockerd
  drop_stale /var/run/docker/containerd/containerd.pid /var/run/docker/containerd
  log "starting dockerd"
  mkdir -p /var/log
  # Its own session: dockerd must outlive the shell (and process group) that started it.
  setsid nohup /usr/sbin/dockerd >/var/log/hoard-dockerd.log 2>&1 < /dev/null &
fi
for _ in $(seq 1 120); do
  if docker info >/dev/null 2>&1; then
    log "engine ready: $(docker version --format '{{.Server.Version}}'), $(docker info --format '{{.DriverStatus}}')"
    exit 0
  fi
  sleep 1
done
log "dockerd did not come up; last log lines:"; tail -n 30 /var/log/hoard-dockerd.log >&2
exit 1
