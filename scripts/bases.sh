#!/usr/bin/env bash
# Build and load the local base images the end-to-end tests use. No registry is reachable
# here, so nothing can be pulled: the images are made from Debian packages and `docker import`ed.
#
#   hoard-test/busybox:latest   Debian's busybox-static binary + one hardlink per applet in /bin,
#                               /etc/passwd and /etc/group (root, app uid/gid 1000), /tmp 1777.
#   hoard-test/busybox:multi    the same for linux/amd64 and linux/386 in one image index
#                               (multi-platform tests; i386 runs natively, no emulation).
#   hoard-test/debian:bookworm  debootstrap --variant=minbase bookworm, ca-certificates installed and
#                               the machine's CA certificates added (HTTPS goes through a proxy).
#   tonistiigi/xx:hoard-test    FROM scratch with one script in /usr/bin, as the real xx image.
#
# Idempotent: an image whose label org.hoard.test-base matches BASES_VERSION below (and, for
# debian, the hash of the machine's CA certificates) is kept. The debootstrap tree is cached as
# a tarball under $HOARD_BASES_CACHE (default /var/cache/hoard-bases) so a rebuild takes seconds.
# HOARD_BASES_FORCE=1 rebuilds both images (the debootstrap cache is still used).
set -euo pipefail

BASES_VERSION=1  # bump when the images' contents change, so existing ones are rebuilt
CACHE=${HOARD_BASES_CACHE:-/var/cache/hoard-bases}
PATH_ENV=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CA_DIR=/usr/local/share/ca-certificates

log() { echo "bases: $*" >&2; }

have_image() { # image wanted-label
  local got
  got=$(docker image inspect -f '{{index .Config.Labels "org.hoard.test-base"}}' "$1" 2>/dev/null) || return 1
  [ "$got" = "$2" ] && [ "${HOARD_BASES_FORCE:-0}" != 1 ]
}

apt_updated=0
apt_install() { # package...
  export DEBIAN_FRONTEND=noninteractive
  if [ "$apt_updated" = 0 ]; then apt-get update -qq; apt_updated=1; fi
  apt-get install -y -qq "$@" >/dev/null
}

ca_files() { find "$CA_DIR" -maxdepth 1 -name '*.crt' -type f 2>/dev/null | sort; }
ca_hash() {
  local f
  { for f in $(ca_files); do sha256sum <"$f"; done; } | sha256sum | cut -c1-12
}

# A tar with numeric root ownership and stable order, from a directory.
pack() { # dir out.tar
  tar --numeric-owner --sort=name -C "$1" -cf "$2" .
}

mkdir -p "$CACHE"
work=$(mktemp -d /tmp/hoard-bases.XXXXXX)
trap 'rm -rf "$work"' EXIT

