#!/usr/bin/env bash
# Save BuildKit's build records (per-step start/end times, `docker buildx history logs
# --progress rawjson`) of bench runs while they run: the builder keeps only its most recent
# records (50), and other people's builds on this machine evict ours within a minute or two.
#   bench/harvest_history.sh <run-id or prefix, e.g. 20261122T15> [interval-seconds]   (stop it with kill)
# Writes bench/out/<run-id>/history/<ref>.inspect.json and <ref>.rawjson (`history logs` writes the
# progress to stderr); bench/breakdown.py reads them.
set -u
prefix=$1 every=${2:-3}
bench=$(cd "$(dirname "$0")" && pwd)
while :; do
  docker buildx history ls --format json 2>/dev/null | python3 -c '
import json, re, sys
prefix = sys.argv[1]
for line in sys.stdin:
    try:
        r = json.loads(line)
    except ValueError:
        continue
    m = re.search(r"bench/out/(" + re.escape(prefix) + r"[^/]*)/", r.get("name", ""))
    if m and r.get("status") in ("Completed", "Error", "Canceled"):
        print(m.group(1), r["ref"].split("/")[-1])' "$prefix" | while read -r run ref; do
    out=$bench/out/$run/history
    [ -s "$out/$ref.rawjson" ] && continue
    mkdir -p "$out"
    docker buildx history inspect "$ref" --format json >"$out/$ref.inspect.json" 2>/dev/null &&
      docker buildx history logs --progress rawjson "$ref" >"$out/$ref.rawjson" 2>&1 ||
      rm -f "$out/$ref.inspect.json" "$out/$ref.rawjson"
  done
  sleep "$every"
done
