#!/usr/bin/env python3
"""scaletop forecast vs statsforecast on real series and simulator exports (issue 5). Runs
outside CI: it takes several minutes (statsforecast's MSTL at 5 minutes takes tens of seconds).

Protocol (CONTRACTS.md "Accuracy"), run at two resolutions:
  --resolution 1h    hourly means, last 7 days held out (168 steps), 168-step forecast;
  --resolution 5min  native 5-minute steps, last 7 days held out (2016 steps), 2016-step forecast.
  --resolution both  (default) both tables in one document.
Every model is fitted on what precedes the holdout. A series too short for a 7-day holdout
after two weeks of training (Alibaba 2018: 7.8 days) holds out its last day instead and uses
the daily season only (SeasonalNaive(daily), MSTL with one season); its rows say so.
Reported per model: accuracy (1 - WAPE), MASE (scaled by the in-sample daily seasonal naive MAE
at the same resolution, as scaletop does), MAPE, empirical coverage of the 80% and 95% intervals
on the holdout, and wall time for fit + forecast (one core). statsforecast's numba functions are
compiled on a small warm-up series first, so their times exclude compilation.

statsforecast models: SeasonalNaive (weekly), AutoETS (daily season; hourly only, at 5 minutes a
288-step ETS season is beyond what AutoETS fits in reasonable time), MSTL (daily + weekly) with
AutoETS and with AutoARIMA as the trend model. scaletop: `scaletop forecast --model auto --step
<resolution>` (its own rolling-origin backtest of every candidate picks the model) on the same
training CSV; both the engine time it reports (fit_ms: backtest + selection + final fit) and the
whole CLI's wall time (process start, CSV parse, JSON out) are given.

Usage:
    python3 -m venv /tmp/venv-sf && /tmp/venv-sf/bin/pip install statsforecast
    cargo build --release --bin scaletop
    /tmp/venv-sf/bin/python scripts/compare_statsforecast.py --data ../shared/data \\
        --scaletop target/release/scaletop --sim ecommerce --sim microservices \\
        --out docs/forecast-comparison.md
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

# (label, file, long-form group or None)
SERIES = [
    ("UK electricity (Taylor 2003)", "cluster/taylor_uk_electricity_30min.csv", None),
    ("Google 2019 cell CPU", "cluster/google2019_cell_cpu_util_5min.csv", None),
    ("Alibaba 2018 cluster CPU", "cluster/alibaba2018_cluster_cpu_util_5min.csv", None),
    ("Azure 2017 VM CPU (first VM)", "cluster/azure2017_vm_cpu_5min_long.csv", "first"),
    ("NAB ASG CPU (misconfiguration)", "nab/cpu_utilization_asg_misconfiguration.csv", None),
]

# Per resolution: pandas rule, statsforecast freq, scaletop --step, steps per day.
RESOLUTIONS = {
    "1h": {"rule": "1h", "freq": "h", "step": "1h", "day": 24},
    "5min": {"rule": "5min", "freq": "5min", "step": "5m", "day": 288},
}

# Simulator exports: 28 days at 5 minutes, the scenario's first group, this demand metric.
SIM_DURATION = "28d"
SIM_STEP = "5m"
SIM_METRIC = "request_rate"


def load(path, group, rule, metric=None):
    df = pd.read_csv(path)
    if "group" in df.columns:
        name = df["group"].iloc[0] if group == "first" else group
        df = df[df["group"] == name]
        if metric is not None:
            df = df[df["metric"] == metric]
        times, values = df["timestamp"], df["value"]
    else:
        # Single-series files name their columns differently; the first two are time, value.
        times, values = df.iloc[:, 0], df.iloc[:, 1]
    ts = pd.to_datetime(times, utc=True, format="mixed")
    s = pd.Series(values.astype(float).values, index=ts).sort_index()
    s = s[~s.index.duplicated()]
    # Means over whole bins (a 30-minute series is not upsampled to 5 minutes).
    native = s.index.to_series().diff().median()
    if native > pd.Timedelta(rule):
        return None
    out = s.resample(rule).mean()
    # Interior gaps are interpolated (both sides see the same input).
    return out.interpolate(limit_direction="both")


def scores(actual, mean, lo80, hi80, lo95, hi95, train, day):
    actual = np.asarray(actual, float)
    mean = np.asarray(mean, float)
    err = np.abs(actual - mean)
    scale = np.mean(np.abs(train[day:] - train[:-day]))
    nz = actual != 0
    return {
        "accuracy": 1 - err.sum() / np.abs(actual).sum(),
        "mase": err.mean() / scale if scale > 0 else float("nan"),
        "mape": np.mean(err[nz] / np.abs(actual[nz])),
        "cov80": np.mean((actual >= lo80) & (actual <= hi80)),
        "cov95": np.mean((actual >= lo95) & (actual <= hi95)),
    }


def statsforecast_models(res, day, weekly):
    from statsforecast.models import MSTL, AutoARIMA, AutoETS, SeasonalNaive

    seasons = [day, 7 * day] if weekly else [day]
    naive = ("SeasonalNaive(weekly)", SeasonalNaive(season_length=7 * day)) if weekly else (
        "SeasonalNaive(daily)", SeasonalNaive(season_length=day))
    models = [naive]
    if res == "1h":
        models.append(("AutoETS(daily)", AutoETS(season_length=day)))
    models += [
        ("MSTL+AutoETS", MSTL(season_length=seasons, trend_forecaster=AutoETS(model="ZZN"))),
        ("MSTL+AutoARIMA", MSTL(season_length=seasons, trend_forecaster=AutoARIMA())),
    ]
    return models


def warm_up():
    """Compiles statsforecast's numba code on a small hourly series (not timed)."""
    from statsforecast import StatsForecast

    n = 24 * 21
    t = np.arange(n)
    y = 100 + 20 * np.sin(2 * np.pi * t / 24) + np.random.default_rng(0).normal(0, 2, n)
    df = pd.DataFrame({"unique_id": "w", "ds": pd.date_range("2000-01-01", periods=n, freq="h"), "y": y})
    for _, model in statsforecast_models("1h", 24, True):
        StatsForecast(models=[model], freq="h", n_jobs=1).forecast(df=df, h=24, level=[80, 95])


