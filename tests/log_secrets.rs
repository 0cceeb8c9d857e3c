//! No secret in any log at any level (issue 12): every verb a script can reach is run with
//! `VIGIL_LOG=trace` against a store whose patient has a name and an MRN found nowhere else;
//! neither the store key (the key file's text, and the hex of its bytes), the password, a
//! session or service token, nor the patient's name or MRN may appear in any verb's standard
//! error, in the standard output of verbs that do not show patients, or in any log file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use chrono::{Duration, SecondsFormat, Utc};

const GIVEN: &str = "Zephyrine";
const FAMILY: &str = "Quillfeather";
const MRN: &str = "QX-773194";

/// One run of `vigil` at trace level.
struct Run {
    args: Vec<String>,
    stdout: String,
    stderr: String,
    /// Its standard output shows patients by design (a list, a record, an export).
    shows_patients: bool,
}

struct Store {
    dir: tempfile::TempDir,
    data: PathBuf,
    key: PathBuf,
    runs: Vec<Run>,
}

impl Store {
    /// Runs `vigil ARGS` at trace level and keeps its output; it must succeed.
    fn vigil(&mut self, args: &[&str], stdin: &str, shows_patients: bool) -> &Run {
        let ok = self.run(args, stdin, shows_patients);
        assert!(ok, "vigil {args:?} failed: {}", tail(&self.runs.last().unwrap().stderr));
        self.runs.last().unwrap()
    }

    /// A run that must fail (a wrong password, a refused role); its output is searched too.
    fn refused(&mut self, args: &[&str], stdin: &str) {
        assert!(!self.run(args, stdin, false), "vigil {args:?} succeeded");
    }

    fn run(&mut self, args: &[&str], stdin: &str, shows_patients: bool) -> bool {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_vigil"))
            .args(args)
            .env("VIGIL_DATA_DIR", &self.data)
            .env(vigil::store::KEY_FILE_ENV, &self.key)
            .env("VIGIL_LOG", "trace")
            .env_remove("RUST_LOG")
            .env_remove("VIGIL_TOKEN_FILE")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        self.runs.push(Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            shows_patients,
        });
        out.status.success()
    }

    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_str().unwrap().to_owned()
    }
}

fn tail(text: &str) -> &str {
    &text[text.len().saturating_sub(3000)..]
}

fn stamp(minutes_ago: i64) -> String {
    (Utc::now() - Duration::minutes(minutes_ago)).to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn fhir_bundle() -> String {
    let observation = |minutes_ago: i64, value: u32| {
        format!(
            r#"{{"resource": {{"resourceType": "Observation", "status": "final",
                 "code": {{"coding": [{{"system": "http://loinc.org", "code": "8867-4"}}]}},
                 "subject": {{"reference": "urn:uuid:p1"}}, "effectiveDateTime": "{}",
                 "valueQuantity": {{"value": {value}, "unit": "/min", "system": "http://unitsofmeasure.org", "code": "/min"}}}}}}"#,
            stamp(minutes_ago)
        )
    };
    format!(
        r#"{{"resourceType": "Bundle", "type": "collection", "entry": [
            {{"fullUrl": "urn:uuid:p1", "resource": {{"resourceType": "Patient", "id": "p1",
              "identifier": [{{"type": {{"coding": [{{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}}]}},
                               "value": "{MRN}"}}],
              "name": [{{"use": "official", "given": ["{GIVEN}"], "family": "{FAMILY}"}}],
              "birthDate": "1951-07-30", "gender": "female"}}}},
            {},
            {}]}}"#,
        observation(30, 131),
        observation(25, 134)
    )
}

