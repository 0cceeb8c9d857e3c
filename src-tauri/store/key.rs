//! The store's encryption key: 32 random bytes, made at first run and kept in the OS keyring
//! (Secret Service, macOS Keychain, Windows Credential Manager) or, where there is no keyring
//! (servers, CI), in a key file named by `VIGIL_KEY_FILE` that only its owner may read.
//!
//! Losing the key loses the store: IT keeps a copy of the key file or of the keyring entry
//! with its backups.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, Zeroizing};

/// The environment variable that names a key file.
pub const KEY_FILE_ENV: &str = "VIGIL_KEY_FILE";
/// The keyring service name; the account is the store's path.
pub const KEYRING_SERVICE: &str = "org.vigil.workstation";

/// A 256-bit SQLCipher key. Its `Debug` output never shows the bytes, it has no `Display`, and
/// its bytes are overwritten when it is dropped (`zeroize`, which the compiler may not elide;
/// OWASP Cryptographic Storage Cheat Sheet: keep keys in memory no longer than needed). The
/// hex texts it hands out are [`Zeroizing`] too.
#[derive(Clone, PartialEq, Eq)]
pub struct StoreKey([u8; 32]);

impl Zeroize for StoreKey {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

impl Drop for StoreKey {
    fn drop(&mut self) {
        self.zeroize();
    }
}

impl zeroize::ZeroizeOnDrop for StoreKey {}

impl StoreKey {
    /// A new random key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, KeyError> {
        let mut key = Self([0u8; 32]);
        SystemRandom::new().fill(&mut key.0).map_err(|_| KeyError::Random)?;
        Ok(key)
    }

    /// Parses 64 hexadecimal digits (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut key = Self([0u8; 32]);
        hex::decode_to_slice(text.trim(), &mut key.0).ok()?;
        Some(key)
    }

    /// The 64 hexadecimal digits, wiped when dropped.
    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0))
    }

    /// The SQLCipher `PRAGMA key` value in raw-key form, which skips PBKDF2: the key is
    /// already 256 random bits. (<https://www.zetetic.net/sqlcipher/sqlcipher-api/#key>)
    /// sqlx keeps this text in the pool's connect options for as long as the pool lives (it
    /// keys each new connection with it); SQLCipher's own copy is wiped by
    /// `cipher_memory_security` (`store/mod.rs`).
    pub(crate) fn pragma_value(&self) -> String {
        format!("\"x'{}'\"", self.to_hex().as_str())
    }

    /// A MAC key for one purpose, derived from this key with HKDF-SHA256 (RFC 5869; the
    /// extract-then-expand use recommended by NIST SP 800-56C rev. 2), `label` as HKDF's `info`,
    /// so a key for another purpose can never verify its MACs. The store key is already 256
    /// uniformly random bits, so a fixed salt is enough (RFC 5869, section 3.1). `None` only if
    /// ring refuses the output length, which HMAC-SHA256's 32 bytes never exceeds.
    pub(crate) fn derive_mac_key(&self, label: &[u8]) -> Option<ring::hmac::Key> {
        let salt = ring::hkdf::Salt::new(ring::hkdf::HKDF_SHA256, b"vigil.store-key.hkdf");
        let prk = salt.extract(&self.0);
        let info = [label];
        let okm = prk.expand(&info, ring::hmac::HMAC_SHA256).ok()?;
        Some(ring::hmac::Key::from(okm))
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreKey(..)")
    }
}

/// Where a store's key is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A file holding the key as 64 hex digits, readable by its owner only.
    File(PathBuf),
    /// The OS keyring, under [`KEYRING_SERVICE`] and this account.
    Keyring {
        /// The account name: the store's path, so several stores on one machine keep
        /// separate keys.
        account: String,
    },
}

impl KeySource {
    /// `VIGIL_KEY_FILE` when set, otherwise the OS keyring entry for this store path.
    pub fn from_env(store_path: &Path) -> Self {
        match std::env::var_os(KEY_FILE_ENV) {
            Some(path) if !path.is_empty() => KeySource::File(PathBuf::from(path)),
            _ => KeySource::Keyring { account: store_path.display().to_string() },
        }
    }

    /// Reads the key; `Ok(None)` when this source holds no key yet.
    pub fn load(&self) -> Result<Option<StoreKey>, KeyError> {
        match self {
            KeySource::File(path) => load_file(path),
            KeySource::Keyring { account } => {
                let entry = keyring_entry(account)?;
                match entry.get_password() {
                    Ok(text) => StoreKey::from_hex(&text).map(Some).ok_or_else(|| {
                        KeyError::Keyring(format!("the entry for {account} is not a Vigil key"))
                    }),
                    Err(keyring::Error::NoEntry) => Ok(None),
                    Err(e) => Err(KeyError::Keyring(e.to_string())),
                }
            }
        }
    }

    /// Saves a new key. Refuses to overwrite an existing one: an overwritten key is a lost
    /// store.
    pub fn save_new(&self, key: &StoreKey) -> Result<(), KeyError> {
        if self.load()?.is_some() {
            return Err(KeyError::AlreadyExists(self.to_string()));
        }
        match self {
            KeySource::File(path) => save_file(path, key),
            KeySource::Keyring { account } => keyring_entry(account)?
                .set_password(key.to_hex().as_str())
                .map_err(|e| KeyError::Keyring(e.to_string())),
        }
    }
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::File(path) => write!(f, "key file {}", path.display()),
            KeySource::Keyring { account } => {
                write!(f, "the OS keyring entry {KEYRING_SERVICE} / {account}")
            }
        }
    }
}

