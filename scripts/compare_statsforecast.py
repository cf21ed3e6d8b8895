#!/usr/bin/env python3
"""scaletop forecast vs statsforecast on real series (issue 5). Runs outside CI: it takes minutes.

Protocol (CONTRACTS.md "Accuracy"): each series is averaged to hourly means, the last 7 days are
held out, every model is fitted on what precedes them and forecasts 168 hours. Reported per
model: accuracy (1 - WAPE), MASE (scaled by the in-sample daily seasonal naive MAE, as scaletop
does), MAPE, empirical coverage of the 80% and 95% intervals on the holdout, and fit time
(fit + forecast, wall clock, one core).

statsforecast models: SeasonalNaive (weekly), AutoETS (daily season), MSTL (daily + weekly)
with AutoETS and with AutoARIMA as the trend model. scaletop: `scaletop forecast --model auto`
(its own backtest picks the model) on the same training CSV.

Usage:
    python3 -m venv /tmp/venv-sf && /tmp/venv-sf/bin/pip install statsforecast
    cargo build --release
    /tmp/venv-sf/bin/python scripts/compare_statsforecast.py \
        --data ../shared/data --scaletop target/release/scaletop --out docs/forecast-comparison.md
"""

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

HOLDOUT = 168
DAY = 24
WEEK = 168

# (label, file, long-form group or None)
SERIES = [
    ("UK electricity (Taylor 2003)", "cluster/taylor_uk_electricity_30min.csv", None),
    ("Google 2019 cell CPU", "cluster/google2019_cell_cpu_util_5min.csv", None),
    ("Azure 2017 VM CPU (first VM)", "cluster/azure2017_vm_cpu_5min_long.csv", "first"),
    ("NAB ASG CPU (misconfiguration)", "nab/cpu_utilization_asg_misconfiguration.csv", None),
]


def load_hourly(path, group):
    df = pd.read_csv(path)
    if group is not None:
        name = df["group"].iloc[0] if group == "first" else group
        df = df[df["group"] == name]
        times, values = df["timestamp"], df["value"]
    else:
        # Single-series files name their columns differently; the first two are time, value.
        times, values = df.iloc[:, 0], df.iloc[:, 1]
    ts = pd.to_datetime(times, utc=True, format="mixed")
    s = pd.Series(values.astype(float).values, index=ts).sort_index()
    s = s[~s.index.duplicated()]
    hourly = s.resample("1h").mean()
    # Whole hours only; interior gaps are interpolated (both sides see the same input).
    return hourly.interpolate(limit_direction="both")


def scores(actual, mean, lo80, hi80, lo95, hi95, train):
    actual = np.asarray(actual, float)
    mean = np.asarray(mean, float)
    err = np.abs(actual - mean)
    scale = np.mean(np.abs(train[DAY:] - train[:-DAY]))
    nz = actual != 0
    return {
        "accuracy": 1 - err.sum() / np.abs(actual).sum(),
        "mase": err.mean() / scale if scale > 0 else float("nan"),
        "mape": np.mean(err[nz] / np.abs(actual[nz])),
        "cov80": np.mean((actual >= lo80) & (actual <= hi80)),
        "cov95": np.mean((actual >= lo95) & (actual <= hi95)),
    }


def run_statsforecast(train_df, models):
    from statsforecast import StatsForecast

    out = {}
    for name, model in models:
        sf = StatsForecast(models=[model], freq="h", n_jobs=1)
        began = time.perf_counter()
        fc = sf.forecast(df=train_df, h=HOLDOUT, level=[80, 95])
        secs = time.perf_counter() - began
        col = [c for c in fc.columns if c not in ("unique_id", "ds") and "-lo-" not in c and "-hi-" not in c][0]
        out[name] = (fc, col, secs)
    return out


def run_scaletop(binary, train):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write("timestamp,value\n")
        for t, v in train.items():
            f.write(f"{t.strftime('%Y-%m-%dT%H:%M:%SZ')},{v}\n")
        path = f.name
    try:
        began = time.perf_counter()
        res = subprocess.run(
            [binary, "forecast", "--input", path, "--horizon", f"{HOLDOUT}h", "--format", "json"],
            capture_output=True, text=True, check=True)
        secs = time.perf_counter() - began
    finally:
        os.unlink(path)
    doc = json.loads(res.stdout)
    return doc, secs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--scaletop", default="target/release/scaletop")
    ap.add_argument("--out", default="docs/forecast-comparison.md")
    args = ap.parse_args()

    import statsforecast
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, SeasonalNaive

    models = [
        ("SeasonalNaive(weekly)", SeasonalNaive(season_length=WEEK)),
        ("AutoETS(daily)", AutoETS(season_length=DAY)),
        ("MSTL+AutoETS", MSTL(season_length=[DAY, WEEK], trend_forecaster=AutoETS(model="ZZN"))),
        ("MSTL+AutoARIMA", MSTL(season_length=[DAY, WEEK], trend_forecaster=AutoARIMA())),
    ]
    rows = []
    for label, rel, group in SERIES:
        path = os.path.join(args.data, rel)
        if not os.path.exists(path):
            print(f"skip {label}: {path} missing", file=sys.stderr)
            continue
        y = load_hourly(path, group)
        if len(y) < 3 * WEEK + HOLDOUT:
            print(f"skip {label}: {len(y)} hours is too short", file=sys.stderr)
            continue
        train, test = y.iloc[:-HOLDOUT], y.iloc[-HOLDOUT:]
        tr = train.values
        train_df = pd.DataFrame({"unique_id": "s", "ds": train.index.tz_localize(None), "y": tr})
        for name, (fc, col, secs) in run_statsforecast(train_df, models).items():
            s = scores(test.values, fc[col].values, fc[f"{col}-lo-80"].values, fc[f"{col}-hi-80"].values,
                       fc[f"{col}-lo-95"].values, fc[f"{col}-hi-95"].values, tr)
            rows.append((label, name, s, secs))
            print(label, name, s, f"{secs:.2f}s", file=sys.stderr)
        doc, secs = run_scaletop(args.scaletop, train)
        p = doc["points"]
        s = scores(test.values, [q["mean"] for q in p], [q["lo80"] for q in p], [q["hi80"] for q in p],
                   [q["lo95"] for q in p], [q["hi95"] for q in p], tr)
        rows.append((label, f"scaletop auto ({doc['model']})", s, secs))
        print(label, "scaletop", doc["model"], s, f"{secs:.2f}s", file=sys.stderr)

    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [
        "# scaletop forecast vs statsforecast",
        "",
        f"Run {now} on {cpu} ({os.cpu_count()} cores), statsforecast {statsforecast.__version__}, "
        f"Python {platform.python_version()}. Generated by `scripts/compare_statsforecast.py`.",
        "",
        "Protocol: hourly means, last 7 days held out, 168-hour forecast from the rest. MASE is "
        "scaled by the in-sample daily seasonal naive MAE; coverage is the share of held-out hours "
        "inside the interval. Time is wall clock for fit + forecast (scaletop: the whole CLI run, "
        "including its rolling-origin backtest of every candidate model).",
        "",
        "| series | model | accuracy | MASE | MAPE | cov 80% | cov 95% | time (s) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for label, name, s, secs in rows:
        lines.append(
            f"| {label} | {name} | {s['accuracy']*100:.1f}% | {s['mase']:.3f} | {s['mape']*100:.1f}% "
            f"| {s['cov80']*100:.0f}% | {s['cov95']*100:.0f}% | {secs:.2f} |")
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
