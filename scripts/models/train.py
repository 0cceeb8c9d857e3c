#!/usr/bin/env python3
"""Trains Vigil's demonstration ONNX models and writes unsigned package directories.

    python3 scripts/models/train.py --out DIR [--fixtures DIR]

Writes DIR/<name>-<version>/{manifest.json, model.onnx, test_vectors.json} for

    early-warning-gbt-1.0.0   agent early_warning, 8 vitals features
    heart-failure-gbt-1.0.0   agent heart_failure, 4 body-weight features

and, with --fixtures, the test fixtures of tests/fixtures/models (see its README.md):

    early-warning-gbt-1.0.0      the same package as above, byte for byte
    early-warning-gbt-1.1.0      retrained on fresh data; agrees closely with 1.0.0
    early-warning-nan-9.0.0      NaN scores when hr_mean > 120
    early-warning-error-9.1.0    onnxruntime raises when hr_mean > 120
    early-warning-opset99-1.0.0  a tiny graph importing default-domain opset 99
    early-warning-low-9.2.0      scores 0.25 whatever the input (below some rules, above others)
    early-warning-high-9.3.0     scores 0.75 whatever the input
    early-warning-critical-demo-9.4.0  scores 0.9375 whatever the input; marked demonstration

The models are trained on synthetic data (see README.md beside this file): demonstration
models, not for clinical use. Nothing is signed here: `vigil packages build DIR --key KEY
--out FILE` fills in the file digests and signs.

Deterministic: fixed seeds and a fixed `created` timestamp (2026-11-23T00:00:00Z, or
SOURCE_DATE_EPOCH when set) give byte-identical files from run to run with the pinned
versions of requirements.txt. Every package written is checked at the end: loaded in
onnxruntime, input/output names, types and shapes against the manifest, test vectors run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import skl2onnx
import sklearn
from onnx import TensorProto, helper, numpy_helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import GradientBoostingClassifier

GENERATOR_VITALS = "vitals-v1"
GENERATOR_WEIGHT = "weight-v1"
SCRIPT = "scripts/models/train.py"
DEFAULT_CREATED = "2026-11-23T00:00:00Z"
OPSET = 17  # default-domain ("" / ai.onnx) opset of every real model
ML_OPSET = 1  # ai.onnx.ml opset skl2onnx needs for TreeEnsembleClassifier
MIN_APP_VERSION = "0.1.0"
TOLERANCE = 1e-4
NOT_CLINICAL = "demonstration model, not for clinical use"

EW_FEATURES = [
    ("hr_mean", "/min"),
    ("hr_std", "/min"),
    ("spo2_mean", "%"),
    ("spo2_min", "%"),
    ("rr_mean", "/min"),
    ("temp_mean", "Cel"),
    ("hrv_mean", "ms"),
    ("bp_systolic", "mm[Hg]"),
]
HF_FEATURES = [
    ("weight_kg", "kg"),
    ("trend_kg_per_week", "kg/wk"),
    ("trend_sd_kg_per_week", "kg/wk"),
    ("gain_3d_kg", "kg"),
]
HR_LIMIT = 120.0  # the NaN / error fixtures misbehave above this hr_mean


# --------------------------------------------------------------------------------------------
# Synthetic data
# --------------------------------------------------------------------------------------------


def generate_vitals(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Generator vitals-v1: 5-minute vitals summaries, label 1 = deteriorating.

    A latent class: stable (80 %) or deteriorating (20 %). Deteriorating patients get a
    severity s ~ U(0.15, 1) and each NEWS2 physiology axis (heart rate, respiration, SpO2,
    temperature, systolic pressure; HRV follows heart rate) is involved independently with
    probability 0.55 (at least one), shifted in proportion to s. Low severities overlap the
    stable population, and 2 % of labels are flipped, so the task is not separable.
    """
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.20).astype(np.int64)
    hr = rng.normal(76.0, 11.0, n)
    hr_std = rng.lognormal(np.log(3.0), 0.35, n)
    spo2 = 97.4 - np.abs(rng.normal(0.0, 1.3, n))
    rr = rng.normal(15.0, 2.3, n)
    temp = rng.normal(36.8, 0.35, n)
    hrv = rng.lognormal(np.log(38.0), 0.40, n)
    bp = rng.normal(126.0, 15.0, n)
    dip = rng.gamma(2.0, 0.8, n)  # spo2_mean - spo2_min

    s = rng.uniform(0.15, 1.0, n) * y
    axes = rng.random((n, 5)) < 0.55
    none = ~axes.any(axis=1)
    axes[none, rng.integers(0, 5, n)[none]] = True
    axes &= y[:, None].astype(bool)
    a_hr, a_rr, a_spo2, a_temp, a_bp = (axes[:, i] * s for i in range(5))

    hr = hr + a_hr * rng.normal(35.0, 8.0, n)
    hr_std = hr_std * (1.0 + 1.2 * a_hr)
    hrv = hrv * (1.0 - 0.6 * a_hr)
    rr = rr + a_rr * rng.normal(10.0, 2.5, n)
    spo2 = spo2 - a_spo2 * rng.normal(6.0, 1.5, n)
    dip = dip * (1.0 + 1.5 * a_spo2)
    fever = rng.random(n) < 0.7
    temp = temp + a_temp * np.where(fever, rng.normal(2.0, 0.4, n), -rng.normal(1.8, 0.3, n))
    bp = bp - a_bp * rng.normal(38.0, 8.0, n)

    flip = rng.random(n) < 0.02
    y = np.where(flip, 1 - y, y)

    spo2 = np.clip(spo2, 70.0, 100.0)
    X = np.column_stack(
        [
            np.clip(hr, 30.0, 200.0),
            np.clip(hr_std, 0.3, 30.0),
            spo2,
            np.clip(spo2 - dip, 60.0, 100.0),
            np.clip(rr, 5.0, 50.0),
            np.clip(temp, 33.0, 42.0),
            np.clip(hrv, 3.0, 200.0),
            np.clip(bp, 60.0, 230.0),
        ]
    )
    return X, y