/// Why a key could not be read or kept.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The key file may be read by others.
    #[error(
        "key file {path} has mode {mode:04o}; it must be readable by its owner only \
         (run: chmod 600 {path})"
    )]
    FileMode {
        /// The file.
        path: String,
        /// Its permission bits.
        mode: u32,
    },
    /// The key file does not hold a key.
    #[error("key file {path} does not hold a Vigil key (64 hexadecimal digits): {problem}")]
    FileContent {
        /// The file.
        path: String,
        /// What is wrong.
        problem: String,
    },
    /// Reading or writing the key file failed.
    #[error("key file {path}: {source}")]
    FileIo {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The keyring is unavailable or refused.
    #[error(
        "the OS keyring is not available ({0}); on a server or in CI, set VIGIL_KEY_FILE \
         to a key file readable by its owner only"
    )]
    Keyring(String),
    /// A key is already kept there.
    #[error("{0} already holds a key; refusing to overwrite it")]
    AlreadyExists(String),
    /// The OS random source failed.
    #[error("the operating system's random number generator failed")]
    Random,
}

fn keyring_entry(account: &str) -> Result<keyring::Entry, KeyError> {
    keyring::Entry::new(KEYRING_SERVICE, account).map_err(|e| KeyError::Keyring(e.to_string()))
}

fn load_file(path: &Path) -> Result<Option<StoreKey>, KeyError> {
    let shown = path.display().to_string();
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(KeyError::FileIo { path: shown, source }),
    };
    check_owner_only(&shown, &metadata)?;
    let text =
        std::fs::read_to_string(path).map_err(|source| KeyError::FileIo { path: shown.clone(), source })?;
    StoreKey::from_hex(&text).map(Some).ok_or_else(|| KeyError::FileContent {
        path: shown,
        problem: format!("found {} characters", text.trim().len()),
    })
}

#[cfg(unix)]
fn check_owner_only(path: &str, metadata: &std::fs::Metadata) -> Result<(), KeyError> {
    use std::os::unix::fs::PermissionsExt;
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(KeyError::FileMode { path: path.to_owned(), mode });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_owner_only(_path: &str, _metadata: &std::fs::Metadata) -> Result<(), KeyError> {
    // On Windows the file's ACL is IT's to set; the installer creates it owner-only.
    Ok(())
}

fn save_file(path: &Path, key: &StoreKey) -> Result<(), KeyError> {
    let shown = path.display().to_string();
    let io = |source| KeyError::FileIo { path: shown.clone(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io)?;
    let text = Zeroizing::new(format!("{}\n", key.to_hex().as_str()));
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_differ_and_round_trip_through_hex() {
        let a = StoreKey::generate().unwrap();
        let b = StoreKey::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(StoreKey::from_hex(&format!("  {}\n", a.to_hex().as_str())), Some(a.clone()));
        assert_eq!(format!("{a:?}"), "StoreKey(..)");
        assert_eq!(StoreKey::from_hex("abc"), None);
    }

    #[test]
    fn store_key_is_zeroized_when_dropped() {
        // `unsafe` is forbidden in this crate, so freed memory cannot be read back: check that
        // the wipe Drop runs clears the bytes, and that the type promises to run it on drop.
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<StoreKey>();
        let mut key = StoreKey::from_hex(&"ab".repeat(32)).unwrap();
        key.zeroize();
        assert_eq!(key.0, [0u8; 32]);
        // No Display exists; Debug hides the bytes.
        let key = StoreKey::from_hex(&"ab".repeat(32)).unwrap();
        assert_eq!(format!("{key:?}"), "StoreKey(..)");
    }

    #[test]
    fn key_file_is_created_owner_only_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let source = KeySource::File(dir.path().join("keys/vigil.key"));
        assert_eq!(source.load().unwrap(), None);
        let key = StoreKey::generate().unwrap();
        source.save_new(&key).unwrap();
        assert_eq!(source.load().unwrap(), Some(key));
        let again = source.save_new(&StoreKey::generate().unwrap()).unwrap_err();
        assert!(again.to_string().ends_with("already holds a key; refusing to overwrite it"), "{again}");
    }

    #[cfg(unix)]
    #[test]
    fn key_file_readable_by_others_is_refused_naming_file_and_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigil.key");
        std::fs::write(&path, StoreKey::generate().unwrap().to_hex()).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = KeySource::File(path.clone()).load().unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "key file {p} has mode 0644; it must be readable by its owner only (run: chmod 600 {p})",
                p = path.display()
            )
        );
    }

    #[test]
    fn key_file_with_garbage_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vigil.key");
        let source = KeySource::File(path.clone());
        save_file(&path, &StoreKey::generate().unwrap()).unwrap();
        std::fs::write(&path, "not a key").unwrap();
        let err = source.load().unwrap_err().to_string();
        assert!(
            err.contains("does not hold a Vigil key (64 hexadecimal digits): found 9 characters"),
            "{err}"
        );
    }
}