# ---------------------------------------------------------------- busybox
# The busybox-static .deb of one Debian architecture (amd64, i386), downloaded once into $CACHE.
# A foreign architecture's package lists are fetched into a private apt state under $CACHE, so
# the machine's own apt configuration is not touched.
busybox_deb() { # debian-arch
  local arch=$1 deb apt_opts=()
  deb=$(ls "$CACHE"/busybox-static_*_"$arch".deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    if [ "$arch" != "$(dpkg --print-architecture)" ]; then
      local st=$CACHE/apt-$arch
      mkdir -p "$st/lists/partial" "$st/cache/archives/partial"
      apt_opts=(-o "APT::Architecture=$arch" -o "APT::Architectures::=$arch"
        -o "Dir::State::Lists=$st/lists" -o "Dir::Cache=$st/cache" -o Dir::State::status=/dev/null)
      # Some suites' indexes may fail (e.g. a sid mirror mid-sync); the stable one is enough.
      apt-get -qq "${apt_opts[@]}" update >/dev/null 2>&1 || true
    elif [ "$apt_updated" = 0 ]; then
      apt-get update -qq; apt_updated=1
    fi
    # The stable suite's version (bookworm on this machine's sources): pinned by apt's policy.
    (cd "$CACHE" && apt-get download -qq -o APT::Sandbox::User=root "${apt_opts[@]}" "busybox-static:$arch")
    deb=$(ls "$CACHE"/busybox-static_*_"$arch".deb | head -n1)
  fi
  echo "$deb"
}

# A busybox root filesystem from a .deb into DIR: like the official busybox image, every applet
# is a hardlink to /bin/busybox; /etc/passwd and /etc/group (root, app 1000), /tmp 1777.
busybox_root() { # deb dir
  local deb=$1 root=$2 x
  x=$(mktemp -d "$work/deb.XXXXXX")
  dpkg-deb -x "$deb" "$x"
  mkdir -p "$root"/{bin,etc,root,tmp,home/app,usr/bin,usr/sbin,sbin,var,proc,sys,dev}
  install -m 0755 "$x/bin/busybox" "$root/bin/busybox"
  # --list runs the binary: a foreign one (i386) runs natively on x86_64 kernels.
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln "$root/bin/busybox" "$root/bin/$applet"
  done
  cat >"$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/home:/bin/false
PASSWD
  cat >"$root/etc/group" <<'GROUP'
root:x:0:
app:x:1000:
nogroup:x:65534:
GROUP
  chmod 0644 "$root/etc/passwd" "$root/etc/group"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  chmod 0755 "$root/home/app"
  chown 1000:1000 "$root/home/app"
  rm -rf "$x"
}

bb_label="v$BASES_VERSION"
if have_image hoard-test/busybox:latest "$bb_label"; then
  log "hoard-test/busybox:latest is up to date"
else
  log "building hoard-test/busybox:latest"
  deb=$(busybox_deb "$(dpkg --print-architecture)")
  busybox_root "$deb" "$work/busybox"
  pack "$work/busybox" "$work/busybox.tar"
  docker import \
    --change "ENV PATH=$PATH_ENV" \
    --change 'CMD ["sh"]' \
    --change "LABEL org.hoard.test-base=$bb_label" \
    -m "hoard-test busybox from $(basename "$deb")" \
    "$work/busybox.tar" hoard-test/busybox:latest >/dev/null
  log "hoard-test/busybox:latest built"
fi

# ---------------------------------------------------------------- busybox, two platforms
# hoard-test/busybox:multi is one image index for linux/amd64 and linux/386 (the i386 binary runs
# natively on an x86_64 kernel, so multi-platform builds need no emulation). Built by the stock
# frontend from FROM scratch; loading an index needs the containerd image store (engine.sh).
mp_label="v$BASES_VERSION-multi"
if have_image hoard-test/busybox:multi "$mp_label"; then
  log "hoard-test/busybox:multi is up to date"
else
  log "building hoard-test/busybox:multi (linux/amd64, linux/386)"
  ctx=$work/multi
  busybox_root "$(busybox_deb amd64)" "$ctx/amd64"
  busybox_root "$(busybox_deb i386)" "$ctx/386"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
ARG TARGETARCH
COPY \${TARGETARCH}/ /
ENV PATH=$PATH_ENV
LABEL org.hoard.test-base=$mp_label
CMD ["sh"]
DOCKERFILE
  docker buildx build --builder default --quiet --platform linux/amd64,linux/386 \
    -t hoard-test/busybox:multi --load "$ctx" >/dev/null
  log "hoard-test/busybox:multi built"
fi

# ---------------------------------------------------------------- tonistiigi/xx look-alike
# tonistiigi/xx:hoard-test is built like the real xx image (FROM scratch, its scripts in
# /usr/bin) but holds one stand-in script: hoard knows what copying the root of an xx image
# writes (/usr/bin only), and tests check that `COPY --from=xx / /` then blocks no cache.
xx_label="v$BASES_VERSION-xx"
if have_image tonistiigi/xx:hoard-test "$xx_label"; then
  log "tonistiigi/xx:hoard-test is up to date"
else
  ctx=$work/xx
  mkdir -p "$ctx"
  printf '#!/bin/sh\necho "hoard-test stand-in for xx-info"\n' >"$ctx/xx-info"
  chmod 0755 "$ctx/xx-info"
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY xx-info /usr/bin/xx-info
LABEL org.hoard.test-base=$xx_label
DOCKERFILE
  docker buildx build --builder default --quiet -t tonistiigi/xx:hoard-test --load "$ctx" >/dev/null
  log "tonistiigi/xx:hoard-test built"
fi

# ---------------------------------------------------------------- debian
deb_label="v$BASES_VERSION-ca$(ca_hash)"
if have_image hoard-test/debian:bookworm "$deb_label"; then
  log "hoard-test/debian:bookworm is up to date"
else
  log "building hoard-test/debian:bookworm"
  raw=$CACHE/debian-bookworm-minbase.tar
  if [ ! -s "$raw" ]; then
    command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap
    log "debootstrap bookworm (minbase), a few minutes the first time"
    mkdir -p "$work/boot"
    debootstrap --variant=minbase --include=ca-certificates bookworm "$work/boot" \
      http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 || {
        tail -n 40 "$work/debootstrap.log" >&2; exit 1; }
    rm -rf "${work:?}/boot"/var/cache/apt/archives/*.deb "$work/boot"/var/lib/apt/lists/*
    pack "$work/boot" "$raw.partial"
    mv "$raw.partial" "$raw"
    rm -rf "${work:?}/boot"
  fi
  root=$work/debian
  mkdir -p "$root"
  tar --numeric-owner -C "$root" -xf "$raw"
  for f in $(ca_files); do install -m 0644 "$f" "$root$CA_DIR/"; done
  chroot "$root" /usr/sbin/update-ca-certificates >/dev/null
  # Nothing of the host may leak in: debootstrap copies the host's resolv.conf and hostname.
  : >"$root/etc/resolv.conf"
  rm -f "$root/etc/hostname"
  pack "$root" "$work/debian.tar"
  docker import \
    --change "ENV PATH=$PATH_ENV" \
    --change 'CMD ["bash"]' \
    --change "LABEL org.hoard.test-base=$deb_label" \
    -m "hoard-test debian bookworm minbase" \
    "$work/debian.tar" hoard-test/debian:bookworm >/dev/null
  log "hoard-test/debian:bookworm built"
fi
