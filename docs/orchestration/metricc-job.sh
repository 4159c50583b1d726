#!/usr/bin/env bash
# A cron or CI job around `metricc build`: run it, act on the exit code, report the decisions, archive the artifacts.
#
#   docs/orchestration/metricc-job.sh [TARGET]          (from the repository root; TARGET defaults to dev)
#
# Exit codes of metricc (docs/orchestration.md): 0 success; 1 failed run, failed data test or invalid project (fix the
# project or the data: not retried); 2 bad usage (fix the job: not retried); 3 the warehouse could not be opened or
# reached, or the connection was lost: nothing was replaced, so the job retries. This script exits with metricc's code.
#
# Settings (environment):
#   METRICC              the command to run (default ./metricc, the launcher at the repository root)
#   METRICC_PROJECT_DIR  the project folder, holding metrics.yml (default .)
#   METRICC_RETRIES      attempts when the warehouse is unreachable (exit 3; default 3)
#   METRICC_RETRY_WAIT   seconds between attempts (default 60)
#   METRICC_ARCHIVE_DIR  where each run's artifacts are archived (default $METRICC_PROJECT_DIR/archive)
#   PYTHON               the python that reads run_results.json (default python3)
# Secrets (warehouse passwords, METRICC_WEBHOOK_URL) come from the environment too and are never printed here.
set -uo pipefail

target="${1:-${METRICC_TARGET:-dev}}"
project_dir="${METRICC_PROJECT_DIR:-.}"
read -r -a metricc <<<"${METRICC:-./metricc}"
retries="${METRICC_RETRIES:-3}"
retry_wait="${METRICC_RETRY_WAIT:-60}"
archive_dir="${METRICC_ARCHIVE_DIR:-$project_dir/archive}"
python="${PYTHON:-python3}"
results="$project_dir/target/run_results.json"

say() { echo "metricc-job: $*"; }

# Prints each experiment's decision (and what failed) from run_results.json.
report() {
  [ -f "$results" ] || { say "no run_results.json was written"; return; }
  "$python" - "$results" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as f:
    run = json.load(f)
print(f"metricc-job: run {run['status']} in {run['elapsed_seconds']}s")
for r in run["results"]:
    if r["status"] in ("error", "fail"):
        print(f"metricc-job: {r['resource_type']} {r['node']} {r['status']}: {r.get('message')}")
for e in run.get("experiments", []):
    change = ""
    if e["decision_changed"]:
        was = e["previous_decision"]
        change = f" (changed from {was.upper()})" if was else " (first decision)"
    print(f"metricc-job: decision {e['experiment_id']}: {e['decision'].upper()}{change}; readout target/{e['readouts']['html']}")
PY
}

# Keeps this run's artifacts (not the embedded warehouse file) as a dated archive.
archive() {
  mkdir -p "$archive_dir" || return
  local name
  name="$archive_dir/metricc-$target-$(date -u +%Y%m%dT%H%M%SZ)-exit$1.tar.gz"
  local parts=()
  for part in run_results.json manifest.json results readouts compiled; do
    [ -e "$project_dir/target/$part" ] && parts+=("$part")
  done
  [ "${#parts[@]}" -gt 0 ] || return
  tar -czf "$name" -C "$project_dir/target" "${parts[@]}" && say "archived ${parts[*]} to $name"
}

attempt=1
while :; do
  say "attempt $attempt of $retries: ${metricc[*]} build --target $target"
  "${metricc[@]}" build --target "$target" --project-dir "$project_dir" --quiet
  code=$?
  case "$code" in
    0)
      report
      archive 0
      say "success"
      exit 0
      ;;
    3)
      if [ "$attempt" -ge "$retries" ]; then
        say "the warehouse is still unreachable after $attempt attempt(s); giving up (exit 3)"
        exit 3
      fi
      say "the warehouse is unreachable (exit 3); nothing was replaced; retrying in ${retry_wait}s"
      sleep "$retry_wait"
      attempt=$((attempt + 1))
      ;;
    1)
      report
      archive 1
      say "the run failed (exit 1): a node, a data test or the project is wrong; not retried"
      exit 1
      ;;
    2)
      say "bad usage (exit 2): check the job's target and options; not retried"
      exit 2
      ;;
    *)
      say "metricc exited $code, which it does not document; failing"
      exit "$code"
      ;;
  esac
done
