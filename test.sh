#!/usr/bin/env bash
# Runs the whole test suite (what CI runs through .ci/run). Needs the .NET 10 SDK; starts a throwaway PostgreSQL
# (installed from Debian's packages if missing). The statistical oracle's fixtures are committed
# (tests/oracle/fixtures), so python is needed only to regenerate them.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

log="$(mktemp)"
# A real PostgreSQL for the adapter tests, from Debian's packages, on 127.0.0.1 with a throwaway data dir.
pg_env="$(scripts/postgres.sh start)"
eval "$pg_env"
trap 'scripts/postgres.sh stop; rm -f "$log"' EXIT
status=0
dotnet test MetricCompiler.sln -c Release --nologo 2>&1 | tee "$log" || status=$?

# One closing line for CI: the totals over every test project.
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s += $2} END {print s + 0}')
echo
echo "$passed passed, $failed failed, $skipped skipped"
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then
  exit 1
fi
