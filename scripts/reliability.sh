#!/usr/bin/env bash
# The reliability figures of docs/reliability.md in one command: the fuzz count and the kill-test count, with their
# failures (zero expected). Exits 1 if either found one.
#   scripts/reliability.sh [fuzz cases, default 100000] [kills per engine, default 30]
# The kill tests run on DuckDB and on a PostgreSQL of their own (scripts/postgres.sh, its own folder and port), each kill
# followed by a recovery run; METRICC_RELIABILITY_SEED (default 1) seeds both.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cases="${1:-100000}"
kills="${2:-30}"
seed="${METRICC_RELIABILITY_SEED:-1}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cd "$root"
dotnet build tests/MetricCompiler.Fuzz -c Release --nologo -v quiet >"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }
dotnet build tests/MetricCompiler.Integration.Tests -c Release --nologo -v quiet >>"$work/build.log" 2>&1 || { cat "$work/build.log" >&2; exit 1; }

echo "fuzz: $cases cases, seed $seed ..." >&2
fuzz_status=0
dotnet run --project tests/MetricCompiler.Fuzz -c Release --no-build -- --cases "$cases" --seed "$seed" >"$work/fuzz.log" 2>&1 || fuzz_status=$?

echo "kill tests: $kills per engine, seed $seed ..." >&2
kill_status=0
METRICC_KILLS="$kills" METRICC_KILL_SEED="$seed" METRICC_KILL_REPORT="$work/kills.log" \
  dotnet test tests/MetricCompiler.Integration.Tests -c Release --no-build --nologo \
  --filter "FullyQualifiedName~MetricCompiler.Integration.Tests.Faults." >"$work/test.log" 2>&1 || kill_status=$?

echo "== reliability (seed $seed) =="
cat "$work/fuzz.log"
if [ -s "$work/kills.log" ]; then cat "$work/kills.log"; else echo "kill tests: no report"; tail -30 "$work/test.log"; fi
if [ "$kill_status" -ne 0 ]; then grep -E "Error Message|Failed " -A3 "$work/test.log" | head -40 || true; fi
if [ "$fuzz_status" -eq 0 ] && [ "$kill_status" -eq 0 ]; then
  echo "result: 0 failures"
else
  echo "result: FAILED (fuzz exit $fuzz_status, kill tests exit $kill_status)"
  exit 1
fi
