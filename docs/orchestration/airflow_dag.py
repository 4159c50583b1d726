"""Airflow DAG: build the metrics and experiment readouts with metricc every morning, and act on the exit code.

metricc's exit codes (docs/orchestration.md):
  0  success: tables swapped in, readouts and run_results.json written
  1  failed run, failed data test or invalid project: nothing was replaced; fix it, do not retry
  2  bad usage (unknown target, option or selector): fix the DAG, do not retry
  3  the warehouse could not be opened or reached: nothing was replaced; retrying is safe

Airflow retries a failed task whatever the cause. ``MetriccBuildOperator`` (a BashOperator calling
``./metricc build --target X``) lets exit 3 fail the usual way, so Airflow retries it, and turns exit 1 and 2 into
``AirflowFailException``, which Airflow never retries. After the build, ``read_decisions`` reads
target/run_results.json and pushes each experiment's decision (and whether it changed) to XCom.

Secrets (warehouse passwords, METRICC_WEBHOOK_URL) come from the worker's environment (or ``env=`` from an Airflow
connection); they are written neither in this file nor in the project's YAML.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta

from airflow import DAG
from airflow.exceptions import AirflowException, AirflowFailException
from airflow.operators.bash import BashOperator
from airflow.operators.python import PythonOperator

PROJECT_DIR = os.environ.get("METRICC_PROJECT_DIR", "/opt/metricc")
TARGET = os.environ.get("METRICC_TARGET", "warehouse")

RETRYABLE = {3}  # the warehouse could not be reached; nothing was replaced
FINAL = {1: "the run, a data test or the project failed", 2: "bad usage: check the target and options"}


class MetriccBuildOperator(BashOperator):
    """``./metricc build``: exit 3 is retried by Airflow, exit 1 and 2 fail at once."""

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowException as error:
            # BashOperator reports "... returned a non-zero exit code N."
            match = re.search(r"exit code (\d+)", str(error))
            code = int(match.group(1)) if match else None
            if code in RETRYABLE:
                raise
            raise AirflowFailException(f"metricc exited {code}: {FINAL.get(code, 'undocumented exit code')}") from error


def read_decisions(**context):
    """Reads target/run_results.json; pushes {experiment: decision} to XCom and logs the changed ones."""
    path = os.path.join(PROJECT_DIR, "target", "run_results.json")
    with open(path, encoding="utf-8") as f:
        run = json.load(f)
    if run["status"] != "success":
        raise AirflowFailException(f"metricc run failed: {run.get('error')}")
    decisions = {}
    for experiment in run.get("experiments", []):
        decisions[experiment["experiment_id"]] = experiment["decision"]
        changed = " (changed)" if experiment["decision_changed"] else ""
        print(f"{experiment['experiment_id']}: {experiment['decision']}{changed}; readout target/{experiment['readouts']['html']}")
    context["ti"].xcom_push(key="decisions", value=decisions)
    return decisions


with DAG(
    dag_id="metricc_build",
    description="metricc build: metric tables and experiment readouts",
    schedule="0 6 * * *",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=5)},
    tags=["metricc"],
) as dag:
    build = MetriccBuildOperator(
        task_id="metricc_build",
        # JSON events (one per line) land in the task log; run_results.json is read by the next task.
        bash_command=f"cd {PROJECT_DIR} && ./metricc build --target {TARGET} --log-format json",
    )
    decisions = PythonOperator(task_id="read_decisions", python_callable=read_decisions)
    build >> decisions
