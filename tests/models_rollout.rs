//! Model rollouts (issue 6) on real ONNX models (tests/fixtures/models, made by
//! scripts/models/train.py) in the real ONNX Runtime: a canary that promotes itself, canaries that
//! roll themselves back (NaN, runtime error, over the timeout), shadows that agree and disagree by
//! a chosen margin, the model raising the rules' risk but never lowering it, and 1,000 swaps under
//! four assessing threads.
//!
//! The candidates are timed on a clock the test holds ([`SteppingClock`]), never the wall clock:
//! a thread preempted on a busy machine must not decide whether a canary is promoted.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::Duration;

use ring::signature::{Ed25519KeyPair, KeyPair};
use vigil::agents::{AssessmentContext, LatestVitals, Method, RiskLevel, Specialty, rules};
use vigil::models::package::{self, Package};
use vigil::models::trust::{KeyOrigin, TrustedKey, generate_signing_key};
use vigil::models::{
    CandidateMode, Clock, LoadedModel, ModelAgent, ModelSlot, RolloutPolicy, Scored, StatsView, TestVectors,
    TrustSet,
};

const GBT: &str = "early-warning-gbt-1.0.0";
const GBT_11: &str = "early-warning-gbt-1.1.0";
/// Scores exactly 0.25 for every input.
const LOW: &str = "early-warning-low-9.2.0";
/// Scores exactly 0.75 for every input.
const HIGH: &str = "early-warning-high-9.3.0";

fn read(dir: &str, file: &str) -> Vec<u8> {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models").join(dir);
    std::fs::read(path.join(file)).unwrap_or_else(|e| panic!("{}/{file}: {e}", path.display()))
}

/// A fixture directory signed with a fresh key, verified and loaded.
fn load(dir: &str) -> Arc<LoadedModel> {
    let (pkcs8, public) = generate_signing_key().unwrap();
    let key = Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap();
    assert_eq!(key.public_key().as_ref(), public);
    let trusted = TrustedKey::parse(&hex::encode(public), "test", KeyOrigin::Store, "test").unwrap();
    let trust = TrustSet { keys: vec![trusted] };
    let bytes = package::build(
        &read(dir, "manifest.json"),
        &read(dir, "model.onnx"),
        &read(dir, "test_vectors.json"),
        &key,
    )
    .unwrap();
    let verified = Package::verify(&bytes, &trust).unwrap();
    Arc::new(LoadedModel::load(&verified).unwrap())
}

/// A clock that moves only by `step` at each reading: zero stands still, so no inference ever
/// looks slow; a step over the policy's timeout makes every candidate inference too slow.
#[derive(Debug, Default)]
struct SteppingClock {
    now_ns: AtomicU64,
    step_ns: AtomicU64,
}

impl SteppingClock {
    fn set_step(&self, step: Duration) {
        self.step_ns.store(u64::try_from(step.as_nanos()).unwrap(), Ordering::Relaxed);
    }
}

impl Clock for SteppingClock {
    fn now(&self) -> Duration {
        let step = self.step_ns.load(Ordering::Relaxed);
        Duration::from_nanos(self.now_ns.fetch_add(step, Ordering::Relaxed))
    }
}

/// A slot whose candidates are timed on a stopped clock (the returned handle moves it).
fn stopped_slot(policy: RolloutPolicy) -> (ModelSlot, Arc<SteppingClock>) {
    let clock = Arc::new(SteppingClock::default());
    (ModelSlot::with_clock(Specialty::EarlyWarning, policy, clock.clone()), clock)
}

/// Feature vectors around the fixture's test vectors (all with hr_mean <= 120).
fn inputs(n: usize) -> Vec<Vec<f32>> {
    let vectors: TestVectors = serde_json::from_slice(&read(GBT, "test_vectors.json")).unwrap();
    let mut rng = vigil::synthetic::SplitMix64::new(7);
    (0..n)
        .map(|i| {
            let base = &vectors.vectors[i % vectors.vectors.len()].input;
            base.iter()
                .enumerate()
                .map(|(j, v)| {
                    #[allow(clippy::cast_possible_truncation, reason = "a jitter in 0..1, as f32")]
                    let jitter = (rng.unit() as f32 - 0.5) * 0.02 * v.abs();
                    let x = v + jitter;
                    if j == 0 { x.min(120.0) } else { x }
                })
                .collect()
        })
        .collect()
}