# Vigil's weight Kalman filter defaults (src-tauri/analysis/kalman/mod.rs): home scale.
KALMAN_R = 0.5**2  # kg^2
KALMAN_Q = 0.002  # kg^2/day^3
KALMAN_GATE = 3.0
KALMAN_MAX_OUTLIERS = 3


def generate_weights(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """Generator weight-v1: daily home weights filtered as Vigil does; label 1 = decompensating.

    Each patient has a 5..42-day history ending on the same day, the first three days and the
    last day weighed, the others with the patient's adherence U(0.35, 1). True weight: a base
    N(80, 15) kg with a slow drift and a day-to-day random walk; 10 % of stable patients gain
    0.2-0.7 kg/week on purpose (appetite back), 10 % lose (diuresis, diet), 30 % have one
    transient +0.5..1.5 kg bump (a salty meal) lasting 1-2 days, sometimes in the last days.
    Decompensating patients (20 %) accumulate fluid from an onset 3-14 days before the end at
    0.08-0.5 kg/day. Each weighing adds N(0, 0.5^2) scale/day noise and, with 2 %, +1.5 kg
    (clothes). The series goes through the same constant-velocity Kalman filter as Vigil's
    (q = 0.002, R = 0.25, 3-sigma gate, weighted least-squares baseline over the first three
    points); the features are its level, trend and trend SD at the last day, and the rapid-gain
    figure of the ESC/HFA rule: the newest accepted weight minus the lowest accepted weight in
    the three days before it (0 when there is none).
    """
    rng = np.random.default_rng(seed)
    days = 42
    t_end = days - 1
    y = (rng.random(n) < 0.20).astype(np.int64)
    length = rng.integers(5, days + 1, n)
    start = days - length
    t = np.arange(days, dtype=np.float64)

    base = np.clip(rng.normal(80.0, 15.0, n), 40.0, 160.0)
    drift = rng.normal(0.0, 0.012, n)  # kg/day
    kind = rng.random(n)
    drift = np.where((y == 0) & (kind < 0.10), rng.uniform(0.03, 0.10, n), drift)
    drift = np.where((y == 0) & (kind >= 0.10) & (kind < 0.20), -rng.uniform(0.03, 0.15, n), drift)
    walk = np.cumsum(rng.normal(0.0, 0.08, (n, days)), axis=1)
    true = base[:, None] + drift[:, None] * (t[None, :] - start[:, None]) + walk

    bump = (rng.random(n) < 0.30) & (y == 0)
    bump_day = rng.integers(0, days, n)
    bump_len = rng.integers(1, 3, n)
    bump_kg = rng.uniform(0.5, 1.5, n)
    in_bump = (t[None, :] >= bump_day[:, None]) & (t[None, :] < (bump_day + bump_len)[:, None])
    true = true + np.where(bump[:, None] & in_bump, bump_kg[:, None], 0.0)

    onset = t_end - rng.integers(3, 15, n)
    rate = rng.uniform(0.08, 0.5, n)
    fluid = np.clip(t[None, :] - onset[:, None], 0.0, None) * rate[:, None]
    true = true + np.where(y[:, None] == 1, fluid, 0.0)

    z = true + rng.normal(0.0, 0.5, (n, days))
    z = z + np.where(rng.random((n, days)) < 0.02, rng.normal(1.5, 0.3, (n, days)), 0.0)
    adherence = rng.uniform(0.35, 1.0, n)
    measured = rng.random((n, days)) < adherence[:, None]
    rel = t[None, :] - start[:, None]
    measured |= (rel >= 0) & (rel <= 2)
    measured[:, t_end] = True
    measured &= rel >= 0

    # Vectorized copy of analysis::kalman::process for regular daily data.
    x = np.zeros((n, 2))
    P = np.zeros((n, 2, 2))
    last = np.zeros(n)
    run = np.zeros(n, dtype=np.int64)
    accepted = np.zeros((n, days), dtype=bool)
    forced = 0
    for d in range(days):
        init = start + 2 == d
        if init.any():
            idx = np.flatnonzero(init)
            tt = np.array([-2.0, -1.0, 0.0])
            zz = np.stack([z[idx, d - 2], z[idx, d - 1], z[idx, d]], axis=1)
            w = 1.0 / KALMAN_R
            sw, swt, swtt = 3 * w, w * tt.sum(), w * (tt * tt).sum()
            swz, swtz = w * zz.sum(axis=1), w * (zz * tt).sum(axis=1)
            det = sw * swtt - swt * swt
            inv = np.array([[swtt / det, -swt / det], [-swt / det, sw / det]])
            level = inv[0, 0] * swz + inv[0, 1] * swtz
            trend = inv[1, 0] * swz + inv[1, 1] * swtz
            chi2 = (((zz - level[:, None] - trend[:, None] * tt) ** 2) / KALMAN_R).sum(axis=1)
            scale = np.maximum(chi2 / 1.0, 1.0)
            x[idx] = np.column_stack([level, trend])
            P[idx] = scale[:, None, None] * inv[None, :, :]
            last[idx] = d
            accepted[idx, d - 2 : d + 1] = True
        step = measured[:, d] & (d > start + 2)
        if not step.any():
            continue
        idx = np.flatnonzero(step)
        h = d - last[idx]
        F = np.zeros((len(idx), 2, 2))
        F[:, 0, 0] = 1.0
        F[:, 0, 1] = h
        F[:, 1, 1] = 1.0
        Q = KALMAN_Q * np.stack(
            [np.stack([h**3 / 3, h**2 / 2], axis=1), np.stack([h**2 / 2, h], axis=1)], axis=1
        )
        xp = np.einsum("nij,nj->ni", F, x[idx])
        Pp = F @ P[idx] @ F.transpose(0, 2, 1) + Q
        innov = z[idx, d] - xp[:, 0]
        S = Pp[:, 0, 0] + KALMAN_R
        ok = np.abs(innov / np.sqrt(S)) <= KALMAN_GATE
        # Vigil re-initializes from the run after 3 consecutive outliers; here the third is
        # taken in instead (rare: a fluid gain passes the gate).
        force = ~ok & (run[idx] + 1 >= KALMAN_MAX_OUTLIERS)
        forced += int(force.sum())
        ok |= force
        K = Pp[:, :, 0] / S[:, None]
        xu = xp + K * innov[:, None]
        IKH = np.eye(2)[None] - np.einsum("ni,j->nij", K, np.array([1.0, 0.0]))
        Pu = IKH @ Pp @ IKH.transpose(0, 2, 1) + KALMAN_R * np.einsum("ni,nj->nij", K, K)
        upd = idx[ok]
        x[upd] = xu[ok]
        P[upd] = Pu[ok]
        last[upd] = d
        run[upd] = 0
        run[idx[~ok]] += 1
        accepted[upd, d] = True

    # The ESC/HFA rule's gain: newest accepted weight against the lowest accepted in the 3 days
    # before it (inclusive start), as analysis::heart_failure::rapid_gain.
    newest = np.where(accepted, t[None, :], -1.0).max(axis=1).astype(np.int64)
    newest_z = z[np.arange(n), newest]
    window = accepted & (t[None, :] >= newest[:, None] - 3) & (t[None, :] < newest[:, None])
    low = np.where(window, z, np.inf).min(axis=1)
    gain = np.where(np.isfinite(low), newest_z - low, 0.0)

    X = np.column_stack([x[:, 0], 7.0 * x[:, 1], 7.0 * np.sqrt(np.maximum(P[:, 1, 1], 0.0)), gain])
    return X, y, {"forced_accepts": forced}


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------


def train_gbt(X: np.ndarray, y: np.ndarray, n_estimators: int, seed: int) -> GradientBoostingClassifier:
    clf = GradientBoostingClassifier(
        n_estimators=n_estimators, max_depth=3, learning_rate=0.1, subsample=1.0, random_state=seed
    )
    clf.fit(X.astype(np.float32), y)
    return clf


def to_onnx(clf: GradientBoostingClassifier, n_features: int, graph_name: str, doc: str) -> onnx.ModelProto:
    model = convert_sklearn(
        clf,
        initial_types=[("features", FloatTensorType([None, n_features]))],
        options={id(clf): {"zipmap": False}},
        target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
    )
    # skl2onnx declares the lowest default-domain opset its nodes need (16 for the one
    # Identity); declare OPSET instead so every package says the same. Opset 17 changed none
    # of the operators used here, so the graph means the same (the checker runs below).
    set_opset(model, "", OPSET)
    model.graph.name = graph_name  # skl2onnx names the graph with a random UUID
    model.doc_string = doc
    onnx.checker.check_model(model, full_check=True)
    return model


def set_opset(model: onnx.ModelProto, domain: str, version: int) -> None:
    for imp in model.opset_import:
        if imp.domain == domain:
            imp.version = version
            return
    model.opset_import.append(helper.make_opsetid(domain, version))


def default_opset(model: onnx.ModelProto) -> int:
    return next(i.version for i in model.opset_import if i.domain in ("", "ai.onnx"))


def session(model_bytes: bytes) -> ort.InferenceSession:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 4  # fatal only: the error fixture's failures are expected
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def ort_scores(sess: ort.InferenceSession, X: np.ndarray, output: str = "probabilities", index: int = 1) -> np.ndarray:
    return sess.run([output], {"features": X.astype(np.float32)})[0][:, index].astype(np.float64)


def with_nan_above(model: onnx.ModelProto, limit: float) -> onnx.ModelProto:
    """The GBT graph, with its probabilities replaced by NaN in rows whose hr_mean > limit."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    _rename_output(g, "probabilities", "gbt_probabilities")
    g.initializer.extend(
        [
            numpy_helper.from_array(np.array([0], dtype=np.int64), "fx_hr_index"),
            numpy_helper.from_array(np.array(limit, dtype=np.float32), "fx_limit"),
            numpy_helper.from_array(np.array(np.nan, dtype=np.float32), "fx_nan"),
        ]
    )
    g.node.extend(
        [
            helper.make_node("Gather", ["features", "fx_hr_index"], ["fx_hr"], axis=1, name="fx_hr"),
            helper.make_node("Greater", ["fx_hr", "fx_limit"], ["fx_above"], name="fx_above"),
            helper.make_node("Where", ["fx_above", "fx_nan", "gbt_probabilities"], ["probabilities"], name="fx_where"),
        ]
    )
    g.output.append(helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2]))
    m.doc_string = "Test fixture: NaN scores when hr_mean > 120. Not for clinical use."
    onnx.checker.check_model(m, full_check=True)
    return m


def with_error_above(model: onnx.ModelProto, limit: float) -> onnx.ModelProto:
    """The GBT graph, with a Reshape whose target is [N, 2 + 3k], k = 1 when any row's hr_mean >
    limit: [N, 2] -> [N, 5] cannot hold the same elements, so onnxruntime fails the run."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    _rename_output(g, "probabilities", "gbt_probabilities")
    g.initializer.extend(
        [
            numpy_helper.from_array(np.array([0], dtype=np.int64), "fx_hr_index"),
            numpy_helper.from_array(np.array(limit, dtype=np.float32), "fx_limit"),
            numpy_helper.from_array(np.array(3.0, dtype=np.float32), "fx_three"),
            numpy_helper.from_array(np.array(2.0, dtype=np.float32), "fx_two"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "fx_shape_1"),
        ]
    )
    g.node.extend(
        [
            helper.make_node("Gather", ["features", "fx_hr_index"], ["fx_hr"], axis=1, name="fx_hr"),
            helper.make_node("Greater", ["fx_hr", "fx_limit"], ["fx_above"], name="fx_above"),
            helper.make_node("Cast", ["fx_above"], ["fx_above_f"], to=TensorProto.FLOAT, name="fx_cast_f"),
            helper.make_node("ReduceMax", ["fx_above_f"], ["fx_any"], keepdims=1, name="fx_any"),
            helper.make_node("Mul", ["fx_any", "fx_three"], ["fx_extra"], name="fx_extra"),
            helper.make_node("Add", ["fx_extra", "fx_two"], ["fx_cols_f"], name="fx_cols_f"),
            helper.make_node("Cast", ["fx_cols_f"], ["fx_cols_2d"], to=TensorProto.INT64, name="fx_cast_i"),
            helper.make_node("Reshape", ["fx_cols_2d", "fx_shape_1"], ["fx_cols"], name="fx_cols"),
            helper.make_node("Shape", ["gbt_probabilities"], ["fx_rows"], start=0, end=1, name="fx_rows"),
            helper.make_node("Concat", ["fx_rows", "fx_cols"], ["fx_target"], axis=0, name="fx_target"),
            helper.make_node("Reshape", ["gbt_probabilities", "fx_target"], ["probabilities"], name="fx_reshape"),
        ]
    )
    g.output.append(helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2]))
    m.doc_string = "Test fixture: onnxruntime fails the run when hr_mean > 120. Not for clinical use."
    onnx.checker.check_model(m, full_check=True)
    return m


