#!/usr/bin/env bash
# Build bench/passthrough (the smallest gateway frontend) into an image like hoard's own: one
# static binary FROM scratch, the same labels (network none, caps) as Dockerfile.frontend.
#   PASSTHROUGH_IMAGE=hoard-passthrough:dev bench/passthrough/image.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
tag=${PASSTHROUGH_IMAGE:-hoard-passthrough:dev}
triple=x86_64-unknown-linux-gnu
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --target "$triple" --example passthrough
ctx=$(mktemp -d /tmp/hoard-passthrough.XXXXXX)
trap 'rm -rf "$ctx"' EXIT
cp "${CARGO_TARGET_DIR:-target}/$triple/release/examples/passthrough" "$ctx/passthrough"
# The labels and layout of hoard's image (Dockerfile.frontend's final stage), another binary.
sed -n '/^FROM scratch/,$p' Dockerfile.frontend \
  | sed -e 's|^COPY --from=builder /hoard /hoard$|COPY passthrough /passthrough|' \
        -e 's|^ENTRYPOINT .*|ENTRYPOINT ["/passthrough"]|' >"$ctx/Dockerfile"
grep -qx 'COPY passthrough /passthrough' "$ctx/Dockerfile" || { echo "passthrough: cannot derive the Dockerfile" >&2; exit 1; }
docker buildx build --builder default --progress=quiet --load -t "$tag" "$ctx" >/dev/null
echo "passthrough: loaded $tag" >&2
