//! A circuit breaker per instance: closed → open at an error-rate threshold over a sliding
//! window of recent calls → half-open after a cool-down (one probe call) → closed on success,
//! open again on failure.
//!
//! Time is `tokio::time::Instant`, so tests with paused time are deterministic.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

/// The breaker's tuning.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BreakerConfig {
    /// The sliding window: this many most recent calls.
    pub window: usize,
    /// No opening before this many calls are in the window.
    pub min_calls: usize,
    /// Open when the window's error rate (errors and timeouts) reaches this, 0..=1.
    pub error_rate: f64,
    /// How long it stays open before letting one probe through.
    pub cool_down: Duration,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        Self { window: 20, min_calls: 5, error_rate: 0.5, cool_down: Duration::from_secs(10) }
    }
}

/// Where a breaker is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Calls flow.
    Closed,
    /// Calls are refused until the cool-down ends.
    Open,
    /// One probe call is allowed; its outcome closes or reopens the breaker.
    HalfOpen,
}

#[derive(Debug, Clone)]
pub(crate) struct Breaker {
    config: BreakerConfig,
    state: BreakerState,
    outcomes: VecDeque<bool>,
    opened_at: Option<Instant>,
    probe_in_flight: bool,
    pub(crate) times_opened: u64,
}

impl Breaker {
    pub(crate) fn new(config: BreakerConfig) -> Self {
        Self {
            config,
            state: BreakerState::Closed,
            outcomes: VecDeque::with_capacity(config.window),
            opened_at: None,
            probe_in_flight: false,
            times_opened: 0,
        }
    }

    /// The state at `now` (an open breaker whose cool-down has passed is half-open).
    pub(crate) fn state(&mut self, now: Instant) -> BreakerState {
        if self.state == BreakerState::Open
            && self.opened_at.is_some_and(|t| now.duration_since(t) >= self.config.cool_down)
        {
            self.state = BreakerState::HalfOpen;
            self.probe_in_flight = false;
        }
        self.state
    }

    /// Whether a call may go through now.
    pub(crate) fn allows(&mut self, now: Instant) -> bool {
        match self.state(now) {
            BreakerState::Closed => true,
            BreakerState::Open => false,
            BreakerState::HalfOpen => !self.probe_in_flight,
        }
    }

    /// A call was dispatched (after `allows`).
    pub(crate) fn dispatched(&mut self) {
        if self.state == BreakerState::HalfOpen {
            self.probe_in_flight = true;
        }
    }

    /// A call ended.
    pub(crate) fn record(&mut self, ok: bool, now: Instant) {
        match self.state {
            BreakerState::HalfOpen => {
                self.probe_in_flight = false;
                if ok {
                    self.state = BreakerState::Closed;
                    self.outcomes.clear();
                } else {
                    self.open(now);
                }
            }
            BreakerState::Closed => {
                if self.outcomes.len() == self.config.window {
                    self.outcomes.pop_front();
                }
                self.outcomes.push_back(ok);
                if self.outcomes.len() >= self.config.min_calls && self.error_rate() >= self.config.error_rate
                {
                    self.open(now);
                }
            }
            // A late answer from before the breaker opened changes nothing.
            BreakerState::Open => {}
        }
    }

    /// Errors over calls in the window; 0 when empty.
    pub(crate) fn error_rate(&self) -> f64 {
        if self.outcomes.is_empty() {
            return 0.0;
        }
        self.outcomes.iter().filter(|ok| !**ok).count() as f64 / self.outcomes.len() as f64
    }

    fn open(&mut self, now: Instant) {
        self.state = BreakerState::Open;
        self.opened_at = Some(now);
        self.times_opened += 1;
        self.outcomes.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_at_the_error_rate_and_recovers_through_half_open() {
        let cfg =
            BreakerConfig { window: 10, min_calls: 4, error_rate: 0.5, cool_down: Duration::from_secs(5) };
        let mut b = Breaker::new(cfg);
        let t0 = Instant::now();
        for ok in [true, false, true] {
            b.record(ok, t0);
        }
        assert_eq!(b.state(t0), BreakerState::Closed);
        b.record(false, t0); // 2 of 4
        assert_eq!(b.state(t0), BreakerState::Open);
        assert!(!b.allows(t0 + Duration::from_secs(4)));
        let later = t0 + Duration::from_secs(5);
        assert!(b.allows(later));
        b.dispatched();
        assert!(!b.allows(later), "one probe at a time");
        b.record(false, later);
        assert_eq!(b.state(later), BreakerState::Open);
        let again = later + Duration::from_secs(5);
        assert!(b.allows(again));
        b.dispatched();
        b.record(true, again);
        assert_eq!(b.state(again), BreakerState::Closed);
        assert_eq!(b.times_opened, 2);
    }
}
