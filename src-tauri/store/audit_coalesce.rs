//! Coalescing of identical read events: a screen that refreshes on a timer (the worklist every
//! few seconds, a chart) must not write an audit row per refresh.
//!
//! Reads are identical when they share actor, action and patient. The first read of a kind is
//! written; identical reads within [`WINDOW`] after it are counted, not written. The count is
//! written, never dropped: in the detail of the next written read of that kind
//! (`"coalesced": {"reads": n, "first": t, "last": t}`), or, when no such read comes within
//! the window, as an event of its own (same actor, action and patient, at the last counted
//! read, detail `{"coalesced": ...}`) with the next read of anything, or when the store closes.
//! Exports (`*.export`) are never coalesced: each one is a copy leaving the store. Nor are
//! security events (`access.*`, `session.*`, `user.*`): each refusal or sign-in is its own row.
//!
//! So the trail keeps who read which patient's data at a resolution of [`WINDOW`], and how
//! many times. The counts live in this process's memory until written: a process that is
//! killed loses the counts of its open windows (never the first read of one).

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::SecondsFormat;

use super::time;

/// Identical reads within this window after a written one are counted, not written.
pub const WINDOW: chrono::Duration = chrono::Duration::minutes(10);

/// Actor, action, patient.
type Key = (String, String, Option<Vec<u8>>);

/// The reads counted since the last written one of a kind.
#[derive(Debug, Clone, Copy)]
struct Open {
    /// When the last written read of this kind happened (the window's start).
    written_ms: i64,
    /// Reads counted, not written, since.
    counted: u64,
    first_ms: i64,
    last_ms: i64,
}

/// A count to write: `n` identical reads between `first` and `last`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Count {
    pub(crate) actor: String,
    pub(crate) action: String,
    pub(crate) patient: Option<Vec<u8>>,
    pub(crate) reads: u64,
    pub(crate) first_ms: i64,
    pub(crate) last_ms: i64,
}

impl Count {
    /// The `coalesced` detail member.
    pub(crate) fn detail(&self) -> serde_json::Value {
        let shown = |ms| {
            time::from_ms(ms).map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)).unwrap_or_default()
        };
        serde_json::json!({ "reads": self.reads, "first": shown(self.first_ms), "last": shown(self.last_ms) })
    }
}

/// What to do with a read's event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Admit {
    /// Write it, with the count of the identical reads coalesced before it, if any.
    Write(Option<Count>),
    /// Counted: do not write it.
    Counted,
}

/// The open windows of one store's reads.
#[derive(Debug, Default)]
pub(crate) struct Coalescer {
    open: Mutex<HashMap<Key, Open>>,
}

impl Coalescer {
    /// Decides about a read of `action` by `actor` on `patient` at `at_ms`, and returns with it
    /// the counts of other kinds whose window has closed (to write now).
    pub(crate) fn admit(
        &self,
        actor: &str,
        action: &str,
        patient: Option<&[u8]>,
        at_ms: i64,
    ) -> (Admit, Vec<Count>) {
        let window = WINDOW.num_milliseconds();
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        // Closed windows: their counts are written now, their entries forgotten.
        let mut closed = Vec::new();
        open.retain(|(a, act, p), w| {
            if at_ms.saturating_sub(w.written_ms) < window
                || (a == actor && act == action && p.as_deref() == patient)
            {
                return true;
            }
            if w.counted > 0 {
                closed.push(count((a, act, p), w));
            }
            false
        });
        // Security events are never merged either: each refusal, sign-in and lock is its own row.
        if action.ends_with(".export")
            || ["access.", "session.", "user."].iter().any(|p| action.starts_with(p))
        {
            return (Admit::Write(None), closed);
        }
        let key = (actor.to_owned(), action.to_owned(), patient.map(<[u8]>::to_vec));
        let fresh = Open { written_ms: at_ms, counted: 0, first_ms: at_ms, last_ms: at_ms };
        let admit = match open.get_mut(&key) {
            Some(w) if at_ms.saturating_sub(w.written_ms) < window => {
                if w.counted == 0 {
                    w.first_ms = at_ms;
                }
                w.counted += 1;
                w.last_ms = at_ms;
                Admit::Counted
            }
            Some(w) => {
                let before = (w.counted > 0).then(|| count((&key.0, &key.1, &key.2), w));
                *w = fresh;
                Admit::Write(before)
            }
            None => {
                open.insert(key, fresh);
                Admit::Write(None)
            }
        };
        (admit, closed)
    }

