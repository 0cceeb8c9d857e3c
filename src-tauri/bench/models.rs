//! `vigil bench models`: the model packages' figures, each beside a reference from the same run.
//!
//! 1. Inference inside an assessment: the early-warning agent with its model active
//!    ([`ModelAgent`]) against the same agent on rules only; and the bare `score` call.
//! 2. Swap latency as readers see it: four threads evaluating while the active model is
//!    swapped back and forth, against the same threads with no swaps; and the swap call itself.
//! 3. Install to active: verify, load, warm up, test vectors, store, activate, on a fresh
//!    encrypted store.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use serde::Serialize;

use super::{full_context, percentile};
use crate::agents::{Agent, RulesAgent, Specialty};
use crate::models::defaults::{DEV_PUBLIC_KEY, PACKAGES};
use crate::models::trust::KeyOrigin;
use crate::models::{LoadedModel, ModelAgent, ModelSlot, Package, RolloutPolicy, TrustSet, TrustedKey};
use crate::workstation::{OpenOptions, Rollout, Workstation};

/// The figures (milliseconds).
#[derive(Debug, Clone, Serialize)]
pub struct ModelsBenchReport {
    /// Assessments timed per variant.
    pub assessments: usize,
    /// Early-warning finding with the model: p50.
    pub with_model_p50_ms: f64,
    /// p99.
    pub with_model_p99_ms: f64,
    /// The same finding from the rules alone: p50.
    pub rules_p50_ms: f64,
    /// p99.
    pub rules_p99_ms: f64,
    /// `LoadedModel::score` alone: p50.
    pub score_p50_ms: f64,
    /// p99.
    pub score_p99_ms: f64,
    /// Swaps done while readers ran.
    pub swaps: usize,
    /// Reader evaluation latency during swaps: p50, p99, max.
    pub readers_swapping_ms: [f64; 3],
    /// The same with no swaps.
    pub readers_quiet_ms: [f64; 3],
    /// The swap call: p50, p99.
    pub swap_call_ms: [f64; 2],
    /// Install to active, p50 over `installs`.
    pub install_p50_ms: f64,
    /// Max.
    pub install_max_ms: f64,
    /// Installs timed.
    pub installs: usize,
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(f64::total_cmp);
    v
}

fn p3(v: Vec<f64>) -> [f64; 3] {
    let v = sorted(v);
    [percentile(&v, 50.0), percentile(&v, 99.0), v.last().copied().unwrap_or(f64::NAN)]
}

fn readers(
    slot: &Arc<ModelSlot>,
    x: &[f32],
    swap_with: Option<&[Arc<LoadedModel>; 2]>,
) -> (Vec<f64>, Vec<f64>) {
    let stop = Arc::new(AtomicBool::new(false));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (slot, stop, x) = (Arc::clone(slot), Arc::clone(&stop), x.to_vec());
            std::thread::spawn(move || {
                let mut lat = Vec::with_capacity(100_000);
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let _ = slot.evaluate(&x, 0.0);
                    lat.push(t.elapsed().as_secs_f64() * 1e3);
                }
                lat
            })
        })
        .collect();
    let mut swaps = Vec::new();
    let started = Instant::now();
    let mut i = 0;
    while started.elapsed().as_millis() < 1500 {
        if let Some(models) = swap_with {
            let t = Instant::now();
            slot.activate(Arc::clone(&models[i % 2]), "bench");
            swaps.push(t.elapsed().as_secs_f64() * 1e3);
            i += 1;
        }
        std::thread::sleep(std::time::Duration::from_micros(500));
    }
    stop.store(true, Ordering::Relaxed);
    slot.drain_events();
    let lat = threads.into_iter().flat_map(|t| t.join().unwrap_or_default()).collect();
    (lat, swaps)
}

/// Runs the three measurements on the built-in default packages (ONNX Runtime required).
pub async fn models_bench(assessments: usize, installs: usize) -> anyhow::Result<ModelsBenchReport> {
    let trusted = TrustedKey::parse(DEV_PUBLIC_KEY, "dev", KeyOrigin::Config, "built-in")?;
    let trust = TrustSet { keys: vec![trusted] };
    let (name, bytes) = PACKAGES[0];
    let verified = Package::verify(bytes, &trust).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    let model = Arc::new(LoadedModel::load(&verified).map_err(|e| anyhow::anyhow!("{name}: {e}"))?);
    let twin = Arc::new(LoadedModel::load(&verified).map_err(|e| anyhow::anyhow!("{name}: {e}"))?);

    // 1. Inside an assessment.
    let ctx = full_context("bench");
    let slot = Arc::new(ModelSlot::new(Specialty::EarlyWarning, RolloutPolicy::default()));
    slot.activate(Arc::clone(&model), "bench");
    slot.drain_events();
    let agent = ModelAgent::new(Arc::clone(&slot), None);
    let rules = RulesAgent::new(Specialty::EarlyWarning);
    let features = crate::models::features::Schema::of(Specialty::EarlyWarning).extract(&ctx).values;
    let (mut with, mut without, mut score) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..assessments + 500 {
        let t = Instant::now();
        let f = agent.assess_now(&ctx);
        let a = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let g = crate::agents::rules::assess(Agent::specialty(&rules), &ctx);
        let b = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let s = model.score(&features);
        let c = t.elapsed().as_secs_f64() * 1e3;
        let _ = std::hint::black_box((f, g, s));
        if i >= 500 {
            with.push(a);
            without.push(b);
            score.push(c);
        }
    }
    let (with, without, score) = (sorted(with), sorted(without), sorted(score));

    // 2. Swaps as readers see them.
    let (quiet, _) = tokio::task::block_in_place(|| readers(&slot, &features, None));
    let pair = [Arc::clone(&twin), Arc::clone(&model)];
    let (swapping, swap_calls) = tokio::task::block_in_place(|| readers(&slot, &features, Some(&pair)));
    let swap_calls = sorted(swap_calls);

    // 3. Install to active on a fresh encrypted store.
    let dir = tempfile::tempdir()?;
    let options = OpenOptions {
        data_dir: dir.path().join("data"),
        key_source: Some(crate::store::KeySource::File(dir.path().join("key"))),
        create: true,
        purpose: crate::workstation::StorePurpose::Demo,
    };
    let ws = Workstation::open(options).await?;
    super::sign_in_as(&ws, crate::domain::access::Role::It).await?;
    ws.add_trusted_key(DEV_PUBLIC_KEY, "dev").await?;
    let mut install = Vec::new();
    for i in 0..installs {
        let (name, bytes) = PACKAGES[i % PACKAGES.len()];
        let t = Instant::now();
        ws.install_package_bytes(name, bytes.to_vec(), Rollout::Activate).await?;
        install.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ws.close().await;
    let install = sorted(install);
    Ok(ModelsBenchReport {
        assessments,
        with_model_p50_ms: percentile(&with, 50.0),
        with_model_p99_ms: percentile(&with, 99.0),
        rules_p50_ms: percentile(&without, 50.0),
        rules_p99_ms: percentile(&without, 99.0),
        score_p50_ms: percentile(&score, 50.0),
        score_p99_ms: percentile(&score, 99.0),
        swaps: swap_calls.len(),
        readers_swapping_ms: p3(swapping),
        readers_quiet_ms: p3(quiet),
        swap_call_ms: [percentile(&swap_calls, 50.0), percentile(&swap_calls, 99.0)],
        install_p50_ms: percentile(&install, 50.0),
        install_max_ms: install.last().copied().unwrap_or(f64::NAN),
        installs,
    })
}
