//! btleplug's real BlueZ backend against a stand-in BlueZ (issue 13). Our machines have no
//! Bluetooth in their kernel, so BlueZ cannot run here; `tests/ble/bluez_standin.py` puts
//! python-dbusmock's `bluez5` template, with a heart-rate sensor's GATT objects added, on a
//! private D-Bus system bus. `vigil ble scan|pair|connect` then run exactly as on a clinic's
//! workstation: D-Bus calls, discovery, notifications, a drop and a reconnect, and a
//! notification becomes a stored reading. This is the deepest layer CI can reach.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

use vigil::domain::access::Role;

const ADDRESS: &str = "F0:12:34:56:78:9A";

/// The stand-in, killed when dropped.
struct StandIn {
    child: Child,
    bus: String,
}

impl StandIn {
    fn start(args: &[&str]) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ble/bluez_standin.py");
        // Debian's Python: python3-dbusmock, -gi and -dbus are Debian packages (scripts/setup.sh).
        let mut child = Command::new("/usr/bin/python3")
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect(
                "the stand-in BlueZ needs /usr/bin/python3 with python3-dbusmock (scripts/setup.sh test)",
            );
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let bus =
            line.strip_prefix("READY ").unwrap_or_else(|| panic!("the stand-in did not start: {line:?}"));
        Self { child, bus: bus.trim().to_owned() }
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn vigil(dir: &Path, bus: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vigil"))
        .args(args)
        .env("VIGIL_DATA_DIR", dir.join("data"))
        .env(vigil::store::KEY_FILE_ENV, dir.join("vigil.key"))
        .env("DBUS_SYSTEM_BUS_ADDRESS", bus)
        .env("RUST_LOG", "off")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn ok(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

#[test]
fn scan_pair_and_connect_through_btleplug_store_the_notifications_across_a_drop() {
    let dir = tempfile::tempdir().unwrap();
    let (data, key) = (dir.path().join("data"), dir.path().join("vigil.key"));
    common::cli_login(&data, &key, Role::Clinician);
    let out = common::cli(&data, &key, &["patient", "add", "--mrn", "BT-1", "--name", "Strap Wearer"], "");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    ok(&common::cli(&data, &key, &["patient", "consent", "BT-1", "--set", "monitoring"], ""));
    common::cli_login(&data, &key, Role::Nurse);

    // The device sends a value every 0.2 s and walks out of range after its fifth.
    let standin = StandIn::start(&["--every", "0.2", "--values", "100000", "--drop-after", "5"]);
    let scan = ok(&vigil(dir.path(), &standin.bus, &["ble", "scan", "--seconds", "1", "--json"]));
    let found = scan.as_array().unwrap();
    assert_eq!(found.len(), 1, "{scan}");
    assert_eq!(found[0]["address"], ADDRESS);
    assert_eq!(found[0]["name"], "Vigil Test HR");
    assert_eq!(
        found[0]["services"],
        serde_json::json!(["180d"]),
        "the battery service is not a health service"
    );

    let paired = ok(&vigil(dir.path(), &standin.bus, &["ble", "pair", "f0:12:34:56:78:9a", "--json"]));
    assert_eq!(paired, serde_json::json!({ "address": ADDRESS, "paired": true }));
    let missing = vigil(dir.path(), &standin.bus, &["ble", "pair", "F0:12:34:56:78:00", "--timeout", "5"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("not found"));

    let streamed = ok(&vigil(
        dir.path(),
        &standin.bus,
        &["ble", "connect", ADDRESS, "--patient", "BT-1", "--seconds", "6", "--json"],
    ));
    let stored = streamed["stored"].as_u64().unwrap();
    // Each notification is a rate and one RR interval; the battery is read on each connection.
    assert!(stored >= 20 && stored % 2 == 0, "{streamed}");
    assert_eq!(streamed["duplicates"], 0);
    assert_eq!(streamed["held"], 0);
    // Two connections: each reads the battery, the manufacturer and the model once.
    assert_eq!(streamed["values"].as_u64().unwrap(), stored / 2 + 2 * 3, "{streamed}");

    let devices = ok(&vigil(dir.path(), &standin.bus, &["ble", "devices", "--json"]));
    assert_eq!(devices[0]["address"], ADDRESS);
    assert_eq!(devices[0]["kind"], "heart_rate_monitor");
    assert_eq!(devices[0]["battery_pct"], 87);
    // Device Information replaced what the advertisement could not say.
    assert_eq!(devices[0]["make"], "Vigil Test Devices");
    assert_eq!(devices[0]["model"], "HR-1");
    assert!(devices[0]["last_seen"].is_string());

    // No adapter at all (a bus with no BlueZ): a clear error, not a hang.
    let none = vigil(dir.path(), "unix:path=/nonexistent/bus", &["ble", "scan", "--seconds", "1"]);
    assert!(!none.status.success());
    assert!(
        String::from_utf8_lossy(&none.stderr).contains("no Bluetooth adapter"),
        "{}",
        String::from_utf8_lossy(&none.stderr)
    );
}
