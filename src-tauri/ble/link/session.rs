//! One device's session: connect, subscribe, read, forward, and reconnect after a drop.
//!
//! The state machine, in order:
//! 1. **Connect.** A transient failure (not in range, refused) waits a backoff and tries again:
//!    1 s, doubling to 30 s, each scaled by a jitter in [0.5, 1) drawn per device, so fifty
//!    devices that dropped together do not return together. A permanent failure (no adapter,
//!    a malformed recording) or the recording's end ends the session.
//! 2. **Subscribe** to each wanted characteristic the device has, every connection: BlueZ keeps
//!    a characteristic's notification state across a disconnect, so [`Link::subscribe`] must
//!    be idempotent (the BlueZ link makes it so), and calling it again is how a device that
//!    forgot is turned back on.
//! 3. **Write** the after-connect requests (a glucose meter's Record Access Control Point
//!    "report stored records": records sent twice are dropped by content downstream).
//! 4. **Read** the battery and device information once per connection.
//! 5. **Forward** every value until the link drops (back to 1) or the session is stopped.

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use uuid::Uuid;

use super::{Link, LinkError, Notification};

/// How a session behaves.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// Characteristics to subscribe to, where the device has them.
    pub subscribe: Vec<Uuid>,
    /// Characteristics to read once per connection, where the device has them.
    pub read: Vec<Uuid>,
    /// Writes after subscribing, where the device has the characteristic: (characteristic, value).
    pub after_connect: Vec<(Uuid, Vec<u8>)>,
    /// The first retry's delay.
    pub first_backoff: Duration,
    /// The longest delay between retries.
    pub max_backoff: Duration,
    /// Consecutive failed connects before giving up; `None` tries for as long as it runs.
    pub give_up_after: Option<u32>,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            subscribe: Vec::new(),
            read: Vec::new(),
            after_connect: Vec::new(),
            first_backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(30),
            give_up_after: None,
        }
    }
}

/// What a session reports, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// Connected (the `attempt`th connect since the last success, from 1).
    Connected {
        /// Tries it took.
        attempt: u32,
    },
    /// A value: a notification, an indication or a read.
    Value(Notification),
    /// The connection dropped.
    Dropped {
        /// Why.
        problem: String,
    },
    /// A connect failed; the next try is after this delay.
    Retrying {
        /// Why it failed.
        problem: String,
        /// The delay.
        after: Duration,
    },
    /// The session is over: stopped, the recording ended, or a permanent failure.
    Ended {
        /// The failure, if one ended it.
        problem: Option<String>,
    },
}

