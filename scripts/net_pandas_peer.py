#!/usr/bin/env python3
"""The peer of `tamperscan net scan` in the throughput benchmark: the same beacon scoring
(periodicity tested against a Poisson and a phase null, see crates/tamperscan-net/src/periodicity.rs)
written with pandas and numpy, reading the same Zeek conn.log. Prints the top findings.

Usage: net_pandas_peer.py CONN_LOG
"""
import math
import sys

import numpy as np
import pandas as pd

MERGE_GAP = 1.0
TOLERANCES = [0.02, 0.05, 0.1, 0.2, 0.3]
MAX_BEATS = 64


def fields(path):
    with open(path) as f:
        for line in f:
            if line.startswith("#fields"):
                return line.rstrip("\n").split("\t")[1:]
    raise SystemExit(f"{path}: no #fields header")


def null_probability(period, tol, mean):
    p, last_hi = 0.0, 0.0
    for k in range(1, MAX_BEATS + 1):
        w = min(tol * period * math.sqrt(k), 0.5 * period)
        lo, hi = max(k * period - w, last_hi), k * period + w
        if hi > lo:
            p += math.exp(-lo / mean) - math.exp(-hi / mean)
        last_hi = hi
    return min(max(p, 1e-12), 1.0)


def chernoff(m, hits, p0):
    q = hits / m
    if q <= p0:
        return 0.0
    if q >= 1.0:
        return m * math.log(p0)
    return -m * (q * math.log(q / p0) + (1 - q) * math.log((1 - q) / (1 - p0)))


def periodicity(times):
    times = np.sort(times[np.isfinite(times)])
    if len(times) < 4:
        return None
    keep = np.concatenate(([True], np.diff(times) >= MERGE_GAP))
    checkins = times[keep]
    if len(checkins) < 4:
        return None
    gaps = np.diff(checkins)
    m = len(gaps)
    mean = gaps.mean()
    if mean <= 0:
        return None
    starts = [p for p in sorted(set(np.quantile(gaps, [0.5, 0.25, 0.1]).tolist()), reverse=True) if p >= MERGE_GAP]
    if not starts:
        return None
    tries = len(starts) * len(TOLERANCES)
    best = None
    for start in starts:
        period = start
        for _ in range(3):
            k = np.round(gaps / period)
            ok = (k >= 1) & (k <= MAX_BEATS)
            unit = gaps[ok] / k[ok]
            unit = unit[np.abs(unit - period) <= 0.3 * period]
            if len(unit) == 0:
                break
            period = float(np.median(unit))
        if not (period >= MERGE_GAP):
            continue
        k = np.maximum(np.round(gaps / period), 1.0)
        counted = k <= MAX_BEATS
        dev = np.abs(gaps - k * period)
        for tol in TOLERANCES:
            w = np.minimum(tol * period * np.sqrt(k), 0.5 * period)
            hit = counted & (dev <= w)
            hits = int(hit.sum())
            phase = np.where(gaps < 0.5 * period, 0.0, np.minimum(2 * w / period, 1.0))
            phase_p0 = min(max(float(phase[counted].sum()) / m, 1e-12), 1.0)
            p0 = max(null_probability(period, tol, mean), phase_p0)
            log10_p = min(chernoff(m, hits, p0) / math.log(10) + math.log10(tries), 0.0)
            if best is None or log10_p < best[0]:
                best = (log10_p, period, hits, m)
    return best


def main():
    path = sys.argv[1]
    names = fields(path)
    use = ["ts", "id.orig_h", "id.resp_h", "id.resp_p", "proto", "orig_ip_bytes", "resp_ip_bytes"]
    df = pd.read_csv(path, sep="\t", comment="#", header=None, names=names, usecols=use,
                     dtype={"id.orig_h": "string", "id.resp_h": "string", "proto": "category"},
                     na_values=["-"], engine="c")
    keys = ["id.orig_h", "id.resp_h", "id.resp_p", "proto"]
    # Pairs with fewer than 4 connections cannot beacon: drop them vectorised first.
    sizes = df.groupby(keys, sort=False, observed=True)["ts"].transform("size")
    candidates = df[sizes >= 4]
    results = []
    for key, group in candidates.groupby(keys, sort=False, observed=True):
        best = periodicity(group["ts"].to_numpy(dtype=float))
        if best is None:
            continue
        conf = max(0.0, min(1.0, 1.0 - 10 ** (best[0] / 10)))
        results.append((conf, best[0], key, best[1], len(group)))
    results.sort(key=lambda r: (-r[0], r[1]))
    print(f"{len(df)} rows, {len(results)} periodic pairs tested")
    for conf, lp, key, period, n in results[:10]:
        print(f"{conf:.3f} log10p {lp:.1f} {key[0]} -> {key[1]}:{key[2]}/{key[3]} period {period:.1f}s n={n}")


if __name__ == "__main__":
    main()