#[test]
fn a_canary_within_limits_promotes_itself() {
    let (slot, _clock) = stopped_slot(RolloutPolicy { promote_after: 200, ..RolloutPolicy::default() });
    slot.activate(load(GBT), "test");
    slot.stage(load(GBT_11), CandidateMode::Canary { percent: 25 }, StatsView::default());
    let mut used_candidate = 0;
    for x in inputs(400) {
        let scored = slot.evaluate(&x, 0.0).expect("every evaluation answers");
        if scored.version == "1.1.0" {
            used_candidate += 1;
        }
    }
    let d = slot.current();
    assert_eq!(d.active.as_ref().unwrap().manifest.version, "1.1.0", "promoted");
    assert_eq!(d.previous.as_ref().unwrap().manifest.version, "1.0.0", "previous kept loaded");
    assert!(d.candidate.is_none());
    let events = slot.drain_events();
    let promoted = events.iter().find(|e| e.kind == "promoted").expect("a promotion event");
    assert!(promoted.automatic);
    assert_eq!(promoted.stats.evaluations, 200);
    assert_eq!(promoted.stats.errors, 0);
    // 25 % of the first 200 as canary, then all 200 after promotion.
    assert!(used_candidate > 200 && used_candidate < 300, "{used_candidate}");
}

fn broken_candidate_rolls_back(dir: &str) {
    let (slot, _clock) = stopped_slot(RolloutPolicy::default());
    let active = load(GBT);
    slot.activate(Arc::clone(&active), "test");
    // The broken model passes its own test vectors (normal inputs) and installs.
    slot.stage(load(dir), CandidateMode::Canary { percent: 100 }, StatsView::default());
    let normal = inputs(20);
    for x in &normal {
        let scored = slot.evaluate(x, 0.0).unwrap();
        assert_eq!(scored.name, "early-warning-".to_owned() + dir.split('-').nth(2).unwrap());
    }
    assert!(slot.current().candidate.is_some(), "fine on normal inputs");
    // Tachycardia above 120 /min breaks it: the evaluation still answers, with the active model.
    let mut tachy = normal[0].clone();
    tachy[0] = 135.0;
    let scored = slot.evaluate(&tachy, 0.0).expect("no failed evaluation");
    assert_eq!((scored.name.as_str(), scored.version.as_str()), ("early-warning-gbt", "1.0.0"));
    assert_eq!(scored.score, active.score(&tachy).unwrap());
    let d = slot.current();
    assert!(d.candidate.is_none(), "rolled back");
    assert_eq!(d.active.as_ref().unwrap().manifest.version, "1.0.0");
    let events = slot.drain_events();
    let rb = events.iter().find(|e| e.kind == "rolled_back").expect("a rollback event");
    assert!(rb.automatic && rb.reason.starts_with("candidate failed"), "{}", rb.reason);
    assert_eq!(rb.stats.errors, 1);
}

#[test]
fn a_canary_returning_nan_rolls_itself_back() {
    broken_candidate_rolls_back("early-warning-nan-9.0.0");
}

#[test]
fn a_canary_that_errors_rolls_itself_back() {
    broken_candidate_rolls_back("early-warning-error-9.1.0");
}

#[test]
fn a_canary_over_the_timeout_rolls_itself_back_and_the_active_model_answers() {
    let (slot, clock) = stopped_slot(RolloutPolicy::default());
    slot.activate(load(LOW), "test");
    slot.stage(load(HIGH), CandidateMode::Canary { percent: 100 }, StatsView::default());
    let x = &inputs(1)[0];
    // Exactly the timeout is within it.
    clock.set_step(RolloutPolicy::default().timeout);
    assert_eq!(slot.evaluate(x, 0.0).unwrap().version, "9.3.0", "the canary answers");
    assert!(slot.current().candidate.is_some());
    // One millisecond over: rolled back at once, and this evaluation uses the active model.
    clock.set_step(RolloutPolicy::default().timeout + Duration::from_millis(1));
    let scored = slot.evaluate(x, 0.0).expect("no failed evaluation");
    assert_eq!((scored.version.as_str(), scored.score), ("9.2.0", 0.25));
    assert!(slot.current().candidate.is_none(), "rolled back");
    let events = slot.drain_events();
    let rb = events.iter().find(|e| e.kind == "rolled_back").expect("a rollback event");
    assert!(rb.automatic, "{rb:?}");
    assert_eq!(rb.reason, "candidate took 51 ms, over the 50 ms timeout");
    // The one evaluation that ran differed from the active model's 0.25 by 0.5.
    assert_eq!(rb.stats, StatsView { evaluations: 1, errors: 1, disagreements: 1 });
}

