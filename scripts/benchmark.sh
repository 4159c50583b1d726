#!/usr/bin/env bash
# Prints the figures we watch, on the demo project in a scratch copy (nothing in the repo is touched):
#   launcher overhead of ./metricc once built, compile, demo seeding and a full run of the DAG on both embedded engines
#   (DuckDB, the default, and SQLite) with their ratio, A/A simulation.
# Usage: scripts/benchmark.sh [repetitions]   (default 5; medians are printed)
#        scripts/benchmark.sh run [options]   the analysis benchmark on the demo scaled up: `metricc bench run` (floor,
#                                             20-metric analysis, naive way, full build, peak memory; JSON and SVG),
#                                             e.g. `scripts/benchmark.sh run --events 1000000,3000000 --repeat 3`;
#                                             PostgreSQL is measured when the variables of scripts/postgres.sh are set
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${1:-}" = "run" ]; then
  shift
  exec "$root/metricc" bench run --project-dir "$root" "$@"
fi
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
  last="$(printf '%s\n' "${times[@]}" | median)"
  printf '%-48s %8.3f s  (median of %d)\n' "$label" "$last" "$reps"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo "MetricCompiler benchmark on $(nproc) core(s), $(date -u +%Y-%m-%dT%H:%M:%SZ)"
measure "./metricc --version (launcher + start-up)" "$root/metricc" --version
measure "metricc compile (demo project)" "$root/metricc" compile --project-dir "$work"
measure "metricc seed, DuckDB (40k users, ~1.1M events)" "$root/metricc" seed --project-dir "$work" --target dev; duck_seed="$last"
measure "metricc seed, SQLite (40k users, ~1.1M events)" "$root/metricc" seed --project-dir "$work" --target sqlite; sqlite_seed="$last"
measure "metricc run, DuckDB (demo DAG + readout)" "$root/metricc" run --project-dir "$work" --target dev; duck_run="$last"
measure "metricc run, SQLite (demo DAG + readout)" "$root/metricc" run --project-dir "$work" --target sqlite; sqlite_run="$last"
echo "embedded engines: SQLite/DuckDB time ratio: seed $(ratio "$sqlite_seed" "$duck_seed")x, run $(ratio "$sqlite_run" "$duck_run")x"
measure "metricc simulate (1,000 A/A runs)" "$root/metricc" simulate --project-dir "$work" --experiment homepage_cta --runs 1000
