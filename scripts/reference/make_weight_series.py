#!/usr/bin/env python3
"""Writes the deterministic 120-day body-weight series used by the Kalman tests and benches.

Usage: python3 scripts/reference/make_weight_series.py > tests/fixtures/analysis/kalman/weights_120d.csv

The series (home scale every morning around 07:30 +01:00, unless skipped; clinic visits):
- days 0-49: 84 kg drifting down 0.04 kg/day, home noise sd 0.45 kg, ~10 % of mornings missed;
- day 20: an outlier, +7.5 kg (someone weighed with a backpack);
- day 30: an empty value (the scale failed), day 33: "NaN" (a broken export);
- days 50-84: nothing (a 35-day hospital stay: the filter must restart);
- days 85-103: stable around 82.3 kg; days 104-107: fluid gain of 0.8 kg/day (decompensation);
  days 108-119: still rising 0.15 kg/day;
- clinic visits (sd 0.35 kg) on days 14, 42, 98; a patient-reported weight on day 90.
Only the standard library's `random` with a fixed seed is used, so the file is reproducible.
"""
import random
import sys

rng = random.Random(20260101)


def truth(day: int) -> float:
    if day < 50:
        return 84.0 - 0.04 * day
    if day < 104:
        return 82.3
    if day < 108:
        return 82.3 + 0.8 * (day - 103)
    return 82.3 + 0.8 * 4 + 0.15 * (day - 107)


print("time,value_kg,source")
for day in range(120):
    if 50 <= day <= 84:
        continue
    skip = rng.random() < 0.10
    minute = 20 + rng.randrange(25)
    noise = rng.gauss(0.0, 0.45)
    month, dom = (1, day + 1) if day < 31 else ((2, day - 30) if day < 59 else ((3, day - 58) if day < 90 else (4, day - 89)))
    stamp = f"2026-{month:02d}-{dom:02d}T07:{minute:02d}:00+01:00"
    if day == 20:
        print(f"{stamp},{truth(day) + 7.5 + noise:.1f},home")
    elif day == 30:
        print(f"{stamp},,home")
    elif day == 33:
        print(f"{stamp},NaN,home")
    elif day == 90:
        print(f"{stamp},{truth(day) + rng.gauss(0.0, 0.8):.1f},reported")
    elif not skip or day >= 100:
        print(f"{stamp},{truth(day) + noise:.1f},home")
    if day in (14, 42, 98):
        stamp = stamp.replace("T07:", "T10:")
        print(f"{stamp},{truth(day) + rng.gauss(0.0, 0.35):.2f},clinic")
