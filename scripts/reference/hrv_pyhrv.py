#!/usr/bin/env python3
"""Reference HRV numbers for tests/analysis_hrv.rs, from pyhrv and from plain numpy/scipy.

Usage:
  hrv_pyhrv.py sample   pyhrv's own SampleNNISeriesLong.npy (shipped in the package), the numbers
                        pyhrv computes on it now, and those of the report the package ships
                        (files/SampleReport.txt), as JSON on stdout.
  hrv_pyhrv.py series   a JSON array of RR intervals (ms) on stdin; numpy's time domain in the
                        Task Force conventions that analysis::hrv documents, and pyhrv's, as JSON.

Exit status 3 with one line on stderr when the reference packages are missing.
"""
import json
import os
import sys

os.environ.setdefault("MPLBACKEND", "Agg")
try:
    import numpy as np
    from scipy import interpolate, signal
    import pyhrv
    import pyhrv.frequency_domain as fd
    import pyhrv.time_domain as td
except Exception as e:  # noqa: BLE001 - any import failure means the same thing here
    print(f"reference packages missing ({e}): pip install -r scripts/reference/requirements-signals.txt",
          file=sys.stderr)
    sys.exit(3)


def numpy_time_domain(nn):
    """Task Force conventions, as analysis::hrv documents them, written independently in numpy."""
    nn = np.asarray(nn, dtype=float)
    d = np.diff(nn)
    return {
        "mean_nn_ms": float(nn.mean()),
        "sdnn_ms": float(nn.std(ddof=1)),
        "rmssd_ms": float(np.sqrt(np.mean(d ** 2))),
        "sdsd_ms": float(d.std(ddof=1)),
        "nn50": int(np.sum(np.abs(d) > 50)),
        "pnn50_percent": float(100.0 * np.sum(np.abs(d) > 50) / d.size),
        "mean_hr_bpm": float(np.mean(60000.0 / nn)),
    }


def pyhrv_time_domain(nn):
    nn = np.asarray(nn, dtype=float)
    return {
        "mean_nn_ms": float(td.nni_parameters(nn)["nni_mean"]),
        "sdnn_ms": float(td.sdnn(nn)["sdnn"]),
        "rmssd_ms": float(td.rmssd(nn)["rmssd"]),
        "sdsd_ms_of_absolute_differences": float(td.sdsd(nn)["sdsd"]),
        "nn50": int(td.nn50(nn)["nn50"]),
        "pnn50_percent": float(td.nn50(nn)["pnn50"]),
        "mean_hr_bpm": float(td.hr_parameters(nn)["hr_mean"]),
    }


def pyhrv_welch(nn, fbands=None):
    res = fd.welch_psd(np.asarray(nn, dtype=float), fbands=fbands, show=False, mode="dev")[0]
    vlf, lf, hf = (float(x) for x in res["fft_abs"])
    return {"vlf_ms2": vlf, "lf_ms2": lf, "hf_ms2": hf, "lf_hf": float(res["fft_ratio"]),
            "lf_peak_hz": float(res["fft_peak"][1]), "hf_peak_hz": float(res["fft_peak"][2])}


def scipy_welch(nn, nperseg, noverlap, nfft, window, bands):
    """analysis::hrv's default pipeline spelled with scipy: interp1d cubic (not-a-knot) at 4 Hz,
    mean removal, scipy.signal.welch (constant detrend per segment, density), rectangle rule."""
    nn = np.asarray(nn, dtype=float)
    t = np.cumsum(nn)
    t -= t[0]
    grid = np.arange(0, t[-1], 250.0)
    x = interpolate.interp1d(t, nn, "cubic")(grid)
    x = x - x.mean()
    f, p = signal.welch(x, fs=4.0, window=window, nperseg=nperseg, noverlap=noverlap, nfft=nfft,
                        scaling="density")
    df = f[1] - f[0]
    out = {}
    for name, (lo, hi) in bands.items():
        out[name] = float(np.sum(p[(f >= lo) & (f <= hi)]) * df)
    return out


def shipped_report(path):
    """The 'Time Domain' and 'FFT Welch' numbers of pyhrv's files/SampleReport.txt."""
    wanted = {"Mean NNI (ms)": "mean_nn_ms", "SDNN (ms)": "sdnn_ms", "RMSSD (ms)": "rmssd_ms",
              "SDSD (ms)": "sdsd_ms_of_absolute_differences", "NN50 (-)": "nn50",
              "pNN50 (%)": "pnn50_percent", "Mean Heart Rate (bpm)": "mean_hr_bpm",
              "Number of NNIs (-)": "nn_count"}
    out, section, lines = {}, None, open(path, encoding="utf-8").read().splitlines()
    for i, line in enumerate(lines):
        if line.startswith("Frequency Domain - FFT Welch"):
            section = "welch"
        elif line.startswith("Frequency Domain - Autoregression"):
            section = None
        key, _, value = (s.strip() for s in line.partition(";"))
        if key in wanted and section is None and "welch" not in out:
            out[wanted[key]] = float(value)
        if section == "welch" and key.startswith("Absolute Powers"):
            # The VLF, LF and HF values follow on three lines of their own ("\t-\t<value>").
            out["welch"] = {k: float(lines[i + j + 1].split("\t")[-1]) for j, k in
                            enumerate(("vlf_ms2", "lf_ms2", "hf_ms2"))}
        if section == "welch" and key == "LF/HF Ratio (-)":
            out["welch"]["lf_hf"] = float(value)
    return out


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "sample"
    files = os.path.join(os.path.dirname(pyhrv.__file__), "files")
    if mode == "sample":
        nn = np.load(os.path.join(files, "SampleNNISeriesLong.npy")).astype(float)
        bands = {"vlf": (0.003, 0.04), "lf": (0.04, 0.15), "hf": (0.15, 0.4)}
        out = {
            "pyhrv_version": pyhrv.__version__,
            "nn": nn.tolist(),
            "pyhrv": pyhrv_time_domain(nn),
            "numpy": numpy_time_domain(nn),
            "pyhrv_welch": pyhrv_welch(nn),
            "pyhrv_welch_vlf_from_0003": pyhrv_welch(nn, fbands=bands),
            "scipy_vigil_default": scipy_welch(nn, 1024, 512, 1024, "hann", bands),
            "shipped_report": shipped_report(os.path.join(files, "SampleReport.txt")),
        }
    elif mode == "series":
        nn = json.load(sys.stdin)
        out = {"numpy": numpy_time_domain(nn), "pyhrv": pyhrv_time_domain(nn)}
    else:
        sys.exit(f"unknown mode {mode!r}: sample | series")
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
