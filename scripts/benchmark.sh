#!/usr/bin/env bash
# Prints the figures we watch, on the demo project in a scratch copy (nothing in the repo is touched):
#   launcher overhead of ./metricc once built, demo seeding, a full run of the DAG on SQLite, compile, A/A simulation.
# Usage: scripts/benchmark.sh [repetitions]   (default 5; medians are printed)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
reps="${1:-5}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$root/metrics.yml" "$work/"
cp -r "$root/project_template" "$work/"
"$root/metricc" --help >/dev/null   # build once, outside the measurements

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
measure() { # label, command...
  local label="$1"; shift
  local times=()
  for _ in $(seq "$reps"); do
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    times+=("$(awk -v a="$start" -v b="$end" 'BEGIN {print b - a}')")
  done
  printf '%-44s %8.3f s  (median of %d)\n' "$label" "$(printf '%s\n' "${times[@]}" | median)" "$reps"
}

echo "MetricCompiler benchmark on $(nproc) core(s), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
measure "./metricc --version (launcher + start-up)" "$root/metricc" --version
measure "metricc compile (demo, 21 nodes)" "$root/metricc" compile --project-dir "$work"
measure "metricc seed (40k users, ~1.1M events)" "$root/metricc" seed --project-dir "$work"
measure "metricc run (demo DAG + readout, SQLite)" "$root/metricc" run --project-dir "$work"
measure "metricc simulate (1,000 A/A runs)" "$root/metricc" simulate --project-dir "$work" --experiment homepage_cta --runs 1000