/// Every file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else { return out };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn store_key_in_the_debug_log_no_secret_or_patient_at_trace_in_any_verb() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = dir.path().join("vigil.key");
    let mut s = Store { data, key, dir, runs: Vec::new() };
    let password = format!("{}\n", common::PASSWORD);
    let pw = password.as_str();

    // The administrator makes the store and the accounts.
    s.vigil(&["init", "--admin", "admin1"], pw, false);
    s.vigil(&["login", "admin1"], pw, false);
    s.vigil(&["whoami"], "", false);
    s.vigil(&["--json", "whoami"], "", false);
    s.vigil(&["status"], "", false);
    for (name, role) in [("clin1", "clinician"), ("nurse1", "nurse"), ("audit1", "auditor"), ("it1", "it")] {
        s.vigil(&["user", "add", name, "--role", role], pw, false);
    }
    let token_file = s.path("svc.token");
    s.vigil(
        &["user", "add", "svc1", "--role", "monitor", "--service", "--token-out", &token_file],
        "",
        false,
    );
    s.vigil(&["user", "list"], "", false);
    s.vigil(&["user", "role", "nurse1", "clinician"], "", false);
    s.vigil(&["user", "role", "nurse1", "nurse"], "", false);
    s.vigil(&["user", "disable", "it1"], "", false);
    s.vigil(&["user", "enable", "it1"], "", false);
    s.vigil(&["user", "passwd", "it1"], pw, false);
    s.vigil(&["settings", "set", "escalation_minutes", "7"], "", false);
    s.refused(&["login", "clin1"], "a wrong password entirely\n");

    // The clinician registers the patient, imports, reads, exports.
    s.vigil(&["login", "clin1"], pw, false);
    s.vigil(&["settings"], "", false);
    s.refused(&["user", "list"], "");
    let name = format!("{GIVEN} {FAMILY}");
    let added = s.vigil(
        &[
            "patient",
            "add",
            "--mrn",
            MRN,
            "--name",
            &name,
            "--birth-date",
            "1951-07-30",
            "--sex",
            "female",
            "--consent",
            "monitoring,clinic-sync",
        ],
        "",
        false,
    );
    let id = added.stdout.trim().to_owned();
    let csv = s.path("vitals.csv");
    let mut rows = String::from("patient,time,kind,value,unit\n");
    for m in (1..=40).rev() {
        rows.push_str(&format!("{MRN},{},heart_rate,{},/min\n", stamp(m + 60), 120 + m % 9));
        rows.push_str(&format!("{MRN},{},spo2,{},%\n", stamp(m + 60), 89 + m % 3));
    }
    rows.push_str(&format!("{MRN},{},body_weight,81.4,kg\n", stamp(200)));
    std::fs::write(&csv, rows).unwrap();
    let fhir = s.path("bundle.json");
    std::fs::write(&fhir, fhir_bundle()).unwrap();
    s.vigil(&["import", &csv, "--dry-run"], "", false);
    s.vigil(&["import", &csv], "", false);
    s.vigil(&["import", &fhir, "--format", "fhir"], "", false);
    s.vigil(&["--json", "import", &csv], "", false);
    s.vigil(
        &["vitals", "record", MRN, "--heart-rate", "118", "--resp-rate", "24", "--temperature", "38.4"],
        "",
        true,
    );
    s.vigil(&["patient", "list"], "", true);
    s.vigil(&["--json", "patient", "list"], "", true);
    s.vigil(&["patient", "show", MRN], "", true);
    s.vigil(&["patient", "view", &id], "", true);
    s.vigil(&["patient", "edit", MRN, "--sex", "female"], "", true);
    s.vigil(&["patient", "consent", MRN, "--history"], "", true);
    s.vigil(&["observations", MRN], "", true);
    s.vigil(&["worklist"], "", true);
    s.vigil(&["--json", "worklist"], "", true);
    s.vigil(&["assess", MRN], "", true);
    s.vigil(&["monitor", "--once"], "", true);
    s.vigil(&["alerts", "list", "--all"], "", true);
    s.vigil(&["agents", "status", "--probes", "3"], "", false);
    s.vigil(&["packages", "list"], "", false);
    s.vigil(&["export", "--format", "csv", MRN], "", true);
    s.vigil(&["export", "--format", "fhir", MRN], "", true);
    let exported = s.path("export.json");
    s.vigil(&["export", "--format", "fhir", MRN, "--out", &exported], "", false);
    s.vigil(&["patient", "restrict", MRN], "", false);
    s.vigil(&["patient", "open", MRN, "--reason", "Checking the trace log test's grant"], "", false);
    s.vigil(&["patient", "restrict", MRN, "--lift"], "", false);

    // The service account watches.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&token_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    s.vigil(&["--token-file", &token_file, "monitor", "--once"], "", true);
    s.vigil(&["--token-file", &token_file, "whoami"], "", false);

    // The auditor reads the trail (its events name the patient's id, not the person).
    s.vigil(&["login", "audit1"], pw, false);
    s.vigil(&["audit", "verify"], "", false);
    let trail = s.path("trail.jsonl");
    s.vigil(&["audit", "export", "--out", &trail], "", false);
    s.vigil(&["audit", "export", "--patient", &id], "", false);
    s.vigil(&["audit", "check", &trail], "", false);
    s.vigil(&["audit", "btg"], "", false);
    s.vigil(&["--json", "audit", "btg"], "", false);
    let session = std::fs::read_to_string(s.data.join("session")).unwrap();
    s.vigil(&["logout"], "", false);

    // What must appear nowhere.
    let key_text = std::fs::read_to_string(&s.key).unwrap();
    let key_bytes = std::fs::read(&s.key).unwrap();
    let service_token = std::fs::read_to_string(&token_file).unwrap();
    let secrets: Vec<(&str, String)> = vec![
        ("the key file's text", key_text.trim().to_lowercase()),
        ("the hex of the key file's bytes", hex::encode(&key_bytes)),
        ("the password", common::PASSWORD.to_lowercase()),
        ("the CLI session token", session.trim().to_lowercase()),
        ("the service token", service_token.trim().to_lowercase()),
    ];
    for (what, secret) in &secrets {
        assert!(secret.len() >= 16, "{what} is too short to search for: {secret:?}");
    }
    let patient = [("the patient's given name", GIVEN), ("family name", FAMILY), ("MRN", MRN)];
    let mut leaks = Vec::new();
    let mut check = |place: String, text: &str, with_patient: bool| {
        let lower = text.to_lowercase();
        for (what, secret) in &secrets {
            if lower.contains(secret.as_str()) {
                leaks.push(format!("{what} in {place}"));
            }
        }
        if with_patient {
            for (what, value) in patient {
                if lower.contains(&value.to_lowercase()) {
                    leaks.push(format!("{what} in {place}"));
                }
            }
        }
    };
    let mut traced = 0;
    for run in &s.runs {
        // The CLI's stderr shows warnings only unless VIGIL_LOG lowers the level.
        if ["TRACE", "DEBUG", " INFO "].iter().any(|level| run.stderr.contains(level)) {
            traced += 1;
        }
        check(format!("stderr of vigil {:?}", run.args), &run.stderr, true);
        check(format!("stdout of vigil {:?}", run.args), &run.stdout, !run.shows_patients);
    }
    let logs: Vec<PathBuf> =
        files_under(&s.data).into_iter().filter(|p| p.extension().is_some_and(|e| e == "log")).collect();
    assert!(!logs.is_empty(), "no log file under {}", s.data.display());
    let mut logged = 0;
    for log in &logs {
        let text = std::fs::read_to_string(log).unwrap();
        logged += text.len();
        check(format!("the log file {}", log.display()), &text, true);
    }
    // The test looks where something was written: VIGIL_LOG took effect (Vigil itself logs
    // little below info; its dependencies' statement loggers are off).
    assert!(traced >= 5, "only {traced} of {} runs logged below warn to stderr", s.runs.len());
    assert!(logged > 1_000, "the log files hold only {logged} bytes");
    // The patient is really in the data the verbs showed, so the search would find it.
    assert!(s.runs.iter().any(|r| r.shows_patients && r.stdout.contains(FAMILY) && r.stdout.contains(MRN)));
    leaks.dedup();
    assert!(leaks.is_empty(), "{} leaks:\n{}", leaks.len(), leaks.join("\n"));
}