def _rename_output(g: onnx.GraphProto, old: str, new: str) -> None:
    for node in g.node:
        node.output[:] = [new if o == old else o for o in node.output]
    keep = [o for o in g.output if o.name != old]
    del g.output[:]
    g.output.extend(keep)


OPSET99_W = np.array([[0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]], dtype=np.float32).T  # [8, 1]
OPSET99_B = np.array([-9.0], dtype=np.float32)


def opset99_model(opset: int) -> onnx.ModelProto:
    """features [N, 8] -> s = Sigmoid(0.1 * hr_mean - 9) -> probabilities [N, 2] = [1 - s, s]."""
    nodes = [
        helper.make_node("MatMul", ["features", "w"], ["z0"], name="z0"),
        helper.make_node("Add", ["z0", "b"], ["z"], name="z"),
        helper.make_node("Sigmoid", ["z"], ["s"], name="s"),
        helper.make_node("Sub", ["one", "s"], ["not_s"], name="not_s"),
        helper.make_node("Concat", ["not_s", "s"], ["probabilities"], axis=1, name="probabilities"),
    ]
    graph = helper.make_graph(
        nodes,
        "early_warning_opset99",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, 8])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])],
        initializer=[
            numpy_helper.from_array(OPSET99_W, "w"),
            numpy_helper.from_array(OPSET99_B, "b"),
            numpy_helper.from_array(np.array([[1.0]], dtype=np.float32), "one"),
        ],
    )
    m = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opset)],
        producer_name="vigil scripts/models/train.py",
        producer_version="1",
        ir_version=8,
        doc_string="Test fixture: imports default-domain opset 99, which no runtime has. Not for clinical use.",
    )
    return m


