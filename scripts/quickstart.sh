#!/usr/bin/env bash
# From a fresh clone to a working hoard build: ensure the engine, the local base images and the
# hoard:dev frontend image, then build examples/hello with it and run the result.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/engine.sh
scripts/bases.sh
scripts/image.sh

echo "quickstart: building examples/hello with ${HOARD_IMAGE:-hoard:dev}" >&2
docker buildx build --builder default --build-arg "BUILDKIT_SYNTAX=${HOARD_IMAGE:-hoard:dev}" \
  -t hoard-example/hello:latest --load examples/hello
docker run --rm hoard-example/hello:latest
