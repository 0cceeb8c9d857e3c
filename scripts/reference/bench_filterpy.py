#!/usr/bin/env python3
"""Times filterpy's KalmanFilter on the same work as Vigil's `kalman::process` in a tracking step.

Reads JSON on stdin: {"q": float, "r": float, "gate_sigma": float, "x0": [2], "P0": [[2],[2]],
"dt": [days...], "z": [kg...]}. Per step: set F and Q (Q_continuous_white_noise) for its dt,
predict, gate on |y|/sqrt(S), update (or restore on rejection). Prints one JSON line:
{"steps": n, "seconds": s, "steps_per_second": n/s, "steps_per_cpu_second": n/cpu_s,
"filterpy": version, "numpy": version}. Timing covers the loop only (not the JSON parsing):
wall clock by time.perf_counter, CPU time by time.thread_time.
"""
import json
import sys
import time

try:
    import filterpy
    import numpy as np
    from filterpy.common import Q_continuous_white_noise
    from filterpy.kalman import KalmanFilter
except ImportError as e:  # pragma: no cover
    print(f"{e}: pip install -r scripts/reference/requirements.txt", file=sys.stderr)
    sys.exit(3)


def main():
    req = json.load(sys.stdin)
    q, r, gate = req["q"], req["r"], req["gate_sigma"]
    kf = KalmanFilter(dim_x=2, dim_z=1)
    kf.H = np.array([[1.0, 0.0]])
    kf.x = np.array(req["x0"], dtype=float).reshape(2, 1)
    kf.P = np.array(req["P0"], dtype=float)
    R = np.array([[r]])
    steps = list(zip(req["dt"], req["z"]))
    start, cpu_start = time.perf_counter(), time.thread_time()
    for dt, z in steps:
        kf.F = np.array([[1.0, dt], [0.0, 1.0]])
        kf.Q = Q_continuous_white_noise(dim=2, dt=dt, spectral_density=q)
        x0, p0 = kf.x.copy(), kf.P.copy()
        kf.predict()
        y = z - kf.x[0, 0]
        s = kf.P[0, 0] + r
        if abs(y) / np.sqrt(s) <= gate:
            kf.update(np.array([[z]]), R=R)
        else:
            kf.x, kf.P = x0, p0
    seconds, cpu_seconds = time.perf_counter() - start, time.thread_time() - cpu_start
    print(json.dumps({"steps": len(steps), "seconds": seconds, "steps_per_second": len(steps) / seconds,
                      "steps_per_cpu_second": len(steps) / cpu_seconds,
                      "filterpy": filterpy.__version__, "numpy": np.__version__}))


if __name__ == "__main__":
    main()