def opset99_scores(X: np.ndarray) -> np.ndarray:
    z = X.astype(np.float32) @ OPSET99_W + OPSET99_B
    return (1.0 / (1.0 + np.exp(-z.astype(np.float64))))[:, 0]


CONSTANT_LOW = 0.25  # exact in float32, and 0.75 - 0.25 = 0.5 exactly: margins can be set on it
CONSTANT_HIGH = 0.75
CONSTANT_CRITICAL = 0.9375  # exact in float32; critical (>= 0.85)


def constant_model(score: float) -> onnx.ModelProto:
    """features [N, 8] -> probabilities [N, 2] = features @ 0 + [1 - score, score], at opset 17."""
    nodes = [
        helper.make_node("MatMul", ["features", "zero"], ["z"], name="z"),
        helper.make_node("Add", ["z", "bias"], ["probabilities"], name="probabilities"),
    ]
    graph = helper.make_graph(
        nodes,
        "early_warning_constant",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, 8])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])],
        initializer=[
            numpy_helper.from_array(np.zeros((8, 2), dtype=np.float32), "zero"),
            numpy_helper.from_array(np.array([[1.0 - score, score]], dtype=np.float32), "bias"),
        ],
    )
    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="vigil scripts/models/train.py",
        producer_version="1",
        ir_version=8,
        doc_string=f"Test fixture: scores {score} for every input. Not for clinical use.",
    )


# --------------------------------------------------------------------------------------------
# Test vectors
# --------------------------------------------------------------------------------------------

