#!/usr/bin/env bash
# Build the hoard frontend image on this machine and load it as $HOARD_IMAGE (default hoard:dev).
# No `rust` image can be pulled here, so the static binary comes from the local toolchain and
# goes into the final stage of Dockerfile.frontend (the only place the labels and entrypoint
# are written), with its `COPY --from=builder` swapped for a COPY from a temporary context.
set -euo pipefail
cd "$(dirname "$0")/.."

tag=${HOARD_IMAGE:-hoard:dev}
triple=x86_64-unknown-linux-gnu
log() { echo "image: $*" >&2; }

log "building the static frontend binary"
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --target "$triple" --bin hoard
bin=${CARGO_TARGET_DIR:-target}/$triple/release/hoard
[ -x "$bin" ] || { log "no binary at $bin"; exit 1; }
if command -v file >/dev/null 2>&1 && file "$bin" | grep -q 'dynamically linked'; then
  log "$bin is dynamically linked; it cannot run in a FROM scratch image"; exit 1
fi

ctx=$(mktemp -d /tmp/hoard-image.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp "$bin" "$ctx/hoard"
sed -n '/^FROM scratch/,$p' Dockerfile.frontend \
  | sed 's|^COPY --from=builder /hoard /hoard$|COPY hoard /hoard|' >"$ctx/Dockerfile"
if ! grep -qx 'COPY hoard /hoard' "$ctx/Dockerfile" || grep -q -- '--from=' "$ctx/Dockerfile"; then
  log "could not derive the image Dockerfile from Dockerfile.frontend's final stage:"
  cat "$ctx/Dockerfile" >&2; exit 1
fi

log "loading $tag"
docker buildx build --builder default --progress=quiet --load -t "$tag" "$ctx" >/dev/null
log "$tag: $(docker image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Labels}}' "$tag")"
