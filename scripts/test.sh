#!/usr/bin/env bash
# THE test command: engine, `cargo fmt --check` and clippy (warnings are errors), the bounded
# fuzz run, base images, frontend image, then every cargo test target (unit tests, the
# end-to-end comparison against the stock frontend, and the reference-corpus checks when
# ../shared/corpus is there).
# Exits non-zero on any failure. Extra arguments go to the test binaries (after `--`).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/engine.sh

# The real-build tests need room: each run adds several GB of build cache (toolchain layers,
# cargo targets in cache mounts). On a machine whose disk is nearly full, drop BuildKit's
# cache and the untagged images first (the base images stay); the tests then run cold but do not die of ENOSPC.
min_free_gb=${HOARD_TEST_MIN_FREE_GB:-30}
free_gb=$(df -Pk / | awk 'NR==2 { print int($4 / 1048576) }')
if [ "$free_gb" -lt "$min_free_gb" ]; then
  echo "test: only ${free_gb} GB free on /; pruning the BuildKit cache and untagged images" >&2
  docker builder prune -af >/dev/null || true
  # Images that lost their tag to a later build of the same name (tests load under fixed tags).
  docker image prune -f >/dev/null || true
fi

# The habits first, before anything slow: formatting and lints (warnings are errors).
cargo fmt --check
cargo clippy --all-targets --all-features -- -D warnings
# Imports go one way: no file of src/ imports one that imports it back.
command -v python3 >/dev/null || { apt-get update -qq && apt-get install -y -qq python3 >/dev/null; }
python3 scripts/import-cycles.py

# The bounded fuzz run (engine-free, tests/fuzz_mutations.rs): a fresh seed every run, printed
# (HOARD_FUZZ_SEED repeats a run, HOARD_FUZZ_CASES sets its size); the regression cases replay
# first. The full run below replays only those (HOARD_FUZZ_CASES=0): the mutations ran here.
HOARD_FUZZ_SEED=${HOARD_FUZZ_SEED:-$(od -An -N8 -tu8 /dev/urandom | tr -d ' ')}
export HOARD_FUZZ_SEED
cargo test --test fuzz_mutations -- --nocapture

scripts/bases.sh
scripts/image.sh

# The reference-corpus checks (Cargo.toml, feature `reference-corpus`) read data that may not
# be copied into the repository; they run whenever it sits beside the clone.
features=()
corpus_note="reference corpus checks: run"
if [ -d ../shared/corpus/buildkit-parser ] && [ -d ../shared/corpus/real-world ]; then
  features=(--features reference-corpus)
else
  corpus_note="reference corpus checks: NOT RUN (../shared/corpus is absent; parser_corpus, corpus_analysis, explain_corpus and realworld_e2e need it)"
  echo "test: $corpus_note" >&2
fi

log=$(mktemp /tmp/hoard-test.XXXXXX)
trap 'rm -f "$log"' EXIT
# Builds are heavy on 2 cores: at most 2 tests at once. --no-fail-fast: every test binary runs
# (and is counted) even after one fails.
set +e
HOARD_FUZZ_CASES=0 cargo test --all-targets "${features[@]}" --no-fail-fast -- --test-threads="${HOARD_TEST_THREADS:-2}" "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
set -e

# One closing line over all test binaries (cargo prints one `test result:` line per binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1); if ($(i) ~ /^ignored;?$/) s += $(i-1) } }
     END { printf "total: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
echo "$corpus_note"
exit "$rc"
