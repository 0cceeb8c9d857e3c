#!/usr/bin/env python3
"""Reference run of Vigil's weight filter with filterpy's KalmanFilter.

Reads JSON on stdin:
  {"q": <kg^2/day^3>, "gate_sigma": <float>,
   "events": [{"kind": "init", "t": [days rel. to newest], "z": [kg], "r": [kg^2]},
              {"kind": "step", "dt": <days>, "z": <kg>, "r": <kg^2>}, ...]}
Prints JSON on stdout: {"filterpy": version, "numpy": version,
  "states": [{"accepted": bool, "x": [level, trend], "P": [[..],[..]]}, ...]}, one per event.

"init" sets x, P from a weighted least-squares line (numpy.linalg.lstsq on the whitened design
matrix), covariance inv(A'WA) scaled by max(1, chi2/(n-2)), as src-tauri/analysis/kalman/init.rs.
"step" sets F = [[1, dt], [0, 1]] and Q = Q_continuous_white_noise(2, dt, q), calls predict(),
gates on |y|/sqrt(S) > gate_sigma (restoring x, P on rejection: a rejected measurement does not
advance the state) and otherwise calls update(z, R=r).
"""
import json
import sys

try:
    import filterpy
    import numpy as np
    from filterpy.common import Q_continuous_white_noise
    from filterpy.kalman import KalmanFilter
except ImportError as e:  # pragma: no cover
    print(f"{e}: pip install -r scripts/reference/requirements.txt", file=sys.stderr)
    sys.exit(3)


def baseline(t, z, r):
    t, z, r = (np.asarray(v, dtype=float) for v in (t, z, r))
    w = 1.0 / r
    a = np.column_stack([np.ones_like(t), t])
    sw = np.sqrt(w)
    x, *_ = np.linalg.lstsq(a * sw[:, None], z * sw, rcond=None)
    cov = np.linalg.inv(a.T @ (a * w[:, None]))
    chi2 = float(np.sum(w * (z - a @ x) ** 2))
    return x, cov * max(1.0, chi2 / (len(z) - 2))


def main():
    req = json.load(sys.stdin)
    q, gate = req["q"], req["gate_sigma"]
    kf = KalmanFilter(dim_x=2, dim_z=1)
    kf.H = np.array([[1.0, 0.0]])
    out = []
    for ev in req["events"]:
        accepted = True
        if ev["kind"] == "init":
            x, p = baseline(ev["t"], ev["z"], ev["r"])
            kf.x = x.reshape(2, 1)
            kf.P = p
        else:
            dt, z, r = ev["dt"], ev["z"], ev["r"]
            kf.F = np.array([[1.0, dt], [0.0, 1.0]])
            kf.Q = Q_continuous_white_noise(dim=2, dt=dt, spectral_density=q)
            x0, p0 = kf.x.copy(), kf.P.copy()
            kf.predict()
            y = z - float((kf.H @ kf.x)[0, 0])
            s = float((kf.H @ kf.P @ kf.H.T)[0, 0]) + r
            if not abs(y) / np.sqrt(s) <= gate:
                kf.x, kf.P = x0, p0
                accepted = False
            else:
                kf.update(np.array([[z]]), R=np.array([[r]]))
        out.append({"accepted": accepted, "x": kf.x.ravel().tolist(), "P": kf.P.tolist()})
    json.dump({"filterpy": filterpy.__version__, "numpy": np.__version__, "states": out}, sys.stdout)


if __name__ == "__main__":
    main()
