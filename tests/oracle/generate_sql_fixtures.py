#!/usr/bin/python3
"""Fixtures for the warehouse SQL of the statistics engine's inputs, from the same raw data the tests load.

    /usr/bin/python3 tests/oracle/generate_sql_fixtures.py

Writes tests/oracle/sql_fixtures/*.json. Each fixture holds RAW events (what the C# test loads into SQLite, DuckDB
and PostgreSQL) and the figures numpy/scipy compute from them: the per-unit values, the statistics SQL must emit,
the readout comparison (transcribed from the oracle, generate_fixtures.py) and the independent checks (a scipy
bootstrap). Deterministic: running it twice gives byte-identical files.

quantile_experiment.json
  Page-load events (whole milliseconds, so per-unit averages tie) of 2 x 2500 units; a few units have only
  other events and no value. Per unit the value is its average load time (numpy.mean of its events). Per variant
  and metric (P50 primary, P95 guardrail): n, numpy.quantile at p and at the bound levels
  max(1e-8, p - z sqrt(p(1-p)/n)) / min(1 - 1e-8, p + z sqrt(p(1-p)/n)), z = z(0.975); the comparison (gbstats'
  QuantileStatistic, as the oracle transcribes it); scipy.stats.bootstrap of the difference and of the relative lift
  (percentile, 2000 resamples) with the oracle's tolerance; the P95 guardrail status (fixed horizon and sequential).
"""

import json
import math
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate_fixtures as oracle  # noqa: E402  (the oracle's transcriptions; importing runs nothing)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_DIR = os.path.join(HERE, "sql_fixtures")
HEADER = dict(oracle.HEADER, generator="tests/oracle/generate_sql_fixtures.py")


def quantile_experiment():
    rng = np.random.default_rng(20261203)
    units = []
    per_unit = {"control": [], "treatment": []}
    for variant, effect, count in [("control", 1.0, 2500), ("treatment", 1.03, 2500)]:
        for i in range(count):
            unit = "%s_%05d" % (variant[0], i)
            if rng.random() < 0.02:  # only other events: no value, left out of n
                units.append({"unit": unit, "variant": variant, "loads": []})
                continue
            k = int(rng.integers(1, 4))
            loads = [float(v) for v in np.round(rng.lognormal(6.0, 0.45, k) * effect)]
            units.append({"unit": unit, "variant": variant, "loads": loads})
            per_unit[variant].append(float(np.mean(loads)))
    metrics = [
        {"name": "load_p50", "level": 0.5, "role": "primary"},
        {"name": "load_p95", "level": 0.95, "role": "guardrail", "harmful_direction": "increase", "margin": 0.08},
    ]
    statistics, comparisons, bootstraps, guardrails = {}, {}, {}, {}
    for m in metrics:
        arms = {v: oracle.Arm(y=np.array(per_unit[v])) for v in ("control", "treatment")}
        metric = oracle.Metric(m["name"], "quantile", arms, level=m["level"])
        statistics[m["name"]] = {}
        for v in ("control", "treatment"):
            qi = oracle.quantile_inputs(arms[v].y, m["level"], "exact")
            statistics[m["name"]][v] = {"n": qi["n"], "quantile": qi["q"], "quantile_lower": qi["lower"], "quantile_upper": qi["upper"]}
        comparison, _ = oracle.comparison(metric, "control", "treatment", 0.05, "frequentist", 5000.0, None, "relative")
        comparisons[m["name"]] = comparison
        bootstraps[m["name"]] = oracle.bootstrap_check(metric, "control", "treatment", 0.05, seed=77)
        if m["role"] == "guardrail":
            guardrails[m["name"]] = {
                method: oracle.guardrail_expected(metric, "control", "treatment", m["harmful_direction"], m["margin"], 0.05, method)
                for method in ("frequentist", "sequential")}
    return {
        "header": HEADER,
        "description": "per-unit average load times; statistics SQL, readout comparison and guardrail of P50 and P95",
        "tolerances": {"statistics": 1e-9, "comparison": 1e-6, "bootstrap_std_error": oracle.BOOTSTRAP_SE_TOLERANCE,
                       "bootstrap_endpoint_half_widths": oracle.BOOTSTRAP_ENDPOINT_TOLERANCE},
        "metrics": metrics,
        "units": units,
        "statistics": statistics,
        "comparisons": comparisons,
        "bootstrap": bootstraps,
        "guardrails": guardrails,
    }


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, body in [("quantile_experiment", quantile_experiment())]:
        path = os.path.join(OUT_DIR, name + ".json")
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(json.dumps(body, indent=None, separators=(",", ":"), allow_nan=False) + "\n")
        print("wrote", os.path.relpath(path, HERE))


if __name__ == "__main__":
    np.seterr(all="ignore")
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    main()
