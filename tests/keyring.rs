//! The key in a real OS keyring (Secret Service on Linux). Needs a session bus with an unlocked
//! Secret Service: `scripts/test.sh` runs this file with `--ignored` inside `dbus-run-session`
//! with gnome-keyring, and without `VIGIL_KEY_FILE`.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use vigil::OpenOptions;
use vigil::store::KeySource;

#[tokio::test]
#[ignore = "needs a Secret Service; scripts/test.sh runs it in a private D-Bus session"]
async fn without_a_key_file_the_key_is_made_and_kept_in_the_os_keyring() {
    assert!(std::env::var_os("VIGIL_KEY_FILE").is_none(), "run without VIGIL_KEY_FILE");
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let store_path = data_dir.join(vigil::workstation::STORE_FILE);
    let source = KeySource::from_env(&store_path);
    assert_eq!(source, KeySource::Keyring { account: store_path.display().to_string() });
    assert_eq!(source.load().unwrap(), None, "a fresh path has no key yet");

    let ws = common::open(OpenOptions::create(&data_dir)).await;
    let status = ws.status().await.unwrap();
    assert!(status.encrypted);
    assert!(
        status.key_source.starts_with("the OS keyring entry org.vigil.workstation / "),
        "{}",
        status.key_source
    );
    ws.close().await;

    // The key is in the keyring, and it opens the store again.
    let key = source.load().unwrap().expect("the keyring holds the key");
    assert_eq!(key.to_hex().len(), 64);
    let ws = common::open(OpenOptions::existing(&data_dir)).await;
    assert_eq!(ws.status().await.unwrap().schema_version, status.schema_version);
}
