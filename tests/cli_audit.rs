//! `vigil audit verify|export|check|btg` run as a built binary: a restored older data directory
//! fails verify with words saying so, an export checks offline, an altered one names its line.

// A failed unwrap is the test's report. clippy.toml's allow-unwrap-in-tests covers only #[test]
// functions, not this test crate's helpers (tests/common), hence the crate-wide allow.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use vigil::domain::access::Role;

use std::path::Path;
use std::process::Output;

fn vigil(dir: &Path, args: &[&str]) -> Output {
    common::cli(&dir.join("data"), &dir.join("vigil.key"), args, "")
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[test]
fn the_audit_verbs_verify_export_check_and_list_break_the_glass() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let login = |role| common::cli_login(&d.join("data"), &d.join("vigil.key"), role);
    login(Role::Clinician);
    ok(&vigil(d, &["patient", "add", "--mrn", "MRN-1", "--name", "Ada Example"]));
    login(Role::Auditor);
    let verified = ok(&vigil(d, &["audit", "verify"]));
    assert!(
        verified.starts_with("Audit trail intact: ") && verified.contains("\nAnchor matches: event "),
        "{verified}"
    );

    // Export, check, alter, check again.
    let export = d.join("audit.jsonl");
    let said = ok(&vigil(d, &["audit", "export", "--out", export.to_str().unwrap()]));
    assert!(said.starts_with("Exported ") && said.contains(" audit events, the whole chain, to "), "{said}");
    let checked = ok(&vigil(d, &["audit", "check", export.to_str().unwrap()]));
    assert!(
        checked.contains(" events, every hash recomputed, one unbroken chain from the first event"),
        "{checked}"
    );
    let text = std::fs::read_to_string(&export).unwrap();
    std::fs::write(&export, text.replacen("\"actor\":\"", "\"actor\":\"x", 1)).unwrap();
    let bad = vigil(d, &["audit", "check", export.to_str().unwrap()]);
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(
        stderr.contains("line 1: event 1: its hash does not follow from its fields: the line was altered"),
        "{stderr}"
    );

    // No break-the-glass events yet: an empty JSON list.
    assert_eq!(ok(&vigil(d, &["audit", "btg", "--json"])).trim(), "[]");

    // A backup, more work, the backup restored: verify fails and says why.
    copy_dir(&d.join("data"), &d.join("backup"));
    login(Role::Clinician);
    ok(&vigil(d, &["patient", "add", "--mrn", "MRN-2", "--name", "Bo Example"]));
    login(Role::Auditor);
    ok(&vigil(d, &["audit", "verify"]));
    std::fs::remove_dir_all(d.join("data")).unwrap();
    copy_dir(&d.join("backup"), &d.join("data"));
    let restored = vigil(d, &["audit", "verify"]);
    assert!(!restored.status.success());
    let stderr = String::from_utf8_lossy(&restored.stderr);
    assert!(
        stderr.contains("the audit trail does not match its anchor: the store's audit chain ends at event "),
        "{stderr}"
    );
    assert!(stderr.contains("this is an older copy of the store or its tail was deleted"), "{stderr}");
}
