#!/usr/bin/env bash
# Cross-check the parser cases in testdata/ against the stock Dockerfile frontend built into the
# Docker engine: every testdata/parser/<case>/Dockerfile must be accepted and every
# testdata/parser-negative/<case>/Dockerfile rejected by `docker buildx build --call check`
# (parse, instruction typing and lint; nothing is built or pulled). `# syntax=` lines are removed
# first so the built-in frontend, not a pulled one, reads the file. Lint warnings count as
# accepted (check exits 1 with "Check complete, N warnings"); an `ERROR:` line is a rejection.
# Prints one line per case and exits non-zero on any disagreement. Needs a running engine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/ctx"
bad=0

# verdict FILE -> "accepted ..." or "rejected: <first ERROR line>"
verdict() {
    grep -v '^#[[:space:]]*syntax[[:space:]]*=' "$1" > "$tmp/Dockerfile" || true
    local out
    out=$(docker buildx build --progress=plain --call check -f "$tmp/Dockerfile" "$tmp/ctx" 2>&1) || true
    if grep -q '^ERROR' <<<"$out"; then
        echo "rejected: $(grep -m1 '^ERROR' <<<"$out")"
    else
        echo "accepted $(grep -m1 -o 'Check complete.*' <<<"$out" || true)"
    fi
}

echo "engine: $(docker version --format '{{.Server.Version}}'), buildx: $(docker buildx version)"
for kind in parser parser-negative; do
    for case in "$root/testdata/$kind"/*/; do
        v=$(verdict "$case/Dockerfile")
        want=accepted
        [ "$kind" = parser-negative ] && want=rejected
        mark=ok
        [[ $v == "$want"* ]] || { mark=MISMATCH; bad=1; }
        printf '%-8s %-16s %-40s %s\n' "$mark" "$kind" "$(basename "$case")" "$v"
    done
done
exit $bad
