#!/usr/bin/env bash
# hoard rebuild benchmark: the entry point. Ensures the engine, the base images and the frontend
# image (via scripts/), then runs bench/driver.py (all arguments go to it; --help lists them).
#
#   bench/run.sh                       # every case, 5 repetitions
#   bench/run.sh --reps 3 --cases cargo
#   HOARD_BENCH_IMAGE=hoard:dev HOARD_BENCH_BUILD=none bench/run.sh   # use an image as it is
#   bench/run.sh ci --reps 3           # CI jobs on wiped runners (bench/ci.py -> bench/CI.md)
#
# The frontend image is built from a pristine `git archive` of HOARD_BENCH_REV (default HEAD)
# and loaded as HOARD_BENCH_IMAGE (default hoard:bench), not as hoard:dev: the working tree and
# hoard:dev are shared with whoever else builds and tests on this machine, and a long benchmark
# must measure one known commit. HOARD_BENCH_BUILD=worktree builds from the working tree
# instead, HOARD_BENCH_BUILD=none uses the image as it is.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
log() { echo "bench: $*" >&2; }

for a in "$@"; do case $a in -h|--help) exec python3 bench/driver.py --help ;; esac; done

scripts/engine.sh
scripts/bases.sh

export HOARD_BENCH_IMAGE=${HOARD_BENCH_IMAGE:-hoard:bench}
rev=${HOARD_BENCH_REV:-HEAD}
case ${HOARD_BENCH_BUILD:-archive} in
  archive)
    commit=$(git rev-parse --short=12 "$rev")
    src=$(mktemp -d /tmp/hoard-bench-src.XXXXXX)
    trap 'rm -rf "$src"' EXIT
    git archive "$commit" | tar -x -C "$src"
    log "building $HOARD_BENCH_IMAGE from commit $commit"
    (cd "$src" && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target-bench} \
      HOARD_IMAGE=$HOARD_BENCH_IMAGE scripts/image.sh)
    export HOARD_BENCH_BIN=${CARGO_TARGET_DIR:-$repo/target-bench}/x86_64-unknown-linux-gnu/release/hoard
    ;;
  worktree)
    commit="$(git rev-parse --short=12 HEAD)+worktree"
    [ -z "$(git status --porcelain -- src frontend proto build.rs Cargo.toml Cargo.lock)" ] || commit="$commit(dirty)"
    HOARD_IMAGE=$HOARD_BENCH_IMAGE scripts/image.sh
    export HOARD_BENCH_BIN=${CARGO_TARGET_DIR:-$repo/target}/x86_64-unknown-linux-gnu/release/hoard
    ;;
  none)
    commit="unknown(image as found)"
    docker image inspect "$HOARD_BENCH_IMAGE" >/dev/null
    ;;
  *) log "HOARD_BENCH_BUILD must be archive, worktree or none"; exit 2 ;;
esac
export HOARD_BENCH_COMMIT=$commit

# `bench/run.sh frontend [...]`: what the frontend itself costs (bench/frontend.py). The no-op
# case also runs bench/passthrough (the smallest gateway frontend, as HOARD_BENCH_PASSTHROUGH,
# default hoard-passthrough:bench), built from the same source as the hoard image.
if [ "${1:-}" = frontend ]; then
  shift
  export HOARD_BENCH_PASSTHROUGH=${HOARD_BENCH_PASSTHROUGH:-hoard-passthrough:bench}
  case ${HOARD_BENCH_BUILD:-archive} in
    archive) (cd "$src" && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$repo/target-bench} \
               PASSTHROUGH_IMAGE=$HOARD_BENCH_PASSTHROUGH bench/passthrough/image.sh) ;;
    worktree) PASSTHROUGH_IMAGE=$HOARD_BENCH_PASSTHROUGH bench/passthrough/image.sh ;;
    none) docker image inspect "$HOARD_BENCH_PASSTHROUGH" >/dev/null ;;
  esac
  exec python3 bench/frontend.py "$@"
fi
# `bench/run.sh ci [...]`: CI jobs on fresh runners (bench/ci.py, on scripts/ci-engine.sh's engine).
if [ "${1:-}" = ci ]; then
  shift
  exec python3 bench/ci.py "$@"
fi
python3 bench/driver.py "$@"
