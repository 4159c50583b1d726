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

covariates_experiment.json
  Page views and purchases of 2 x 1500 units before (14 days) and after exposure. `views` (count) and `purchased`
  (proportion) adjusted by both pre-period counts: theta from statsmodels OLS(y ~ 1 + X) on the pooled arms, the
  effect and its SE from OLS(y - X theta ~ 1 + T) with HC2 (the oracle's regression_moments).

attribute_covariates_experiment.json
  Page views of 2 x 800 units before and after exposure and two unit attributes from a users source: `country`
  (categorical, levels US, DE, FR: one-hot of DE and FR, US the reference; other countries and nulls are all zeros)
  and `age` (numeric, some null: 0 plus a missing indicator). `views` adjusted by views__pre, country__de,
  country__fr, age__attr, age__missing together, as covariates_experiment.
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


def covariates_experiment():
    """Per unit: page views and purchases in the 14 days before exposure and after it, correlated through the unit's
    activity. Metrics `views` (count) and `purchased` (proportion) are adjusted by both pre-period counts together."""
    rng = np.random.default_rng(20261204)
    units = []
    data = {"control": [], "treatment": []}
    for variant, effect, count in [("control", 1.0, 1500), ("treatment", 1.06, 1500)]:
        for i in range(count):
            activity = float(rng.lognormal(0.0, 0.6))
            row = {"unit": "%s_%05d" % (variant[0], i), "variant": variant,
                   "pre_views": int(rng.poisson(3 * activity)), "pre_purchases": int(rng.poisson(0.4 * activity)),
                   "views": int(rng.poisson(3 * activity * effect)), "purchases": int(rng.poisson(0.4 * activity * effect))}
            units.append(row)
            data[variant].append(row)
    names = ["views__pre", "purchases__pre"]
    comparisons = {}
    for metric, column, kind in [("views", "views", "mean"), ("purchased", "purchases", "proportion")]:
        arms = {}
        for v in ("control", "treatment"):
            y = np.array([float(r[column]) for r in data[v]])
            if kind == "proportion":
                y = (y > 0).astype(float)
            X = np.column_stack([[float(r["pre_views"]) for r in data[v]], [float(r["pre_purchases"]) for r in data[v]]])
            arms[v] = oracle.Arm(y=y, X=X)
        m = oracle.Metric(metric, kind, arms, covariate_names=names)
        comparisons[metric], _ = oracle.comparison(m, "control", "treatment", 0.05, "frequentist", 5000.0, None, "relative")
    return {
        "header": HEADER,
        "description": "pre-period page views and purchases as two covariates of a count and a proportion; theta from statsmodels OLS on the pooled arms, effect and SE from OLS with HC2",
        "tolerances": {"comparison": 1e-6},
        "covariates": names,
        "units": units,
        "comparisons": comparisons,
    }


def attribute_covariates_experiment():
    """Per unit: page views before and after exposure, a country and an age (both sometimes null) that shift the
    unit's activity. `views` (count) is adjusted by its pre-period value and the attributes' design columns."""
    rng = np.random.default_rng(20261205)
    countries = ["US", "DE", "FR", "BR", None]
    country_effect = {"US": 1.0, "DE": 1.5, "FR": 0.7, "BR": 1.2, None: 1.0}
    units = []
    data = {"control": [], "treatment": []}
    for variant, effect, count in [("control", 1.0, 800), ("treatment", 1.05, 800)]:
        for i in range(count):
            country = countries[int(rng.integers(0, len(countries)))]
            age = None if rng.random() < 0.15 else int(rng.integers(18, 70))
            activity = float(rng.lognormal(0.0, 0.5)) * country_effect[country] * (1.0 + (0 if age is None else (age - 40) / 50.0))
            row = {"unit": "%s_%05d" % (variant[0], i), "variant": variant, "country": country, "age": age,
                   "pre_views": int(rng.poisson(3 * activity)), "views": int(rng.poisson(3 * activity * effect))}
            units.append(row)
            data[variant].append(row)
    names = ["views__pre", "country__de", "country__fr", "age__attr", "age__missing"]

    def design(r):
        return [float(r["pre_views"]), 1.0 if r["country"] == "DE" else 0.0, 1.0 if r["country"] == "FR" else 0.0,
                0.0 if r["age"] is None else float(r["age"]), 1.0 if r["age"] is None else 0.0]

    arms = {}
    for v in ("control", "treatment"):
        arms[v] = oracle.Arm(y=np.array([float(r["views"]) for r in data[v]]), X=np.array([design(r) for r in data[v]]))
    m = oracle.Metric("views", "mean", arms, covariate_names=names)
    comparison, _ = oracle.comparison(m, "control", "treatment", 0.05, "frequentist", 5000.0, None, "relative")
    return {
        "header": HEADER,
        "description": "a pre-period count, a categorical attribute (one-hot, first level the reference) and a numeric attribute with nulls (0 and a missing indicator) as five covariates of a count; statsmodels OLS as covariates_experiment",
        "tolerances": {"comparison": 1e-6},
        "covariates": names,
        "units": units,
        "comparisons": {"views": comparison},
    }


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, body in [("quantile_experiment", quantile_experiment()), ("covariates_experiment", covariates_experiment()),
                       ("attribute_covariates_experiment", attribute_covariates_experiment())]:
        path = os.path.join(OUT_DIR, name + ".json")
        with open(path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(json.dumps(body, indent=None, separators=(",", ":"), allow_nan=False) + "\n")
        print("wrote", os.path.relpath(path, HERE))


if __name__ == "__main__":
    np.seterr(all="ignore")
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    main()