# Hand-picked points: normal, borderline, clearly abnormal.
EW_PROTOTYPES = [
    [72.0, 3.0, 97.5, 95.0, 14.0, 36.8, 42.0, 122.0],  # normal adult at rest
    [55.0, 2.5, 98.5, 97.0, 12.0, 36.5, 70.0, 112.0],  # fit, bradycardic, high HRV
    [88.0, 4.0, 96.0, 93.5, 17.0, 37.3, 30.0, 118.0],  # slightly busy but normal
    [100.0, 4.0, 97.0, 95.0, 15.0, 36.9, 35.0, 125.0],  # isolated mild tachycardia
    [92.0, 4.0, 96.0, 94.0, 18.0, 37.5, 30.0, 115.0],  # borderline
    [82.0, 3.5, 96.5, 94.0, 22.0, 37.0, 36.0, 120.0],  # borderline: respiratory rate 22
    [76.0, 3.0, 97.0, 95.0, 15.0, 38.4, 38.0, 124.0],  # isolated fever
    [98.0, 5.0, 95.0, 92.0, 20.0, 37.9, 25.0, 108.0],  # several mild abnormalities together
    [112.0, 6.5, 89.0, 84.0, 28.0, 37.2, 15.0, 118.0],  # hypoxic, tachypnoeic
    [118.0, 7.0, 95.0, 92.0, 24.0, 35.2, 14.0, 86.0],  # hypothermic, hypotensive
    [126.0, 8.0, 92.0, 87.0, 26.0, 39.2, 12.0, 92.0],  # septic picture (hr_mean > 120)
    [140.0, 9.5, 96.0, 93.0, 18.0, 37.0, 10.0, 130.0],  # isolated marked tachycardia
]
HF_PROTOTYPES = [
    [80.0, 0.05, 0.60, 0.30],  # stable
    [95.0, -0.30, 0.90, 0.80],  # stable, noisy and sparse
    [85.0, -1.50, 0.60, -0.50],  # losing weight (diuresis)
    [88.0, 0.20, 0.60, 2.10],  # one heavy day, no trend
    [78.0, 0.90, 0.60, 1.40],  # borderline gain
    [82.0, 1.50, 0.65, 2.30],  # the ESC/HFA rule fires, rising trend
    [70.0, 3.00, 0.70, 3.20],  # clear fluid gain
    [110.0, 2.20, 1.10, 1.00],  # fast trend, uncertain
]
QUANTILES = [0.01, 0.05, 0.15, 0.3, 0.45, 0.6, 0.75, 0.85, 0.95, 0.99]


def pick_vectors(
    prototypes: list[list[float]],
    X_pool: np.ndarray,
    score: np.ndarray,
    allowed: np.ndarray | None = None,
) -> np.ndarray:
    """Prototypes plus pool points nearest to risk quantiles of the pool, rounded to 2 decimals."""
    rows = [np.array(p, dtype=np.float64) for p in prototypes]
    mask = np.ones(len(X_pool), dtype=bool) if allowed is None else allowed
    pool = np.flatnonzero(mask)
    targets = np.quantile(score[pool], QUANTILES)
    used: set[int] = set()
    for q in targets:
        order = pool[np.argsort(np.abs(score[pool] - q), kind="stable")]
        i = next(int(j) for j in order if int(j) not in used)
        used.add(i)
        rows.append(X_pool[i])
    return np.round(np.array(rows), 2)


# --------------------------------------------------------------------------------------------
# Packages
# --------------------------------------------------------------------------------------------


def created_timestamp() -> str:
    sde = os.environ.get("SOURCE_DATE_EPOCH")
    if sde:
        when = dt.datetime.fromtimestamp(int(sde), tz=dt.timezone.utc)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")
    return DEFAULT_CREATED


def libraries() -> str:
    return (
        f"scikit-learn {sklearn.__version__}, skl2onnx {skl2onnx.__version__}, onnx {onnx.__version__}, "
        f"onnxruntime {ort.__version__}, numpy {np.__version__}"
    )


def manifest(
    name: str,
    version: str,
    agent: str,
    features: list[tuple[str, str]],
    meaning: str,
    opset: int,
    notes: str,
    generator: str,
    seed: int,
    samples: int,
) -> dict:
    return {
        "name": name,
        "version": version,
        "agent": agent,
        "features": [{"name": f, "unit": u} for f, u in features],
        "input": {"name": "features", "shape": [1, len(features)]},
        "output": {"name": "probabilities", "index": 1, "meaning": meaning},
        "opset": opset,
        "min_app_version": MIN_APP_VERSION,
        "created": created_timestamp(),
        "notes": notes,
        "demonstration": True,
        "training": {
            "generator": f"{SCRIPT} {generator}",
            "seed": seed,
            "samples": samples,
            "libraries": libraries(),
        },
    }


def vectors_json(inputs: np.ndarray, expected: np.ndarray) -> dict:
    return {
        "tolerance": TOLERANCE,
        "vectors": [
            {"input": [float(v) for v in row], "expected": float(e)} for row, e in zip(inputs, expected)
        ],
    }


def write_package(root: Path, man: dict, model: onnx.ModelProto, vectors: dict) -> Path:
    d = root / f"{man['name']}-{man['version']}"
    if d.exists():
        shutil.rmtree(d)
    d.mkdir(parents=True)
    (d / "manifest.json").write_text(json.dumps(man, indent=2, allow_nan=False) + "\n")
    (d / "model.onnx").write_bytes(model.SerializeToString())
    (d / "test_vectors.json").write_text(dump_vectors(vectors))
    return d


def dump_vectors(vectors: dict) -> str:
    """JSON with one vector a line, for readable diffs."""
    lines = [json.dumps(v, allow_nan=False) for v in vectors["vectors"]]
    body = ",\n    ".join(lines)
    return f'{{\n  "tolerance": {json.dumps(vectors["tolerance"])},\n  "vectors": [\n    {body}\n  ]\n}}\n'


def expected_from_saved(model: onnx.ModelProto, inputs: np.ndarray) -> np.ndarray:
    """Scores from the serialized model, as the package will hold it."""
    return ort_scores(session(model.SerializeToString()), inputs)


