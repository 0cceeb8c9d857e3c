//! The audit anchor: the hash chain's head, kept where restoring the data directory does not
//! reach, so that an older copy of the store (a restored backup of the data directory) or a store
//! whose newest audit rows were deleted fails `vigil audit verify`.
//!
//! The chain alone cannot tell: an older copy, or a chain cut after any row, is itself a valid
//! chain. The anchor is `{store_id, seq, hash, at}` of a chained event, authenticated with
//! HMAC-SHA256 (RFC 2104; NIST SP 800-107 rev. 1 allows the full 256-bit tag used here) under a
//! key derived from the store key with HKDF (`StoreKey::derive_mac_key`, label
//! `vigil audit anchor v1`). It lives beside the key, never in the data directory:
//! - with a key file, in a file beside it, `<key file>.audit-anchor-<store id>`, mode 0600;
//! - with the OS keyring, in an entry of the same service as the key whose user name is
//!   `audit-anchor:<store id>`.
//!
//! When it moves: a background task looks at the chain's head every [`REFRESH_EVERY`] while the
//! store is open (one indexed query; the anchor is written only when the head moved), and the
//! store moves it at close and after `verify`. So the anchor lags the head by at most
//! [`REFRESH_EVERY`] while the process runs; a process killed in that window leaves events past
//! the anchor that the anchor does not protect (a deleted tail of them goes unnoticed).
//!
//! It only ever moves forward along the same chain: before moving it, the keeper checks that
//! the store still holds the anchored event with the anchored hash. A store that fails that
//! check (an older copy, a cut tail) leaves the anchor where it is, as evidence, until someone
//! looks (`vigil audit verify`).
//!
//! What it does not stop: someone holding the store key who can also write the anchor's place
//! (the key file's directory, the user's keyring) can forge a matching anchor. An anchor that is
//! deleted is recreated at the next open, and `verify` then says it made a new one.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use ring::hmac;
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;

use super::{KEYRING_SERVICE, KeySource, StoreError, StoreKey};

/// The HKDF label of the anchor's MAC key, and the MAC's domain separator.
const LABEL: &[u8] = b"vigil audit anchor v1";
/// The sealed anchor's format version.
const VERSION: u32 = 1;
/// How often the background task looks at the chain's head while the store is open.
pub const REFRESH_EVERY: Duration = Duration::from_secs(2);

/// A chained event, as anchored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// The store it belongs to (`store_meta.store_id`).
    pub store_id: String,
    /// The event's `seq`.
    pub seq: i64,
    /// The event's hash, 64 hexadecimal digits.
    pub hash: String,
    /// When the anchor was written.
    pub at: DateTime<Utc>,
    /// The HMAC-SHA256 tag, 64 hexadecimal digits (checkable only with the store key).
    pub mac: String,
}

/// The anchor as kept: JSON, one line.
#[derive(Serialize, Deserialize)]
struct Sealed {
    version: u32,
    store_id: String,
    seq: i64,
    hash: String,
    at: String,
    mac: String,
}

/// What the MAC covers: a domain separator, then length-prefixed fields.
fn mac_input(store_id: &str, seq: i64, hash: &str, at: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(LABEL);
    out.push(0);
    for field in [store_id.as_bytes(), hash.as_bytes(), at.as_bytes()] {
        out.extend_from_slice(&(field.len() as u64).to_be_bytes());
        out.extend_from_slice(field);
    }
    out.extend_from_slice(&seq.to_be_bytes());
    out
}

/// Seals `(store_id, seq, hash, at)` into the text kept at the anchor's place.
fn seal(key: &hmac::Key, store_id: &str, seq: i64, hash: &str, at: DateTime<Utc>) -> (Anchor, String) {
    let at_text = at.to_rfc3339_opts(SecondsFormat::Millis, true);
    let tag = hmac::sign(key, &mac_input(store_id, seq, hash, &at_text));
    let mac = hex::encode(tag.as_ref());
    let sealed = Sealed {
        version: VERSION,
        store_id: store_id.to_owned(),
        seq,
        hash: hash.to_owned(),
        at: at_text,
        mac: mac.clone(),
    };
    // Serialising plain strings and integers cannot fail.
    let text = serde_json::to_string(&sealed).unwrap_or_default() + "\n";
    (Anchor { store_id: store_id.to_owned(), seq, hash: hash.to_owned(), at, mac }, text)
}