    /// Every count not yet written (at close), oldest window first.
    pub(crate) fn drain(&self) -> Vec<Count> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mut counts: Vec<Count> = open
            .drain()
            .filter(|(_, w)| w.counted > 0)
            .map(|((a, act, p), w)| count((&a, &act, &p), &w))
            .collect();
        counts.sort_by_key(|c| c.first_ms);
        counts
    }
}

fn count((actor, action, patient): (&String, &String, &Option<Vec<u8>>), w: &Open) -> Count {
    Count {
        actor: actor.clone(),
        action: action.clone(),
        patient: patient.clone(),
        reads: w.counted,
        first_ms: w.first_ms,
        last_ms: w.last_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000;

    #[test]
    fn identical_reads_in_the_window_are_counted_and_the_count_rides_on_the_next_written_one() {
        let c = Coalescer::default();
        let p1 = Some(&b"p1"[..]);
        assert_eq!(c.admit("os:a", "chart.view", p1, 0).0, Admit::Write(None));
        for i in 1..=99 {
            assert_eq!(c.admit("os:a", "chart.view", p1, i * 500).0, Admit::Counted, "read {i}");
        }
        // Another patient, another actor, another action: each written.
        assert_eq!(c.admit("os:a", "chart.view", Some(b"p2"), MIN).0, Admit::Write(None));
        assert_eq!(c.admit("os:b", "chart.view", p1, MIN).0, Admit::Write(None));
        assert_eq!(c.admit("os:a", "patient.view", p1, MIN).0, Admit::Write(None));
        // After the window: written, carrying the 99 counted reads.
        let (admit, _) = c.admit("os:a", "chart.view", p1, 10 * MIN + 1);
        let Admit::Write(Some(count)) = admit else { panic!("{admit:?}") };
        assert_eq!((count.reads, count.first_ms, count.last_ms), (99, 500, 99 * 500));
        assert_eq!(count.detail()["reads"], 99);
        // The next window starts over.
        assert_eq!(c.admit("os:a", "chart.view", p1, 10 * MIN + 2).0, Admit::Counted);
    }

    #[test]
    fn a_closed_window_hands_its_count_to_the_next_read_of_anything_and_close_drains_the_rest() {
        let c = Coalescer::default();
        c.admit("os:a", "worklist.view", None, 0);
        c.admit("os:a", "worklist.view", None, 2_000);
        c.admit("os:a", "worklist.view", None, 4_000);
        let (admit, closed) = c.admit("os:a", "patient.read", Some(b"p"), 11 * MIN);
        assert_eq!(admit, Admit::Write(None));
        assert_eq!(closed.len(), 1);
        assert_eq!(
            (closed[0].action.as_str(), closed[0].reads, closed[0].last_ms),
            ("worklist.view", 2, 4_000)
        );
        c.admit("os:a", "patient.read", Some(b"p"), 11 * MIN + 1);
        let drained = c.drain();
        assert_eq!(drained.len(), 1);
        assert_eq!((drained[0].action.as_str(), drained[0].reads), ("patient.read", 1));
        assert!(c.drain().is_empty(), "drained once");
    }

    #[test]
    fn exports_are_never_coalesced() {
        let c = Coalescer::default();
        for i in 0..3 {
            assert_eq!(c.admit("os:a", "patient.export", Some(b"p"), i).0, Admit::Write(None));
        }
    }
}