def check_sklearn_agrees(clf: GradientBoostingClassifier, sess: ort.InferenceSession, X: np.ndarray, what: str) -> float:
    sk = clf.predict_proba(X.astype(np.float32))[:, 1]
    ox = ort_scores(sess, X)
    diff = float(np.max(np.abs(sk - ox)))
    assert diff < 1e-5, f"{what}: sklearn and onnxruntime differ by {diff}"
    return diff


# --------------------------------------------------------------------------------------------
# Verification of a written package directory
# --------------------------------------------------------------------------------------------

MANIFEST_KEYS = [
    "name", "version", "agent", "features", "input", "output", "opset", "min_app_version",
    "created", "notes", "demonstration", "training",
]


def verify_package(d: Path, loadable: bool = True) -> dict:
    man = json.loads((d / "manifest.json").read_text())
    vec = json.loads((d / "test_vectors.json").read_text())
    raw = (d / "model.onnx").read_bytes()
    assert list(man) == MANIFEST_KEYS, f"{d}: manifest keys {list(man)}"
    assert set(man["training"]) == {"generator", "seed", "samples", "libraries"}
    assert d.name == f"{man['name']}-{man['version']}"
    n_feat = len(man["features"])
    assert man["input"]["shape"] == [1, n_feat]
    model = onnx.load_from_string(raw)
    assert default_opset(model) == man["opset"], f"{d}: opset {default_opset(model)} != {man['opset']}"
    assert len(vec["vectors"]) >= 12
    assert all(len(v["input"]) == n_feat for v in vec["vectors"])
    row = {
        "package": d.name,
        "bytes": len(raw),
        "opset": man["opset"],
        "ml_opset": next((i.version for i in model.opset_import if i.domain == "ai.onnx.ml"), None),
        "vectors": len(vec["vectors"]),
    }
    if not loadable:
        try:
            session(raw)
        except Exception as e:  # noqa: BLE001 - any load failure is what this fixture is for
            row["result"] = "ORT refuses to load (as intended)"
            row["load_error"] = str(e).splitlines()[0]
            return row
        raise AssertionError(f"{d}: onnxruntime loaded a model it should refuse")
    sess = session(raw)
    inp = sess.get_inputs()
    assert len(inp) == 1 and inp[0].name == man["input"]["name"] and inp[0].type == "tensor(float)"
    batch = inp[0].shape[0]
    assert inp[0].shape[1] == n_feat and (batch == 1 or batch is None or isinstance(batch, str)), inp[0].shape
    outs = {o.name: o for o in sess.get_outputs()}
    out = outs[man["output"]["name"]]
    assert out.type == "tensor(float)"
    X = np.array([v["input"] for v in vec["vectors"]], dtype=np.float32)
    worst = 0.0
    for x, v in zip(X, vec["vectors"]):
        got = sess.run([out.name], {inp[0].name: x[None, :]})[0]
        assert got.shape[0] == 1 and got.shape[1] > man["output"]["index"], f"{d}: output shape {got.shape}"
        err = abs(float(got[0, man["output"]["index"]]) - v["expected"])
        assert err <= vec["tolerance"], f"{d}: vector off by {err}"
        worst = max(worst, err)
    row["result"] = f"{len(X)}/{len(X)} vectors pass (max err {worst:.1e})"
    row["outputs"] = [(o.name, o.type, o.shape) for o in sess.get_outputs()]
    return row


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

