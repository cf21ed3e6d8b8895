#!/usr/bin/env python3
"""Scores `scaletop analyze` anomaly windows on the NAB labelled windows, beside a rolling
z-score baseline computed in the same run on the same files.

Usage: scripts/nab_anomaly_score.py [NAB_DIR] [SCALETOP_BIN]
  NAB_DIR defaults to ../shared/data/nab (timestamp,value CSVs + anomaly_windows.json).

A labelled window is "hit" when a detection overlaps it; a detection overlapping no labelled
window is a false anomaly. Both detectors merge flagged points less than 30 minutes apart into
one window, so they are counted alike. Baseline: z = (x - mean) / std over the previous day
(288 points at 5 minutes), flagged at |z| > 4.
"""
import csv, json, math, os, subprocess, sys
from datetime import datetime, timezone

nab = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../shared/data/nab")
binary = sys.argv[2] if len(sys.argv) > 2 else "target/release/scaletop"
MERGE = 1800
Z_WINDOW, Z_LIMIT = 288, 4.0

def ts(s):
    return int(datetime.strptime(s[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc).timestamp())

def merge(times):
    out = []
    for t in times:
        if out and t - out[-1][1] <= MERGE:
            out[-1][1] = t
        else:
            out.append([t, t])
    return out

def rolling_z(points):
    flagged, win = [], []
    for t, v in points:
        if len(win) >= Z_WINDOW // 2:
            m = sum(win) / len(win)
            sd = math.sqrt(sum((x - m) ** 2 for x in win) / len(win))
            if sd > 0 and abs(v - m) / sd > Z_LIMIT:
                flagged.append(t)
        win.append(v)
        if len(win) > Z_WINDOW:
            win.pop(0)
    return merge(flagged)

def score(dets, labels):
    hit = sum(1 for a, b in labels if any(e >= a and s <= b for s, e in dets))
    false = sum(1 for s, e in dets if not any(e >= a and s <= b for a, b in labels))
    return hit, false

labels_all = json.load(open(os.path.join(nab, "anomaly_windows.json")))
rows = []
tot = {"windows": 0, "weeks": 0.0, "st_hit": 0, "st_false": 0, "z_hit": 0, "z_false": 0}
for key, wins in sorted(labels_all.items()):
    path = os.path.join(nab, os.path.basename(key))
    if not os.path.exists(path) or not wins:
        continue
    points = [(ts(r[0]), float(r[1])) for r in list(csv.reader(open(path)))[1:] if r[1] != ""]
    labels = [(ts(a), ts(b)) for a, b in wins]
    out = subprocess.run([binary, "analyze", "--input", path, "--format", "json"], capture_output=True, text=True)
    if out.returncode != 0:
        print(f"{key}: {out.stderr.strip()}", file=sys.stderr)
        continue
    st = [(a["start"], a["end"]) for a in json.loads(out.stdout)["series"][0]["anomalies"]]
    z = rolling_z(points)
    weeks = (points[-1][0] - points[0][0]) / (7 * 86400)
    sh, sf = score(st, labels)
    zh, zf = score(z, labels)
    rows.append((os.path.basename(key), len(labels), weeks, sh, sf / weeks, zh, zf / weeks))
    for k, v in zip(["windows", "weeks", "st_hit", "st_false", "z_hit", "z_false"], [len(labels), weeks, sh, sf, zh, zf]):
        tot[k] += v

print(f"{'file':<46} {'labelled':>8} {'weeks':>6} | {'scaletop hit':>12} {'false/wk':>8} | {'z-score hit':>11} {'false/wk':>8}")
for r in rows:
    print(f"{r[0]:<46} {r[1]:>8} {r[2]:>6.1f} | {r[3]:>12} {r[4]:>8.1f} | {r[5]:>11} {r[6]:>8.1f}")
w = tot["weeks"]
print(f"{'TOTAL':<46} {tot['windows']:>8} {w:>6.1f} | {tot['st_hit']:>12} {tot['st_false']/w:>8.1f} | {tot['z_hit']:>11} {tot['z_false']/w:>8.1f}")