/// LOW active, HIGH as candidate: every evaluation differs by exactly 0.5.
fn low_against_high(margin: f64, mode: CandidateMode) -> ModelSlot {
    let policy = RolloutPolicy {
        disagreement_margin: margin,
        min_evaluations: 10,
        promote_after: 20,
        ..RolloutPolicy::default()
    };
    let (slot, _clock) = stopped_slot(policy);
    slot.activate(load(LOW), "test");
    slot.stage(load(HIGH), mode, StatsView::default());
    slot
}

#[test]
fn a_shadow_within_the_margin_agrees_and_waits_for_a_clinician() {
    // A difference of 0.5 is not above a margin of 0.5: every evaluation agrees.
    let slot = low_against_high(0.5, CandidateMode::Shadow);
    for x in inputs(40) {
        assert_eq!(slot.evaluate(&x, 0.0).unwrap().version, "9.2.0", "a shadow is never used");
    }
    let candidate = slot.current().candidate.clone().expect("kept: a shadow is promoted by hand");
    assert_eq!(candidate.model.manifest.version, "9.3.0");
    assert_eq!(candidate.stats.view(), StatsView { evaluations: 40, errors: 0, disagreements: 0 });
    assert!(slot.drain_events().iter().all(|e| e.kind == "activated" || e.kind == "candidate"));

    // The same comparison as a canary is promoted at `promote_after`.
    let slot = low_against_high(0.5, CandidateMode::Canary { percent: 100 });
    for x in inputs(25) {
        slot.evaluate(&x, 0.0).unwrap();
    }
    assert_eq!(slot.current().active.as_ref().unwrap().manifest.version, "9.3.0", "promoted");
    let events = slot.drain_events();
    let promoted = events.iter().find(|e| e.kind == "promoted").expect("a promotion event");
    assert_eq!(promoted.stats, StatsView { evaluations: 20, errors: 0, disagreements: 0 });
}

#[test]
fn a_shadow_beyond_the_margin_is_rolled_back_and_never_used() {
    // A difference of 0.5 is above a margin of 0.49: every evaluation disagrees, a clear breach
    // (100 % against twice the 5 % limit) once `min_evaluations` have run.
    let slot = low_against_high(0.49, CandidateMode::Shadow);
    for (i, x) in inputs(30).iter().enumerate() {
        assert_eq!(slot.evaluate(x, 0.0).unwrap().version, "9.2.0", "evaluation {i}: a shadow is never used");
        assert_eq!(slot.current().candidate.is_some(), i + 1 < 10, "evaluation {i}");
    }
    let events = slot.drain_events();
    let rb = events.iter().find(|e| e.kind == "rolled_back").expect("a rollback event");
    assert!(rb.automatic);
    assert_eq!(rb.reason, "disagreement 100.0 % over 10 evaluations, above the 5.0 % limit");
    assert_eq!(rb.stats, StatsView { evaluations: 10, errors: 0, disagreements: 10 });
}

/// Spot vitals: five of the eight model inputs measured, the rest imputed.
fn context(heart_rate: f64, spo2: f64, respiratory_rate: f64) -> AssessmentContext {
    let mut ctx = AssessmentContext::new("P-1", chrono::Utc::now());
    ctx.latest = LatestVitals {
        heart_rate: Some(heart_rate),
        spo2: Some(spo2),
        respiratory_rate: Some(respiratory_rate),
        body_temperature: Some(36.8),
        bp_systolic: Some(122.0),
        ..LatestVitals::default()
    };
    ctx
}