def run_statsforecast(train_df, model, freq, h):
    from statsforecast import StatsForecast

    sf = StatsForecast(models=[model], freq=freq, n_jobs=1)
    began = time.perf_counter()
    fc = sf.forecast(df=train_df, h=h, level=[80, 95])
    secs = time.perf_counter() - began
    col = [c for c in fc.columns if c not in ("unique_id", "ds") and "-lo-" not in c and "-hi-" not in c][0]
    return fc, col, secs


# statsforecast rows by "resolution|series|model", kept in --cache between runs (they take
# minutes and do not change when scaletop does); each row records when and at what load.
cache = {}
cache_path = None


def save_cache():
    if cache_path:
        with open(cache_path, "w") as f:
            json.dump(cache, f, indent=1)


def run_scaletop(binary, train, step, horizon):
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write("timestamp,value\n")
        for t, v in train.items():
            f.write(f"{t.strftime('%Y-%m-%dT%H:%M:%SZ')},{v}\n")
        path = f.name
    try:
        began = time.perf_counter()
        res = subprocess.run(
            [binary, "forecast", "--input", path, "--horizon", horizon, "--step", step, "--format", "json"],
            capture_output=True, text=True, check=True)
        secs = time.perf_counter() - began
    finally:
        os.unlink(path)
    return json.loads(res.stdout), secs


def sim_export(binary, scenario, workdir):
    path = os.path.join(workdir, f"sim-{scenario}.csv")
    subprocess.run(
        [binary, "sim", "export", "--scenario", scenario, "--duration", SIM_DURATION, "--step", SIM_STEP,
         "--out", path], check=True)
    return path