/// The delay before retry `attempt` (from 1): `first` doubling to `max`, times a jitter in
/// [0.5, 1) from `seed` (a device's own, so devices spread out).
pub fn backoff(attempt: u32, first: Duration, max: Duration, seed: u64) -> Duration {
    let doubled = first.saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
    let capped = doubled.min(max);
    // splitmix64 of (seed, attempt): a fraction in [0, 1).
    let mut z = seed ^ (u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    let fraction = (z >> 11) as f64 / (1u64 << 53) as f64;
    capped.mul_f64(0.5 + 0.5 * fraction)
}

fn seed_of(address: &str) -> u64 {
    address.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Runs a session until `stop` turns true, the link ends, or it gives up; every event goes to
/// `events` (a closed receiver stops the session too).
pub async fn run<L: Link>(
    mut link: L,
    config: &SessionConfig,
    events: mpsc::Sender<SessionEvent>,
    mut stop: watch::Receiver<bool>,
) -> Result<(), LinkError> {
    let seed = seed_of(link.address());
    let mut attempt = 0u32;
    let outcome = 'session: loop {
        if *stop.borrow() {
            break Ok(());
        }
        attempt += 1;
        let found = tokio::select! {
            found = link.connect() => found,
            _ = stop.changed() => break Ok(()),
        };
        let found = match found {
            Ok(found) => found,
            Err(e) if e.is_transient() && config.give_up_after.is_none_or(|n| attempt < n) => {
                let after = backoff(attempt, config.first_backoff, config.max_backoff, seed);
                if events.send(SessionEvent::Retrying { problem: e.to_string(), after }).await.is_err() {
                    break Ok(());
                }
                tokio::select! {
                    _ = tokio::time::sleep(after) => continue,
                    _ = stop.changed() => break Ok(()),
                }
            }
            Err(LinkError::Ended) => break Ok(()),
            Err(e) => break Err(e),
        };
        if events.send(SessionEvent::Connected { attempt }).await.is_err() {
            break Ok(());
        }
        attempt = 0;
        let setup = async {
            for c in config.subscribe.iter().filter(|c| found.notifying.contains(c)) {
                link.subscribe(*c).await?;
            }
            for (c, value) in config.after_connect.iter().filter(|(c, _)| found.characteristics.contains(c)) {
                link.write(*c, value).await?;
            }
            let mut reads = Vec::new();
            for c in config.read.iter().filter(|c| found.characteristics.contains(c)) {
                // A read the device refuses is not a drop: it may not implement that value.
                if let Ok(value) = link.read(*c).await {
                    reads.push(Notification { characteristic: *c, value, received: chrono::Utc::now() });
                }
            }
            Ok::<_, LinkError>(reads)
        };
        let reads = match setup.await {
            Ok(reads) => reads,
            Err(e) if e.is_transient() => {
                if events.send(SessionEvent::Dropped { problem: e.to_string() }).await.is_err() {
                    break Ok(());
                }
                continue;
            }
            Err(e) => break Err(e),
        };
        for n in reads {
            if events.send(SessionEvent::Value(n)).await.is_err() {
                break 'session Ok(());
            }
        }
        loop {
            let next = tokio::select! {
                next = link.next() => next,
                _ = stop.changed() => break 'session Ok(()),
            };
            let event = match next {
                Ok(n) => SessionEvent::Value(n),
                Err(LinkError::Ended) => break 'session Ok(()),
                Err(e) if e.is_transient() => SessionEvent::Dropped { problem: e.to_string() },
                Err(e) => break 'session Err(e),
            };
            let dropped = matches!(event, SessionEvent::Dropped { .. });
            if events.send(event).await.is_err() {
                break 'session Ok(());
            }
            if dropped {
                break;
            }
        }
    };
    link.disconnect().await;
    let problem = outcome.as_ref().err().map(ToString::to_string);
    let _ = events.send(SessionEvent::Ended { problem }).await;
    outcome
}

#[cfg(test)]
mod tests {
    //! The reconnect state machine against an in-memory device, in paused time.
    use std::sync::{Arc, Mutex};

    use chrono::{DateTime, Utc};
    use tokio::time::Instant;

    use super::super::{Connected, replay::sig_uuid};
    use super::*;

    const HR: Uuid = sig_uuid(0x2a37);
    const BATTERY: Uuid = sig_uuid(0x2a19);

    /// A heart-rate device that sends one numbered value a second, drops the link after
    /// `drop_after` values, is out of range for `away`, and keeps its notification state across
    /// the drop as BlueZ does.
    struct Device {
        sent: u8,
        total: u8,
        drop_after: u8,
        back_at: Option<Instant>,
        away: Duration,
        notifying: bool,
        subscribe_calls: u32,
        connects: u32,
    }

    struct MemoryLink(Arc<Mutex<Device>>, bool);

    impl Link for MemoryLink {
        fn address(&self) -> &str {
            "F0:00:00:00:00:02"
        }
        async fn connect(&mut self) -> Result<Connected, LinkError> {
            let mut d = self.0.lock().unwrap();
            if d.back_at.is_some_and(|at| Instant::now() < at) {
                return Err(LinkError::NotFound("F0:00:00:00:00:02".into()));
            }
            d.connects += 1;
            self.1 = true;
            Ok(Connected { characteristics: vec![HR, BATTERY], notifying: vec![HR] })
        }
        async fn subscribe(&mut self, _: Uuid) -> Result<(), LinkError> {
            let mut d = self.0.lock().unwrap();
            d.subscribe_calls += 1;
            d.notifying = true;
            Ok(())
        }
        async fn read(&mut self, _: Uuid) -> Result<Vec<u8>, LinkError> {
            Ok(vec![90])
        }
        async fn write(&mut self, _: Uuid, _: &[u8]) -> Result<(), LinkError> {
            Ok(())
        }
        async fn next(&mut self) -> Result<Notification, LinkError> {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let mut d = self.0.lock().unwrap();
            if !self.1 {
                return Err(LinkError::Connection { address: "x".into(), problem: "down".into() });
            }
            if d.sent == d.drop_after && d.back_at.is_none() {
                d.back_at = Some(Instant::now() + d.away);
                self.1 = false;
                return Err(LinkError::Connection { address: "x".into(), problem: "out of range".into() });
            }
            if d.sent == d.total {
                return Err(LinkError::Ended);
            }
            assert!(d.notifying, "a value sent with notifications off");
            d.sent += 1;
            Ok(Notification {
                characteristic: HR,
                value: vec![0, d.sent],
                received: DateTime::<Utc>::UNIX_EPOCH,
            })
        }
        async fn disconnect(&mut self) {
            self.1 = false;
        }
    }

    #[test]
    fn backoff_doubles_to_the_cap_with_jitter_below_it() {
        let (first, max) = (Duration::from_secs(1), Duration::from_secs(30));
        for attempt in 1..12 {
            let d = backoff(attempt, first, max, 7);
            let full = first.saturating_mul(1 << (attempt - 1)).min(max);
            assert!(d >= full / 2 && d < full, "attempt {attempt}: {d:?} vs {full:?}");
        }
        assert_ne!(backoff(3, first, max, 1), backoff(3, first, max, 2), "devices spread out");
    }

    #[tokio::test(start_paused = true)]
    async fn a_drop_mid_stream_reconnects_resubscribes_and_loses_nothing() {
        let device = Arc::new(Mutex::new(Device {
            sent: 0,
            total: 20,
            drop_after: 8,
            back_at: None,
            away: Duration::from_secs(10),
            notifying: false,
            subscribe_calls: 0,
            connects: 0,
        }));
        let config = SessionConfig { subscribe: vec![HR], read: vec![BATTERY], ..SessionConfig::default() };
        let (tx, mut rx) = mpsc::channel(64);
        let (_stop_tx, stop) = watch::channel(false);
        let session = tokio::spawn({
            let link = MemoryLink(device.clone(), false);
            async move { run(link, &config, tx, stop).await }
        });
        let mut values = Vec::new();
        let mut events = Vec::new();
        while let Some(e) = rx.recv().await {
            match &e {
                SessionEvent::Value(n) if n.characteristic == HR => values.push(n.value[1]),
                _ => {}
            }
            events.push(e);
        }
        session.await.unwrap().unwrap();
        assert_eq!(values, (1..=20).collect::<Vec<u8>>(), "every value once, in order");
        let retries: Vec<_> = events.iter().filter(|e| matches!(e, SessionEvent::Retrying { .. })).collect();
        assert!(!retries.is_empty(), "the device was away 10 s: connects failed and were retried");
        assert!(
            events.contains(&SessionEvent::Connected { attempt: u32::try_from(retries.len()).unwrap() + 1 })
        );
        assert_eq!(events.last(), Some(&SessionEvent::Ended { problem: None }));
        let d = device.lock().unwrap();
        assert_eq!((d.connects, d.subscribe_calls), (2, 2), "subscribed again on the new connection");
        let batteries =
            events.iter().filter(|e| matches!(e, SessionEvent::Value(n) if n.characteristic == BATTERY));
        assert_eq!(batteries.count(), 2, "battery read on each connection");
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_ends_the_session_at_once_and_giving_up_ends_it_with_the_reason() {
        let device = Arc::new(Mutex::new(Device {
            sent: 0,
            total: 255,
            drop_after: 255,
            back_at: None,
            away: Duration::ZERO,
            notifying: false,
            subscribe_calls: 0,
            connects: 0,
        }));
        let (tx, mut rx) = mpsc::channel(64);
        let (stop_tx, stop) = watch::channel(false);
        let config = SessionConfig { subscribe: vec![HR], ..SessionConfig::default() };
        let link = MemoryLink(device.clone(), false);
        let session = tokio::spawn(async move { run(link, &config, tx, stop).await });
        let mut values = 0;
        while let Some(e) = rx.recv().await {
            match e {
                SessionEvent::Value(_) => {
                    values += 1;
                    if values == 5 {
                        stop_tx.send(true).unwrap();
                    }
                }
                SessionEvent::Ended { problem } => assert_eq!(problem, None),
                _ => {}
            }
        }
        session.await.unwrap().unwrap();
        assert!((5..=6).contains(&values), "{values} values after the stop at 5");

        // Never back: after three failed connects the session ends with the reason.
        device.lock().unwrap().back_at = Some(Instant::now() + Duration::from_secs(3600));
        let (tx, mut rx) = mpsc::channel(64);
        let (_stop_tx, stop) = watch::channel(false);
        let config = SessionConfig { give_up_after: Some(3), ..SessionConfig::default() };
        let outcome = run(MemoryLink(device, false), &config, tx, stop).await;
        assert!(matches!(outcome, Err(LinkError::NotFound(_))));
        let mut last = None;
        while let Some(e) = rx.recv().await {
            last = Some(e);
        }
        assert!(matches!(last, Some(SessionEvent::Ended { problem: Some(p) }) if p.contains("not found")));
    }
}