#[test]
fn a_model_raises_the_rules_risk_and_never_lowers_it() {
    // Rules below both models (NEWS2 0), between them (a single red parameter: pulse 135,
    // RCP 2017 chart 1) and above both (NEWS2 9: pulse 135, SpO2 90, respiration 26).
    let cases = [
        ("normal", context(72.0, 97.0, 15.0)),
        ("red pulse", context(135.0, 97.0, 15.0)),
        ("NEWS2 9", context(135.0, 90.0, 26.0)),
    ];
    let rules_scores: Vec<f64> =
        cases.iter().map(|(_, ctx)| rules::assess(Specialty::EarlyWarning, ctx).risk_score).collect();
    assert!(rules_scores[0] < 0.25, "{rules_scores:?}");
    assert!(rules_scores[1] > 0.25 && rules_scores[1] < 0.75, "{rules_scores:?}");
    assert!(rules_scores[2] > 0.75, "{rules_scores:?}");
    for (dir, model_score, version) in [(LOW, 0.25, "9.2.0"), (HIGH, 0.75, "9.3.0")] {
        let (slot, _clock) = stopped_slot(RolloutPolicy::default());
        slot.activate(load(dir), "test");
        let agent = ModelAgent::new(Arc::new(slot), None);
        for ((what, ctx), rules_score) in cases.iter().zip(&rules_scores) {
            let rules = rules::assess(Specialty::EarlyWarning, ctx);
            let finding = agent.assess_now(ctx);
            let case = format!("{dir} on {what} (rules {rules_score})");
            // The model answered: its score is in the evidence and the method names it.
            let model_risk = finding.evidence.iter().find(|e| e.feature == "model_risk");
            assert_eq!(model_risk.map(|e| e.value), Some(model_score), "{case}");
            assert!(matches!(&finding.method, Method::Model { version: v, .. } if v == version), "{case}");
            let expected = rules_score.max(model_score);
            assert_eq!(finding.risk_score, expected, "{case}");
            assert_eq!(finding.risk_level, RiskLevel::from_score(expected), "{case}");
            if model_score < *rules_score {
                // Lower: the rules' finding stands whole.
                assert_eq!(finding.risk_level, rules.risk_level, "{case}");
                assert_eq!(finding.recommendations, rules.recommendations, "{case}");
            }
        }
    }
}

/// Scores exactly 0.9375 (critical) for every input, and is marked demonstration.
const CRITICAL_DEMO: &str = "early-warning-critical-demo-9.4.0";

#[test]
fn a_demonstration_model_alone_never_makes_a_finding_critical_and_says_what_it_added() {
    let (slot, _clock) = stopped_slot(RolloutPolicy::default());
    let model = load(CRITICAL_DEMO);
    assert!(model.manifest.demonstration);
    slot.activate(model, "test");
    let agent = ModelAgent::new(Arc::new(slot), None);
    // Normal vitals: the rules score low; the model alone would say critical.
    let ctx = context(72.0, 97.0, 15.0);
    let rules = rules::assess(Specialty::EarlyWarning, &ctx);
    assert!(rules.risk_score < 0.3, "{}", rules.risk_score);
    let finding = agent.assess_now(&ctx);
    assert_eq!(finding.evidence.iter().find(|e| e.feature == "model_risk").map(|e| e.value), Some(0.9375));
    assert_eq!(finding.risk_level, RiskLevel::High, "held just below critical");
    assert_eq!(finding.risk_score, vigil::models::DEMONSTRATION_CEILING);
    let note = finding.note.clone().unwrap_or_default();
    assert!(note.contains(&format!("from {:.2} (rules)", rules.risk_score)), "{note}");
    assert!(note.contains("held below critical") && note.contains("demonstration model"), "{note}");
    // When the rules themselves say critical, the finding is critical: the cap only limits
    // what the model adds.
    let ctx = context(135.0, 84.0, 30.0);
    let rules = rules::assess(Specialty::EarlyWarning, &ctx);
    assert_eq!(rules.risk_level, RiskLevel::Critical);
    let finding = agent.assess_now(&ctx);
    assert_eq!(finding.risk_level, RiskLevel::Critical);
    assert_eq!(finding.risk_score, rules.risk_score.max(0.9375));
}

