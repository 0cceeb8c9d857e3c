//! Break-the-glass end to end through the command line (issue 12): an administrator restricts a
//! patient; a clinician's read is refused with words naming the restriction and how to open it;
//! a reason in words opens it for that clinician only; `vigil audit btg` lists the grant with
//! its user, patient and reason; lifting the restriction opens the record to everyone again.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use vigil::domain::access::Role;

struct Store {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    key: std::path::PathBuf,
}

impl Store {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let key = dir.path().join("vigil.key");
        Store { _dir: dir, data, key }
    }

    /// `vigil ARGS` in the session of the last `as_role`.
    fn run(&self, args: &[&str]) -> std::process::Output {
        common::cli(&self.data, &self.key, args, "")
    }

    fn as_role(&self, role: Role) {
        common::cli_login(&self.data, &self.key, role);
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn ok(out: &std::process::Output) -> String {
    assert!(out.status.success(), "failed: {}{}", text(&out.stdout), text(&out.stderr));
    text(&out.stdout)
}

fn refused(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "succeeded: {}", text(&out.stdout));
    text(&out.stderr)
}

#[test]
fn a_restricted_record_opens_only_with_a_reason_and_the_grant_is_listed() {
    let s = Store::new();
    s.as_role(Role::Clinician);
    let id = ok(&s.run(&[
        "patient",
        "add",
        "--mrn",
        "BTG-1",
        "--name",
        "Glass Patient",
        "--birth-date",
        "1950-02-03",
        "--consent",
        "monitoring",
    ]))
    .trim()
    .to_owned();
    assert!(ok(&s.run(&["patient", "show", "BTG-1"])).contains("Glass Patient"));
    s.as_role(Role::Nurse); // made now, so that it can be used below without the administrator

    s.as_role(Role::Admin);
    assert!(ok(&s.run(&["patient", "restrict", "BTG-1"])).contains("Record restricted"));

    // The clinician is refused, told that the record is restricted and how to open it.
    s.as_role(Role::Clinician);
    for args in [
        &["patient", "show", "BTG-1"][..],
        &["patient", "view", "BTG-1"],
        &["export", "--format", "csv", "BTG-1"],
    ] {
        let out = s.run(args);
        let stderr = refused(&out);
        assert!(
            stderr.contains("restricted") && stderr.contains("vigil patient open PATIENT --reason"),
            "{args:?}: {stderr}"
        );
        assert!(!text(&out.stdout).contains("Glass Patient"), "{args:?} printed the patient");
    }
    // No reason, or no words, opens nothing.
    for reason in ["", "   ", "because"] {
        let stderr = refused(&s.run(&["patient", "open", "BTG-1", "--reason", reason]));
        assert!(stderr.contains("reason"), "{reason:?}: {stderr}");
        refused(&s.run(&["patient", "show", "BTG-1"]));
    }
    let reason = "Unconscious in the emergency department, no other record";
    let said = ok(&s.run(&["patient", "open", "BTG-1", "--reason", reason]));
    assert!(said.contains("opened until"), "{said}");
    assert!(ok(&s.run(&["patient", "show", "BTG-1"])).contains("Glass Patient"));

    // The grant is the clinician's: the nurse is still refused.
    s.as_role(Role::Nurse);
    refused(&s.run(&["patient", "show", "BTG-1"]));

    // The auditor sees the grant, in text and in JSON.
    s.as_role(Role::Auditor);
    let listed = ok(&s.run(&["audit", "btg"]));
    let line =
        listed.lines().find(|l| l.contains("user:test-clinician")).unwrap_or_else(|| panic!("{listed}"));
    assert!(line.contains(&format!("patient {id}")) && line.contains(reason), "{line}");
    assert_eq!(listed.lines().count(), 1, "one grant: {listed}");
    let json: serde_json::Value = serde_json::from_str(&ok(&s.run(&["--json", "audit", "btg"]))).unwrap();
    let events = json.as_array().unwrap();
    assert_eq!(events.len(), 1, "{json}");
    assert_eq!(events[0]["actor"], "user:test-clinician");
    assert_eq!(events[0]["patient"].as_str(), Some(id.as_str()));
    assert_eq!(events[0]["reason"].as_str(), Some(reason));
    assert!(events[0]["until"].is_string() && events[0]["problem"].is_null(), "{json}");
    // People other than auditors cannot list it.
    s.as_role(Role::Clinician);
    assert!(refused(&s.run(&["audit", "btg"])).contains("audit.read"));

    // Lifted, the record opens for the nurse, who never broke the glass.
    s.as_role(Role::Admin);
    assert!(ok(&s.run(&["patient", "restrict", "BTG-1", "--lift"])).contains("Restriction lifted"));
    assert!(ok(&s.run(&["patient", "restrict", "BTG-1", "--lift"])).contains("already"));
    s.as_role(Role::Nurse);
    assert!(ok(&s.run(&["patient", "show", "BTG-1"])).contains("Glass Patient"));
}