/// Reads and authenticates a kept anchor; the error says what is wrong with it.
fn unseal(key: &hmac::Key, text: &str) -> Result<Anchor, String> {
    let sealed: Sealed =
        serde_json::from_str(text.trim()).map_err(|e| format!("is not a Vigil audit anchor ({e})"))?;
    if sealed.version != VERSION {
        return Err(format!("has format version {}; this Vigil reads version {VERSION}", sealed.version));
    }
    let tag = hex::decode(&sealed.mac).map_err(|_| "has a MAC that is not hexadecimal".to_owned())?;
    // ring compares in constant time.
    hmac::verify(key, &mac_input(&sealed.store_id, sealed.seq, &sealed.hash, &sealed.at), &tag).map_err(
        |_| "does not authenticate: it was altered, or it was made with another store's key".to_owned(),
    )?;
    let at = DateTime::parse_from_rfc3339(&sealed.at)
        .map_err(|e| format!("has an unreadable time '{}' ({e})", sealed.at))?
        .with_timezone(&Utc);
    Ok(Anchor { store_id: sealed.store_id, seq: sealed.seq, hash: sealed.hash, at, mac: sealed.mac })
}

/// Where a store's anchor is kept: beside its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnchorPlace {
    /// A file beside the key file.
    File(PathBuf),
    /// An OS keyring entry of the key's service, under this user name.
    Keyring {
        /// `audit-anchor:<store id>`.
        user: String,
    },
}

impl AnchorPlace {
    /// The anchor's place for a store whose key is kept at `source`.
    pub fn beside(source: &KeySource, store_id: &str) -> Self {
        match source {
            KeySource::File(key) => {
                let mut name = key.file_name().map(|n| n.to_os_string()).unwrap_or_default();
                name.push(format!(".audit-anchor-{store_id}"));
                AnchorPlace::File(key.with_file_name(name))
            }
            KeySource::Keyring { .. } => AnchorPlace::Keyring { user: format!("audit-anchor:{store_id}") },
        }
    }

    fn load(&self) -> Result<Option<String>, String> {
        match self {
            AnchorPlace::File(path) => match std::fs::read_to_string(path) {
                Ok(text) => Ok(Some(text)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(format!("cannot be read ({e})")),
            },
            AnchorPlace::Keyring { user } => {
                let entry = keyring::Entry::new(KEYRING_SERVICE, user).map_err(|e| e.to_string())?;
                match entry.get_password() {
                    Ok(text) => Ok(Some(text)),
                    Err(keyring::Error::NoEntry) => Ok(None),
                    Err(e) => Err(format!("cannot be read ({e})")),
                }
            }
        }
    }

    fn save(&self, text: &str) -> Result<(), String> {
        match self {
            AnchorPlace::File(path) => save_file(path, text).map_err(|e| format!("cannot be written ({e})")),
            AnchorPlace::Keyring { user } => keyring::Entry::new(KEYRING_SERVICE, user)
                .and_then(|entry| entry.set_password(text))
                .map_err(|e| format!("cannot be written ({e})")),
        }
    }
}

impl std::fmt::Display for AnchorPlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AnchorPlace::File(path) => write!(f, "the file {}", path.display()),
            AnchorPlace::Keyring { user } => write!(f, "the OS keyring entry {KEYRING_SERVICE} / {user}"),
        }
    }
}