/// Swaps `a` and `b` on `slot` 1,000 times while four threads evaluate; `check(k, scored)`
/// judges each score of input `k`. Returns each reader's counts of `a`'s and `b`'s scores. A
/// reader that fails ends the run with its own panic, whether the others are still running or
/// all have died (the swaps wait for the readers, so they must notice).
fn swaps_under_readers(
    a: &Arc<LoadedModel>,
    b: &Arc<LoadedModel>,
    xs: Arc<Vec<Vec<f32>>>,
    check: impl Fn(usize, &Scored) + Send + Sync + 'static,
) -> Vec<[u64; 2]> {
    let (slot, _clock) = stopped_slot(RolloutPolicy::default());
    let slot = Arc::new(slot);
    slot.activate(Arc::clone(a), "start");
    let b_version = b.manifest.version.clone();
    let check = Arc::new(check);
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(5));
    let workers: Vec<_> = (0..4)
        .map(|t| {
            let (slot, xs, check, stop, done, start) =
                (slot.clone(), xs.clone(), check.clone(), stop.clone(), done.clone(), start.clone());
            let b_version = b_version.clone();
            std::thread::spawn(move || {
                start.wait();
                let mut i = t;
                let mut seen = [0u64; 2];
                while !stop.load(Ordering::Relaxed) {
                    let k = i % xs.len();
                    let scored = slot.evaluate(&xs[k], 0.0).expect("no failed evaluation");
                    check(k, &scored);
                    seen[usize::from(scored.version == b_version)] += 1;
                    done.fetch_add(1, Ordering::Relaxed);
                    i += 4;
                }
                seen
            })
        })
        .collect();
    start.wait();
    'swaps: for i in 0..1000 {
        slot.activate(Arc::clone(if i % 2 == 0 { b } else { a }), "swap");
        // Let the readers run between swaps; stop waiting when none is left to run.
        let target = done.load(Ordering::Relaxed) + 4;
        while done.load(Ordering::Relaxed) < target {
            if workers.iter().all(|w| w.is_finished()) {
                break 'swaps;
            }
            std::hint::spin_loop();
        }
    }
    stop.store(true, Ordering::Relaxed);
    let seen: Vec<[u64; 2]> = workers
        .into_iter()
        .map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
        .collect();
    assert_eq!(slot.drain_events().iter().filter(|e| e.kind == "activated").count(), 1001);
    seen
}

/// The reference score of each version for each input: `(a's, b's)`.
fn references(a: &LoadedModel, b: &LoadedModel, xs: &[Vec<f32>]) -> Vec<(f64, f64)> {
    let expect: Vec<(f64, f64)> = xs.iter().map(|x| (a.score(x).unwrap(), b.score(x).unwrap())).collect();
    assert!(expect.iter().any(|(x, y)| x != y), "the two versions must differ to detect mixing");
    expect
}

#[test]
fn a_thousand_swaps_under_four_assessing_threads_lose_nothing_and_never_mix() {
    let (a, b) = (load(GBT), load(GBT_11));
    let xs = Arc::new(inputs(64));
    let expect = references(&a, &b, &xs);
    let seen = swaps_under_readers(&a, &b, xs, move |k, scored| {
        let want = if scored.version == "1.0.0" { expect[k].0 } else { expect[k].1 };
        assert_eq!(scored.score, want, "score of {} must be that version's", scored.version);
    });
    let total: u64 = seen.iter().map(|s| s[0] + s[1]).sum();
    assert!(total >= 4000, "{total} evaluations");
    assert!(seen.iter().map(|s| s[0]).sum::<u64>() > 0 && seen.iter().map(|s| s[1]).sum::<u64>() > 0);
}

#[test]
#[should_panic(expected = "must be the other version's")]
fn the_swap_test_fails_instead_of_hanging_when_every_reader_fails() {
    // Readers that expect each version's score from the other (as a mixing bug would show):
    // every one fails at its first evaluation, and the swaps must end with that failure.
    let (a, b) = (load(GBT), load(GBT_11));
    let xs = Arc::new(inputs(64));
    let expect = references(&a, &b, &xs);
    swaps_under_readers(&a, &b, xs, move |k, scored| {
        let wrong = if scored.version == "1.0.0" { expect[k].1 } else { expect[k].0 };
        assert_eq!(scored.score, wrong, "score of {} must be the other version's", scored.version);
    });
}