N_SAMPLES = 20000
EW_TREES = 60
EW_TREES_11 = 70
HF_TREES = 60


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True, help="directory for the package directories")
    ap.add_argument("--fixtures", type=Path, help="also write the test fixtures here")
    args = ap.parse_args()
    times: dict[str, float] = {}
    written: list[tuple[Path, bool]] = []

    # ---- early warning 1.0.0 -------------------------------------------------------------
    t0 = time.perf_counter()
    X, y = generate_vitals(N_SAMPLES, seed=1)
    ew = train_gbt(X, y, EW_TREES, seed=1)
    times["early-warning-gbt-1.0.0"] = time.perf_counter() - t0
    ew_doc = "Vigil early-warning-gbt 1.0.0: " + NOT_CLINICAL + "."
    ew_onnx = to_onnx(ew, len(EW_FEATURES), "early_warning_gbt", ew_doc)
    ew_sess = session(ew_onnx.SerializeToString())

    X_pool, y_pool = generate_vitals(N_SAMPLES, seed=1001)  # held out
    pool_score = ort_scores(ew_sess, X_pool)
    sk_diff_ew = check_sklearn_agrees(ew, ew_sess, X_pool, "early warning pool")
    ew_inputs = pick_vectors(EW_PROTOTYPES, X_pool, pool_score)
    ew_expected = expected_from_saved(ew_onnx, ew_inputs)
    check_sklearn_agrees(ew, ew_sess, ew_inputs, "early warning vectors")
    ew_meaning = (
        "Probability (0..1) that the 5-minute vitals window belongs to the synthetic 'deteriorating' "
        f"class of generator {GENERATOR_VITALS} (tachycardia, tachypnoea, low SpO2, fever or "
        f"hypothermia, low systolic pressure, low HRV; loosely after NEWS2) ({NOT_CLINICAL})"
    )

    def ew_manifest(version: str, seed: int, name: str = "early-warning-gbt", notes: str | None = None, opset: int = OPSET, generator: str = GENERATOR_VITALS, samples: int = N_SAMPLES) -> dict:
        return manifest(
            name, version, "early_warning", EW_FEATURES, ew_meaning, opset,
            notes or f"Demonstration model, not for clinical use. Trained on synthetic data from {SCRIPT} (seed {seed}).",
            generator, seed, samples,
        )

    ew_man = ew_manifest("1.0.0", 1)
    ew_vec = vectors_json(ew_inputs, ew_expected)
    written.append((write_package(args.out, ew_man, ew_onnx, ew_vec), True))

    # ---- heart failure 1.0.0 -------------------------------------------------------------
    t0 = time.perf_counter()
    Xh, yh, hinfo = generate_weights(N_SAMPLES, seed=1)
    gen_hf = time.perf_counter() - t0
    hf = train_gbt(Xh, yh, HF_TREES, seed=1)
    times["heart-failure-gbt-1.0.0"] = time.perf_counter() - t0
    hf_onnx = to_onnx(hf, len(HF_FEATURES), "heart_failure_gbt", "Vigil heart-failure-gbt 1.0.0: " + NOT_CLINICAL + ".")
    hf_sess = session(hf_onnx.SerializeToString())
    Xh_pool, yh_pool, _ = generate_weights(N_SAMPLES, seed=1001)
    hpool_score = ort_scores(hf_sess, Xh_pool)
    sk_diff_hf = check_sklearn_agrees(hf, hf_sess, Xh_pool, "heart failure pool")
    hf_inputs = pick_vectors(HF_PROTOTYPES, Xh_pool, hpool_score)
    hf_expected = expected_from_saved(hf_onnx, hf_inputs)
    check_sklearn_agrees(hf, hf_sess, hf_inputs, "heart failure vectors")
    hf_man = manifest(
        "heart-failure-gbt", "1.0.0", "heart_failure", HF_FEATURES,
        "Probability (0..1) that the daily weight series belongs to the synthetic 'decompensating' "
        f"(fluid gain) class of generator {GENERATOR_WEIGHT}, from the Kalman-filtered level, trend, "
        f"trend SD and the ESC/HFA 3-day gain ({NOT_CLINICAL})",
        OPSET,
        f"Demonstration model, not for clinical use. Trained on synthetic data from {SCRIPT} (seed 1).",
        GENERATOR_WEIGHT, 1, N_SAMPLES,
    )
    written.append((write_package(args.out, hf_man, hf_onnx, vectors_json(hf_inputs, hf_expected)), True))

    report = {
        "sklearn_vs_ort_ew": sk_diff_ew,
        "sklearn_vs_ort_hf": sk_diff_hf,
        "hf_generator_seconds": gen_hf,
        "hf_forced_accepts": hinfo["forced_accepts"],
    }
    for name, (Xp, yp, sc) in {"early warning": (X_pool, y_pool, pool_score), "heart failure": (Xh_pool, yh_pool, hpool_score)}.items():
        report[f"auc {name}"] = auc(yp, sc)
        report[f"prevalence {name}"] = float(yp.mean())

    # ---- fixtures ------------------------------------------------------------------------
    if args.fixtures:
        fx = args.fixtures
        # 1. the same 1.0.0 package
        written.append((write_package(fx, ew_man, ew_onnx, ew_vec), True))

        # 2. 1.1.0: retrained on fresh data (seed 2) with a few more trees
        t0 = time.perf_counter()
        X2, y2 = generate_vitals(N_SAMPLES, seed=2)
        ew11 = train_gbt(X2, y2, EW_TREES_11, seed=2)
        times["early-warning-gbt-1.1.0"] = time.perf_counter() - t0
        ew11_onnx = to_onnx(ew11, len(EW_FEATURES), "early_warning_gbt", "Vigil early-warning-gbt 1.1.0: " + NOT_CLINICAL + ".")
        ew11_sess = session(ew11_onnx.SerializeToString())
        check_sklearn_agrees(ew11, ew11_sess, X_pool, "early warning 1.1.0 pool")
        X_cmp, _ = generate_vitals(N_SAMPLES, seed=3)
        p10, p11 = ort_scores(ew_sess, X_cmp), ort_scores(ew11_sess, X_cmp)
        gap = np.abs(p10 - p11)
        report["1.1.0 vs 1.0.0: share |dp| > 0.2"] = float(np.mean(gap > 0.2))
        report["1.1.0 vs 1.0.0: share |dp| > 0.1"] = float(np.mean(gap > 0.1))
        report["1.1.0 vs 1.0.0: mean |dp|"] = float(np.mean(gap))
        report["1.1.0 vs 1.0.0: max |dp|"] = float(np.max(gap))
        assert np.mean(gap > 0.2) < 0.02, "1.1.0 disagrees with 1.0.0 too often"
        ew11_inputs = pick_vectors(EW_PROTOTYPES, X_pool, ort_scores(ew11_sess, X_pool))
        written.append(
            (write_package(fx, ew_manifest("1.1.0", 2), ew11_onnx,
                           vectors_json(ew11_inputs, expected_from_saved(ew11_onnx, ew11_inputs))), True)
        )

        # 3. NaN above hr_mean 120
        normal = X_pool[:, 0] <= HR_LIMIT - 0.01
        protos_ok = [p for p in EW_PROTOTYPES if p[0] <= HR_LIMIT]
        fx_inputs = pick_vectors(protos_ok, X_pool, pool_score, allowed=normal)
        assert (fx_inputs[:, 0] <= HR_LIMIT).all()
        nan_onnx = with_nan_above(ew_onnx, HR_LIMIT)
        nan_sess = session(nan_onnx.SerializeToString())
        nan_expected = expected_from_saved(nan_onnx, fx_inputs)
        assert np.array_equal(nan_expected, ort_scores(ew_sess, fx_inputs)), "NaN fixture differs from 1.0.0"
        high = X_pool[X_pool[:, 0] > HR_LIMIT][:50]
        assert np.isnan(ort_scores(nan_sess, high)).all(), "NaN fixture gives numbers above the limit"
        assert np.isnan(ort_scores(nan_sess, np.array([[120.5, 3, 97, 95, 14, 36.8, 40, 120]]))).all()
        assert not np.isnan(ort_scores(nan_sess, np.array([[120.0, 3, 97, 95, 14, 36.8, 40, 120]]))).any()
        report["nan fixture: NaN for hr_mean > 120 rows"] = f"{len(high)}/{len(high)}"
        written.append(
            (write_package(fx, ew_manifest(
                "9.0.0", 1, name="early-warning-nan",
                notes="Test fixture, not for clinical use: early-warning-gbt 1.0.0 (seed 1) whose score is NaN "
                      "when hr_mean > 120. Its test vectors all have hr_mean <= 120 and pass.",
            ), nan_onnx, vectors_json(fx_inputs, nan_expected)), True)
        )

        # 4. runtime error above hr_mean 120
        err_onnx = with_error_above(ew_onnx, HR_LIMIT)
        err_sess = session(err_onnx.SerializeToString())
        err_expected = expected_from_saved(err_onnx, fx_inputs)
        assert np.array_equal(err_expected, ort_scores(ew_sess, fx_inputs)), "error fixture differs from 1.0.0"
        for row in fx_inputs:  # one row at a time, as the app runs it
            ort_scores(err_sess, row[None, :])
        raised = 0
        message = ""
        for row in high[:10]:
            try:
                ort_scores(err_sess, row[None, :])
            except Exception as e:  # noqa: BLE001 - onnxruntime raises its own exception types
                raised += 1
                message = f"{type(e).__name__}: {str(e).splitlines()[0]}"
        assert raised == 10, "error fixture did not raise above the limit"
        report["error fixture: raises for hr_mean > 120 rows"] = f"{raised}/10"
        report["error fixture: message"] = message
        written.append(
            (write_package(fx, ew_manifest(
                "9.1.0", 1, name="early-warning-error",
                notes="Test fixture, not for clinical use: early-warning-gbt 1.0.0 (seed 1) with a data-dependent "
                      "Reshape that makes onnxruntime fail the run when hr_mean > 120. Its test vectors all have "
                      "hr_mean <= 120 and pass.",
            ), err_onnx, vectors_json(fx_inputs, err_expected)), True)
        )

        # 5. opset 99
        probe = opset99_model(OPSET)  # the same graph at a real opset, to check the arithmetic
        onnx.checker.check_model(probe, full_check=True)
        o99_inputs = pick_vectors(EW_PROTOTYPES, X_pool, pool_score)
        o99_expected = opset99_scores(o99_inputs)
        got = ort_scores(session(probe.SerializeToString()), o99_inputs)
        assert np.max(np.abs(got - o99_expected)) < 1e-6, "opset fixture arithmetic"
        o99 = opset99_model(99)
        written.append(
            (write_package(fx, ew_manifest(
                "1.0.0", 0, name="early-warning-opset99", opset=99, generator="fixture-opset99 (not trained)",
                samples=0,
                notes="Test fixture, not for clinical use: a tiny untrained graph, probabilities = "
                      "[1 - s, s] with s = sigmoid(0.1 * hr_mean - 9), that imports default-domain opset 99, "
                      "which no onnxruntime supports. Its expected values are computed with numpy.",
            ), o99, vectors_json(o99_inputs, o99_expected)), False)
        )

        # 6. constant scores: one below and one above a rules score in between, 0.5 apart; and
        #    one in the critical band, marked demonstration (a demonstration model may not make a
        #    finding critical by itself)
        for version, score in (("9.2.0", CONSTANT_LOW), ("9.3.0", CONSTANT_HIGH), ("9.4.0", CONSTANT_CRITICAL)):
            const = constant_model(score)
            onnx.checker.check_model(const, full_check=True)
            const_expected = expected_from_saved(const, o99_inputs)
            assert (const_expected == np.float32(score)).all(), f"constant fixture {score}"
            name = {CONSTANT_LOW: "early-warning-low", CONSTANT_HIGH: "early-warning-high"}.get(
                score, "early-warning-critical-demo")
            written.append(
                (write_package(fx, ew_manifest(
                    version, 0, name=name, generator="fixture-constant (not trained)", samples=0,
                    notes=f"Test fixture, not for clinical use: an untrained graph, probabilities = "
                          f"features @ 0 + [{1 - score}, {score}], that scores {score} for every input.",
                ), const, vectors_json(o99_inputs, const_expected)), True)
            )

    # ---- verify and summarize --------------------------------------------------------------
    rows = [verify_package(d, loadable) for d, loadable in written]
    print(f"{'package':<40} {'where':<8} {'bytes':>8} {'opset':>5} {'ml':>3} {'vec':>4}  result")
    for (d, _), r in zip(written, rows):
        where = "fixture" if args.fixtures and d.parent == args.fixtures else "out"
        print(f"{r['package']:<40} {where:<8} {r['bytes']:>8} {r['opset']:>5} {str(r['ml_opset'] or '-'):>3} "
              f"{r['vectors']:>4}  {r['result']}")
    print()
    shown = set()
    for r in rows:
        if "outputs" in r and r["package"] not in shown:
            shown.add(r["package"])
            print(f"{r['package']}: outputs {r['outputs']}")
        if "load_error" in r:
            print(f"{r['package']}: {r['load_error']}")
    print()
    for k, v in report.items():
        print(f"{k}: {v:.6g}" if isinstance(v, float) else f"{k}: {v}")
    for k, v in times.items():
        print(f"training time {k}: {v:.2f} s")
    big = [r for r in rows if r["bytes"] > 200_000]
    assert not big, f"model files over 200 KB: {big}"
    return 0


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney), ties counted half."""
    order = np.argsort(score, kind="stable")
    ranks = np.empty(len(score))
    s = score[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


if __name__ == "__main__":
    sys.exit(main())