/// Replaces the file whole (write a sibling, fsync, rename): a crash leaves the old anchor or
/// the new one, never half of one. Owner-only (0600) like the key file beside it.
fn save_file(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut tmp_name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself survives a power cut once the directory is synced (best effort:
        // not every platform opens directories).
        if let Ok(dir) = std::fs::File::open(dir) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

/// What `verify` found about the anchor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum AnchorCheck {
    /// This store keeps no anchor (opened below the facade, or without a store id).
    NotKept {
        /// Why.
        reason: String,
    },
    /// There was no anchor (the first verify after an upgrade, or it was deleted): one was made.
    Created {
        /// Where it is kept.
        place: String,
        /// The event it anchors.
        seq: i64,
    },
    /// The store holds the anchored event; the anchor now stands at the chain's head.
    Matched {
        /// Where it is kept.
        place: String,
        /// The event it anchored.
        seq: i64,
        /// When that anchor was written.
        at: DateTime<Utc>,
        /// The chain's head, where the anchor now stands (when the chain is intact).
        head: i64,
    },
    /// The anchor does not authenticate, or the store does not hold the anchored event.
    Failed {
        /// Where it is kept.
        place: String,
        /// What is wrong, in words.
        problem: String,
    },
}

impl AnchorCheck {
    /// Whether this is a failure.
    pub fn failed(&self) -> bool {
        matches!(self, AnchorCheck::Failed { .. })
    }
}

/// What one look at the head did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Advance {
    /// The head had not moved past the anchor.
    Unchanged,
    /// There was no anchor: one was made at the head.
    Created(i64),
    /// The anchor moved to the head.
    Moved(i64),
    /// The anchor stays: the store does not continue it, or it could not be read or written.
    Refused(String),
}

/// A store's anchor: the MAC key derived at open and, once the facade has said where the key
/// is kept, the keeper.
pub(crate) struct Slot {
    key: Option<hmac::Key>,
    keeper: OnceLock<Arc<AnchorKeeper>>,
}

impl std::fmt::Debug for Slot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Slot").field("keeper", &self.keeper.get().map(|k| k.place.to_string())).finish()
    }
}

impl Slot {
    pub(crate) fn new(key: Option<&StoreKey>) -> Self {
        Self { key: key.and_then(|k| k.derive_mac_key(LABEL)), keeper: OnceLock::new() }
    }

    pub(crate) fn keeper(&self) -> Option<&Arc<AnchorKeeper>> {
        self.keeper.get()
    }

    /// Starts keeping the anchor at `place`; `None` when this store has no key to sign with or
    /// already keeps one.
    pub(crate) fn keep(&self, place: AnchorPlace, store_id: &str) -> Option<Arc<AnchorKeeper>> {
        let key = self.key.clone()?;
        let keeper = Arc::new(AnchorKeeper {
            place,
            key,
            store_id: store_id.to_owned(),
            anchored: AtomicI64::new(0),
            created: Mutex::new(None),
            writing: tokio::sync::Mutex::new(()),
            warned: AtomicBool::new(false),
        });
        self.keeper.set(keeper.clone()).ok()?;
        Some(keeper)
    }
}

/// Keeps one store's anchor: reads, checks and moves it.
pub(crate) struct AnchorKeeper {
    place: AnchorPlace,
    key: hmac::Key,
    store_id: String,
    /// The highest `seq` this process anchored or found anchored: below it, nothing to do.
    anchored: AtomicI64,
    /// The `seq` of the anchor this process made because there was none.
    created: Mutex<Option<i64>>,
    /// One anchor write at a time in this process (processes race harmlessly: see `advance`).
    writing: tokio::sync::Mutex<()>,
    /// A refusal is logged once, not every refresh.
    warned: AtomicBool,
}