def compare(label, y, res, binary, with_statsforecast=True):
    """Rows for one series at one resolution."""
    cfg = RESOLUTIONS[res]
    day = cfg["day"]
    week = 7 * day
    # Seven days held out after at least two weeks of training; else the last day, daily only.
    if len(y) >= 3 * week:
        holdout, weekly, horizon, note = week, True, "7d", ""
    else:
        holdout, weekly, horizon = day, False, "1d"
        note = f" [{len(y) / day:.1f} d: 1-day holdout, daily season]"
    train, test = y.iloc[:-holdout], y.iloc[-holdout:]
    tr = train.values
    rows = []
    train_df = pd.DataFrame({"unique_id": "s", "ds": train.index.tz_localize(None), "y": tr})
    mstl_secs = []
    models = statsforecast_models(res, day, weekly) if with_statsforecast else []
    for name, model in models:
        key = f"{res}|{label}|{name}"
        if key in cache:
            row = cache[key]
        else:
            fc, col, secs = run_statsforecast(train_df, model, cfg["freq"], holdout)
            s = scores(test.values, fc[col].values, fc[f"{col}-lo-80"].values, fc[f"{col}-hi-80"].values,
                       fc[f"{col}-lo-95"].values, fc[f"{col}-hi-95"].values, tr, day)
            row = {"series": label + note, "model": name, **s, "secs": secs, "engine": None,
                   "load": os.getloadavg()[0],
                   "when": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")}
            cache[key] = row
            save_cache()
        rows.append(row)
        if name.startswith("MSTL"):
            mstl_secs.append(row["secs"])
        print(res, label, name, row, file=sys.stderr, flush=True)
    if binary is None:
        return rows
    doc, secs = run_scaletop(binary, train, cfg["step"], horizon)
    p = doc["points"]
    if len(p) != holdout:
        raise SystemExit(f"{label} {res}: scaletop gave {len(p)} points, expected {holdout}")
    s = scores(test.values, [q["mean"] for q in p], [q["lo80"] for q in p], [q["hi80"] for q in p],
               [q["lo95"] for q in p], [q["hi95"] for q in p], tr, day)
    rows.append({"series": label + note, "model": f"scaletop auto ({doc['model']})", **s, "secs": secs,
                 "engine": doc["fit_ms"] / 1000.0, "mstl": min(mstl_secs) if mstl_secs else None,
                 "load": os.getloadavg()[0]})
    print(res, label, "scaletop", doc["model"], s, f"{secs:.2f}s engine {doc['fit_ms']:.0f} ms",
          file=sys.stderr, flush=True)
    return rows


def table(rows):
    lines = [
        f"| series | model | accuracy | MASE | MAPE | cov 80% | cov 95% | time (s) | scaletop engine (s) "
        f"| faster than fastest MSTL (CLI / engine) | load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        engine = f"{r['engine']:.3f}" if r["engine"] is not None else ""
        ratio = ""
        if r.get("mstl"):
            ratio = f"{r['mstl'] / r['secs']:.0f}x / {r['mstl'] / max(r['engine'], 1e-6):.0f}x"
        lines.append(
            f"| {r['series']} | {r['model']} | {r['accuracy']*100:.1f}% | {r['mase']:.3f} | {r['mape']*100:.1f}% "
            f"| {r['cov80']*100:.0f}% | {r['cov95']*100:.0f}% | {r['secs']:.2f} | {engine} | {ratio} "
            f"| {r.get('load', float('nan')):.1f} |")
    return lines


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="../shared/data")
    ap.add_argument("--scaletop", default="target/release/scaletop")
    ap.add_argument("--resolution", choices=["1h", "5min", "both"], default="both")
    ap.add_argument("--sim", action="append", default=[], help="simulator scenario to export and compare")
    ap.add_argument("--out", default="docs/forecast-comparison.md")
    ap.add_argument("--cache", help="JSON file keeping statsforecast rows between runs")
    ap.add_argument("--statsforecast-only", action="store_true",
                    help="fill --cache with the real series' statsforecast rows; no scaletop, no document")
    ap.add_argument("--scaletop-only", action="store_true",
                    help="skip statsforecast (quick check of scaletop's own rows; no document written)")
    args = ap.parse_args()

    import statsforecast

    global cache_path
    cache_path = args.cache
    if cache_path and os.path.exists(cache_path):
        with open(cache_path) as f:
            cache.update(json.load(f))
    binary = None if args.statsforecast_only else args.scaletop

    resolutions = ["1h", "5min"] if args.resolution == "both" else [args.resolution]
    load_before = os.getloadavg()
    if not args.scaletop_only:
        warm_up()
    with tempfile.TemporaryDirectory() as workdir:
        inputs = [(label, os.path.join(args.data, rel), group, None) for label, rel, group in SERIES]
        for scenario in args.sim:
            path = sim_export(args.scaletop, scenario, workdir)
            inputs.append((f"sim {scenario} ({SIM_METRIC}, first group)", path, "first", SIM_METRIC))
        tables = {}
        for res in resolutions:
            rows = []
            for label, path, group, metric in inputs:
                if not os.path.exists(path):
                    print(f"skip {label}: {path} missing", file=sys.stderr)
                    continue
                y = load(path, group, RESOLUTIONS[res]["rule"], metric)
                if y is None:
                    print(f"skip {label} at {res}: coarser than {res}", file=sys.stderr)
                    continue
                rows += compare(label, y, res, binary, not args.scaletop_only)
            tables[res] = rows
    load_after = os.getloadavg()
    if args.scaletop_only or binary is None:
        for res in resolutions:
            print("\n".join(table(tables[res])))
        return

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
        f"Python {platform.python_version()}. Load average (1/5/15 min) {load_before[0]:.2f}/"
        f"{load_before[1]:.2f}/{load_before[2]:.2f} at the start, {load_after[0]:.2f}/{load_after[1]:.2f}/"
        f"{load_after[2]:.2f} at the end: the machine was shared with other builds. Generated by "
        f"`scripts/compare_statsforecast.py` (its docstring has the protocol).",
        "",
        "Protocol: the last 7 days are held out and forecast from the rest (a series too short for "
        "that holds out its last day; its rows say so). MASE is scaled by the in-sample daily "
        "seasonal naive MAE at the table's resolution; coverage is the share of held-out steps inside "
        "the interval. Time is wall clock for fit + forecast; for scaletop it is the whole CLI run "
        "(process start, CSV parse, rolling-origin backtest of every candidate, final fit, JSON), and "
        "the engine column is the part of it spent in the forecaster (`fit_ms`). The last column is "
        "the fastest statsforecast MSTL's time over scaletop's.",
    ]
    titles = {"1h": "Hourly means (168-step horizon)", "5min": "Native 5-minute steps (2016-step horizon)"}
    for res in resolutions:
        lines += ["", f"## {titles[res]}", ""] + table(tables[res])
    os.makedirs(os.path.dirname(args.out) or ".", exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