async fn head(pool: &SqlitePool) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
    Ok(sqlx::query_as("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetch_optional(pool).await?)
}

impl AnchorKeeper {
    /// Where the anchor is kept.
    pub(crate) fn place(&self) -> &AnchorPlace {
        &self.place
    }

    /// The kept anchor, authenticated. The keyring talks D-Bus synchronously: off the workers.
    pub(crate) async fn load(&self) -> Result<Option<Anchor>, String> {
        let place = self.place.clone();
        let text = tokio::task::spawn_blocking(move || place.load())
            .await
            .map_err(|e| format!("cannot be read ({e})"))??;
        text.map(|t| unseal(&self.key, &t)).transpose()
    }

    async fn save(&self, seq: i64, hash: &[u8]) -> Result<(), String> {
        let (_, text) = seal(&self.key, &self.store_id, seq, &hex::encode(hash), Utc::now());
        let place = self.place.clone();
        tokio::task::spawn_blocking(move || place.save(&text)).await.map_err(|e| e.to_string())?
    }

    /// What is wrong with the store against `anchor`, if anything (`head`: the chain's last
    /// `seq`).
    async fn mismatch(
        &self,
        pool: &SqlitePool,
        anchor: &Anchor,
        head: i64,
    ) -> Result<Option<String>, StoreError> {
        let at = anchor.at.to_rfc3339_opts(SecondsFormat::Secs, true);
        if anchor.store_id != self.store_id {
            return Ok(Some(format!(
                "the anchor belongs to store {}, not to this store ({})",
                anchor.store_id, self.store_id
            )));
        }
        if head < anchor.seq {
            return Ok(Some(format!(
                "the store's audit chain ends at event {head} but its anchor, written {at}, is at event {}: \
                 this is an older copy of the store or its tail was deleted",
                anchor.seq
            )));
        }
        let stored: Option<Vec<u8>> = sqlx::query_scalar("SELECT hash FROM audit WHERE seq = ?")
            .bind(anchor.seq)
            .fetch_optional(pool)
            .await?;
        Ok(match stored {
            None => Some(format!(
                "the store's audit chain has no event {}, which its anchor, written {at}, records: \
                 events were deleted (the chain now ends at event {head})",
                anchor.seq
            )),
            Some(hash) if hex::encode(&hash) != anchor.hash => Some(format!(
                "the store's event {} is not the one its anchor, written {at}, records: the chain was \
                 cut and rewritten after the anchor was taken, or this is another copy of the store",
                anchor.seq
            )),
            Some(_) => None,
        })
    }

    /// Moves the anchor to the chain's head when the head moved past it and the store still
    /// holds the anchored event; makes one when there is none. Never moves it backwards: when
    /// another process anchored further, its anchor stays.
    pub(crate) async fn advance(&self, pool: &SqlitePool) -> Result<Advance, StoreError> {
        let Some((seq, hash)) = head(pool).await? else { return Ok(Advance::Unchanged) };
        if seq <= self.anchored.load(Ordering::Acquire) {
            return Ok(Advance::Unchanged);
        }
        let _writing = self.writing.lock().await;
        let stored = match self.load().await {
            Ok(stored) => stored,
            Err(problem) => return Ok(self.refuse(format!("the anchor in {} {problem}", self.place))),
        };
        if let Some(anchor) = &stored {
            if let Some(problem) = self.mismatch(pool, anchor, seq).await? {
                return Ok(self.refuse(problem));
            }
            if anchor.seq >= seq {
                self.anchored.fetch_max(anchor.seq, Ordering::AcqRel);
                return Ok(Advance::Unchanged);
            }
        }
        if let Err(problem) = self.save(seq, &hash).await {
            return Ok(self.refuse(format!("the anchor in {} {problem}", self.place)));
        }
        self.anchored.fetch_max(seq, Ordering::AcqRel);
        self.warned.store(false, Ordering::Release);
        if stored.is_none() {
            *self.created.lock().unwrap_or_else(|e| e.into_inner()) = Some(seq);
            tracing::info!(place = %self.place, seq, "no audit anchor was kept for this store: made one");
            Ok(Advance::Created(seq))
        } else {
            Ok(Advance::Moved(seq))
        }
    }

    fn refuse(&self, problem: String) -> Advance {
        if !self.warned.swap(true, Ordering::AcqRel) {
            tracing::error!(place = %self.place, %problem, "the audit anchor stays where it is; run `vigil audit verify`");
        }
        Advance::Refused(problem)
    }

    /// `verify`'s look at the anchor, after the chain was walked. `intact`: the chain verified,
    /// so the anchor may move to its head.
    pub(crate) async fn check(&self, pool: &SqlitePool, intact: bool) -> Result<AnchorCheck, StoreError> {
        let place = self.place.to_string();
        let failed = |problem: String| AnchorCheck::Failed { place: place.clone(), problem };
        let head_seq = head(pool).await?.map(|(seq, _)| seq).unwrap_or(0);
        let stored = {
            let _writing = self.writing.lock().await;
            self.load().await
        };
        let anchor = match stored {
            Err(problem) => return Ok(failed(format!("the anchor in {place} {problem}"))),
            Ok(None) if !intact => {
                return Ok(AnchorCheck::NotKept {
                    reason: format!("no anchor is kept in {place}, and none is made over a broken chain"),
                });
            }
            Ok(None) => {
                return Ok(match self.advance(pool).await? {
                    Advance::Refused(problem) => failed(problem),
                    _ => AnchorCheck::Created { place: place.clone(), seq: head_seq },
                });
            }
            Ok(Some(anchor)) => anchor,
        };
        if let Some(problem) = self.mismatch(pool, &anchor, head_seq).await? {
            return Ok(failed(problem));
        }
        if intact {
            if let Advance::Refused(problem) = self.advance(pool).await? {
                return Ok(failed(problem));
            }
        }
        // The anchor this process made because there was none: say so (once).
        let created = self.created.lock().unwrap_or_else(|e| e.into_inner()).take();
        Ok(match created {
            // Made at open (or by an earlier refresh) and since moved with the head.
            Some(seq) => AnchorCheck::Created { place, seq: if intact { head_seq.max(seq) } else { seq } },
            None => AnchorCheck::Matched {
                place,
                seq: anchor.seq,
                at: anchor.at,
                head: if intact { head_seq } else { anchor.seq },
            },
        })
    }
}

/// Looks at the head every [`REFRESH_EVERY`] until the store's pool closes.
pub(crate) fn spawn_refresh(keeper: Arc<AnchorKeeper>, pool: SqlitePool) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(REFRESH_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if pool.is_closed() {
                break;
            }
            if let Err(e) = keeper.advance(&pool).await {
                if pool.is_closed() {
                    break;
                }
                tracing::warn!(error = %e, "the audit anchor could not be refreshed");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> hmac::Key {
        StoreKey::generate().unwrap().derive_mac_key(LABEL).unwrap()
    }

    #[test]
    fn a_sealed_anchor_unseals_with_its_key_only_and_any_edit_fails() {
        let k = key();
        let at = Utc::now();
        let (anchor, text) = seal(&k, "store-1", 840, &"ab".repeat(32), at);
        let back = unseal(&k, &text).unwrap();
        assert_eq!(
            (back.seq, back.store_id.as_str(), back.mac.as_str()),
            (840, "store-1", anchor.mac.as_str())
        );
        let err = unseal(&key(), &text).unwrap_err();
        assert!(err.starts_with("does not authenticate"), "{err}");
        for (from, to) in [("840", "841"), ("store-1", "store-2"), ("\"version\":1", "\"version\":2")] {
            let edited = text.replacen(from, to, 1);
            assert_ne!(edited, text);
            assert!(unseal(&k, &edited).is_err(), "{from} -> {to} accepted");
        }
        assert!(unseal(&k, "garbage").unwrap_err().starts_with("is not a Vigil audit anchor"));
    }

    #[test]
    fn the_anchor_lives_beside_the_key_and_names_the_store() {
        let file = AnchorPlace::beside(&KeySource::File("/etc/vigil/vigil.key".into()), "s1");
        assert_eq!(file, AnchorPlace::File("/etc/vigil/vigil.key.audit-anchor-s1".into()));
        let ring = AnchorPlace::beside(&KeySource::Keyring { account: "/data/vigil.db".into() }, "s1");
        assert_eq!(ring.to_string(), "the OS keyring entry org.vigil.workstation / audit-anchor:s1");
    }
}
