//! Writes a synthetic Apple Health `export.xml` of a requested size, for benchmarks and soak
//! tests of the importer. Deterministic: the same `--seed` and `--size` give the same bytes.
//!
//! ```text
//! cargo run --release --example gen_apple_health -- --out /tmp/export.xml --size 1G [--seed 42]
//! ```
//!
//! The structure follows real exports (HealthKit Export Version 13): the DTD with Apple's note
//! on correlations, `ExportDate`, `Me`, then `Record`s of many types, one minute at a time
//! from 2019-01-01 in US Pacific time (offset -0800 / -0700 by season), then blood-pressure
//! `Correlation`s whose children also appeared as top-level records, then `Workout`s and one
//! `ActivitySummary` per day. About a third of the records are types Vigil imports; the rest
//! (energy, distance, stand time, sleep, ...) are the noise a real export is full of. HRV
//! records carry a list of ~60 `InstantaneousBeatsPerMinute`. Every value is plausible, so the
//! importer should reject nothing.
//!
//! Beside the file it writes `<out>.expected`: how many records of each kind the importer
//! must yield, one `kind count` per line, and `records_seen` (Record elements it examines).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};

use chrono::{DateTime, Datelike, Duration, FixedOffset, TimeZone, Timelike};

use vigil::synthetic::SplitMix64 as Rng;

const WATCH: &str = "device=\"&lt;&lt;HKDevice: 0x283a3b2f0&gt;, name:Apple Watch, manufacturer:Apple Inc., \
                     model:Watch, hardware:Watch6,2, software:9.1&gt;\"";
const PHONE: &str = "device=\"&lt;&lt;HKDevice: 0x2811c4a50&gt;, name:iPhone, manufacturer:Apple Inc., \
                     model:iPhone, hardware:iPhone14,5, software:16.1&gt;\"";

const HEADER: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE HealthData [
<!-- HealthKit Export Version: 13 -->
<!ELEMENT HealthData (ExportDate,Me,(Record|Correlation|Workout|ActivitySummary|ClinicalRecord|Audiogram|VisionPrescription)*)>
<!ATTLIST HealthData
  locale CDATA #REQUIRED
>
<!ELEMENT ExportDate EMPTY>
<!ATTLIST ExportDate
  value CDATA #REQUIRED
>
<!ELEMENT Me EMPTY>
<!ELEMENT Record ((MetadataEntry|HeartRateVariabilityMetadataList)*)>
<!ATTLIST Record
  type          CDATA #REQUIRED
  unit          CDATA #IMPLIED
  value         CDATA #IMPLIED
  sourceName    CDATA #REQUIRED
  sourceVersion CDATA #IMPLIED
  device        CDATA #IMPLIED
  creationDate  CDATA #IMPLIED
  startDate     CDATA #REQUIRED
  endDate       CDATA #REQUIRED
>
<!-- Note: Any Records that appear as children of a correlation also appear as top-level records in this document. -->
<!ELEMENT Correlation ((MetadataEntry|Record)*)>
<!ELEMENT Workout ((MetadataEntry|WorkoutEvent|WorkoutRoute|WorkoutStatistics)*)>
<!ELEMENT ActivitySummary EMPTY>
<!ELEMENT MetadataEntry EMPTY>
<!ELEMENT HeartRateVariabilityMetadataList (InstantaneousBeatsPerMinute*)>
<!ELEMENT InstantaneousBeatsPerMinute EMPTY>
<!ATTLIST InstantaneousBeatsPerMinute
  bpm  CDATA #REQUIRED
  time CDATA #REQUIRED
>
]>
<HealthData locale="en_US">
 <ExportDate value="2024-06-08 14:12:17 -0700"/>
 <Me HKCharacteristicTypeIdentifierDateOfBirth="1951-04-02" HKCharacteristicTypeIdentifierBiologicalSex="HKBiologicalSexFemale" HKCharacteristicTypeIdentifierBloodType="HKBloodTypeNotSet" HKCharacteristicTypeIdentifierFitzpatrickSkinType="HKFitzpatrickSkinTypeNotSet" HKCharacteristicTypeIdentifierCardioFitnessMedicationsUse="None"/>
"#;

struct Gen {
    rng: Rng,
    out: BufWriter<File>,
    written: u64,
    line: String,
    expected: BTreeMap<&'static str, u64>,
    records_seen: u64,
    bp: Vec<(String, i64, i64)>,
}

/// US Pacific daylight time, UTC-07:00 (checked when compiling).
const PDT: FixedOffset = match FixedOffset::west_opt(7 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC-07:00 is a valid offset"),
};

/// US Pacific standard time, UTC-08:00 (checked when compiling).
const PST: FixedOffset = match FixedOffset::west_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC-08:00 is a valid offset"),
};

/// US Pacific offset, approximated by season (DST from mid-March to early November).
fn pacific(t: i64) -> DateTime<FixedOffset> {
    // Generated times run from 2019 for a few years, far inside chrono's ±262,000 years.
    #[allow(clippy::expect_used, reason = "a generated time, see above")]
    let utc = DateTime::from_timestamp(t, 0).expect("in range");
    let dst = matches!(utc.month(), 4..=10) || (utc.month() == 3 && utc.day() >= 12);
    utc.with_timezone(if dst { &PDT } else { &PST })
}

fn date(t: i64) -> String {
    pacific(t).format("%Y-%m-%d %H:%M:%S %z").to_string()
}

impl Gen {
    fn flush_line(&mut self) -> std::io::Result<()> {
        self.out.write_all(self.line.as_bytes())?;
        self.written += self.line.len() as u64;
        self.line.clear();
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        ty: &str,
        unit: &str,
        value: &str,
        start: i64,
        end: i64,
        phone: bool,
        children: &str,
    ) {
        let (source, device) = if phone { ("iPhone", PHONE) } else { ("Apple Watch", WATCH) };
        let (s, e) = (date(start), date(end));
        let _ = write!(
            self.line,
            " <Record type=\"{ty}\" sourceName=\"{source}\" sourceVersion=\"9.1\" {device} unit=\"{unit}\" \
             creationDate=\"{e}\" startDate=\"{s}\" endDate=\"{e}\" value=\"{value}\""
        );
        if children.is_empty() {
            self.line.push_str("/>\n");
        } else {
            let _ = write!(self.line, ">\n{children} </Record>\n");
        }
    }

    fn expect(&mut self, kind: &'static str, n: u64) {
        *self.expected.entry(kind).or_default() += n;
    }

    /// One minute of data starting at `t`.
    fn minute(&mut self, t: i64) -> std::io::Result<()> {
        let roll = self.rng.unit();
        let hr = || "  <MetadataEntry key=\"HKMetadataKeyHeartRateMotionContext\" value=\"0\"/>\n";
        self.records_seen += 1;
        match roll {
            r if r < 0.30 => {
                let v = self.rng.int(52, 118).to_string();
                let children = if self.rng.unit() < 0.2 { hr() } else { "" };
                self.record("HKQuantityTypeIdentifierHeartRate", "count/min", &v, t, t, false, children);
                self.expect("heart_rate", 1);
            }
            r if r < 0.50 => {
                let v = format!("{:.3}", self.rng.range(0.05, 2.5));
                self.record("HKQuantityTypeIdentifierActiveEnergyBurned", "Cal", &v, t, t + 60, false, "");
            }
            r if r < 0.65 => {
                let v = format!("{:.3}", self.rng.range(0.9, 1.3));
                self.record("HKQuantityTypeIdentifierBasalEnergyBurned", "Cal", &v, t, t + 60, false, "");
            }
            r if r < 0.75 => {
                let v = format!("{:.5}", self.rng.range(0.001, 0.12));
                self.record("HKQuantityTypeIdentifierDistanceWalkingRunning", "km", &v, t, t + 60, true, "");
            }
            r if r < 0.85 => {
                let v = self.rng.int(1, 140).to_string();
                let phone = self.rng.unit() < 0.5;
                self.record("HKQuantityTypeIdentifierStepCount", "count", &v, t, t + 60, phone, "");
                self.expect("steps", 1);
            }
            r if r < 0.89 => {
                let v = self.rng.int(1, 5).to_string();
                self.record("HKQuantityTypeIdentifierAppleStandTime", "min", &v, t, t + 300, false, "");
            }
            r if r < 0.91 => {
                let (s, e) = (date(t), date(t + 1800));
                let _ = writeln!(
                    self.line,
                    " <Record type=\"HKCategoryTypeIdentifierSleepAnalysis\" sourceName=\"Apple Watch\" \
                     sourceVersion=\"9.1\" {WATCH} creationDate=\"{e}\" startDate=\"{s}\" endDate=\"{e}\" \
                     value=\"HKCategoryValueSleepAnalysisAsleepCore\"/>"
                );
            }
            r if r < 0.94 => {
                let v = format!("{:.2}", self.rng.range(0.92, 1.0));
                self.record("HKQuantityTypeIdentifierOxygenSaturation", "%", &v, t, t, false, "");
                self.expect("spo2", 1);
            }
            r if r < 0.97 => {
                let v = format!("{:.1}", self.rng.range(11.0, 20.0));
                self.record(
                    "HKQuantityTypeIdentifierRespiratoryRate",
                    "count/min",
                    &v,
                    t,
                    t + 300,
                    false,
                    "",
                );
                self.expect("respiratory_rate", 1);
            }
            r if r < 0.975 => self.hrv(t),
            r if r < 0.980 => {
                let (unit, v) = if self.rng.unit() < 0.5 {
                    ("kg", format!("{:.1}", self.rng.range(60.0, 80.0)))
                } else {
                    ("lb", format!("{:.1}", self.rng.range(130.0, 175.0)))
                };
                self.record("HKQuantityTypeIdentifierBodyMass", unit, &v, t, t, true, "");
                self.expect("body_weight", 1);
            }
            r if r < 0.985 => {
                let (unit, v) = if self.rng.unit() < 0.5 {
                    ("degC", format!("{:.2}", self.rng.range(36.1, 37.6)))
                } else {
                    ("degF", format!("{:.1}", self.rng.range(97.0, 99.6)))
                };
                self.record("HKQuantityTypeIdentifierBodyTemperature", unit, &v, t, t, true, "");
                self.expect("body_temperature", 1);
            }
            r if r < 0.995 => {
                let v = self.rng.int(1, 3).to_string();
                self.record("HKQuantityTypeIdentifierFlightsClimbed", "count", &v, t, t + 60, true, "");
            }
            _ => {
                // A blood-pressure reading: top-level copies now, the correlation at the end.
                let sys = self.rng.int(105, 150);
                let dia = self.rng.int(62, 95);
                self.record(
                    "HKQuantityTypeIdentifierBloodPressureSystolic",
                    "mmHg",
                    &sys.to_string(),
                    t,
                    t,
                    true,
                    "",
                );
                self.records_seen += 1;
                self.record(
                    "HKQuantityTypeIdentifierBloodPressureDiastolic",
                    "mmHg",
                    &dia.to_string(),
                    t,
                    t,
                    true,
                    "",
                );
                self.bp.push((date(t), sys, dia));
                self.expect("bp_systolic", 1);
                self.expect("bp_diastolic", 1);
            }
        }
        self.flush_line()
    }

    /// An HRV record with a beat list, beat times in en_US with U+202F before AM/PM.
    fn hrv(&mut self, t: i64) {
        let mut children = String::from("  <HeartRateVariabilityMetadataList>\n");
        let base = pacific(t);
        let mut ms = 1000 + self.rng.int(0, 900);
        let beats = self.rng.int(50, 70);
        for _ in 0..beats {
            let bpm = self.rng.int(55, 95);
            let at = base + Duration::milliseconds(ms);
            let (pm, h12) = at.hour12();
            let centis = at.timestamp_subsec_millis() / 10;
            let _ = writeln!(
                children,
                "   <InstantaneousBeatsPerMinute bpm=\"{bpm}\" time=\"{h12}:{:02}:{:02}.{centis:02}\u{202f}{}\"/>",
                at.minute(),
                at.second(),
                if pm { "PM" } else { "AM" }
            );
            ms += 60_000 / bpm;
        }
        children.push_str("  </HeartRateVariabilityMetadataList>\n");
        let v = format!("{:.4}", self.rng.range(20.0, 90.0));
        self.record(
            "HKQuantityTypeIdentifierHeartRateVariabilitySDNN",
            "ms",
            &v,
            t,
            t + 60,
            false,
            &children,
        );
        self.expect("hrv_sdnn", 1);
        self.expect("rr_interval", beats.unsigned_abs()); // 50..=70 beats
    }

    fn tail(&mut self, first_day: i64, last_day: i64) -> std::io::Result<()> {
        for (at, sys, dia) in std::mem::take(&mut self.bp) {
            let _ = write!(
                self.line,
                " <Correlation type=\"HKCorrelationTypeIdentifierBloodPressure\" sourceName=\"Omron\" \
                 sourceVersion=\"7.1\" creationDate=\"{at}\" startDate=\"{at}\" endDate=\"{at}\">\n  \
                 <MetadataEntry key=\"HKWasUserEntered\" value=\"0\"/>\n  \
                 <Record type=\"HKQuantityTypeIdentifierBloodPressureSystolic\" sourceName=\"iPhone\" \
                 sourceVersion=\"9.1\" {PHONE} unit=\"mmHg\" creationDate=\"{at}\" startDate=\"{at}\" \
                 endDate=\"{at}\" value=\"{sys}\"/>\n  \
                 <Record type=\"HKQuantityTypeIdentifierBloodPressureDiastolic\" sourceName=\"iPhone\" \
                 sourceVersion=\"9.1\" {PHONE} unit=\"mmHg\" creationDate=\"{at}\" startDate=\"{at}\" \
                 endDate=\"{at}\" value=\"{dia}\"/>\n </Correlation>\n"
            );
            self.records_seen += 2;
            self.flush_line()?;
        }
        let mut day = first_day;
        while day <= last_day {
            let (s, e) = (date(day + 18 * 3600), date(day + 18 * 3600 + 2400));
            let _ = write!(
                self.line,
                " <Workout workoutActivityType=\"HKWorkoutActivityTypeWalking\" duration=\"40\" durationUnit=\"min\" \
                 sourceName=\"Apple Watch\" sourceVersion=\"9.1\" {WATCH} creationDate=\"{e}\" startDate=\"{s}\" \
                 endDate=\"{e}\">\n  <MetadataEntry key=\"HKIndoorWorkout\" value=\"0\"/>\n  \
                 <WorkoutEvent type=\"HKWorkoutEventTypeSegment\" date=\"{s}\" duration=\"10\" durationUnit=\"min\"/>\n  \
                 <WorkoutStatistics type=\"HKQuantityTypeIdentifierHeartRate\" startDate=\"{s}\" endDate=\"{e}\" \
                 average=\"112\" minimum=\"88\" maximum=\"131\" unit=\"count/min\"/>\n </Workout>\n"
            );
            let d = pacific(day).format("%Y-%m-%d");
            let _ = writeln!(
                self.line,
                " <ActivitySummary dateComponents=\"{d}\" activeEnergyBurned=\"412.5\" activeEnergyBurnedGoal=\"400\" \
                 activeEnergyBurnedUnit=\"Cal\" appleMoveTime=\"0\" appleMoveTimeGoal=\"0\" appleExerciseTime=\"42\" \
                 appleExerciseTimeGoal=\"30\" appleStandHours=\"11\" appleStandHoursGoal=\"12\"/>"
            );
            self.flush_line()?;
            day += 86_400;
        }
        self.line.push_str("</HealthData>\n");
        self.flush_line()
    }
}

fn parse_size(s: &str) -> Option<u64> {
    let (digits, mult) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1 << 10),
        'M' | 'm' => (&s[..s.len() - 1], 1 << 20),
        'G' | 'g' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    digits.parse::<u64>().ok().map(|n| n * mult)
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let get = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1)).cloned();
    let (Some(out), Some(size)) = (get("--out"), get("--size").as_deref().and_then(parse_size)) else {
        eprintln!("usage: gen_apple_health --out PATH --size N[K|M|G] [--seed N]");
        std::process::exit(2);
    };
    let seed = get("--seed").and_then(|s| s.parse().ok()).unwrap_or(42u64);
    let mut g = Gen {
        rng: Rng::new(seed),
        out: BufWriter::with_capacity(1 << 20, File::create(&out)?),
        written: 0,
        line: String::with_capacity(8192),
        expected: BTreeMap::new(),
        records_seen: 0,
        bp: Vec::new(),
    };
    g.line.push_str(HEADER);
    g.flush_line()?;
    let start = PST
        .with_ymd_and_hms(2019, 1, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| std::io::Error::other("2019-01-01T00:00:00-08:00 is not one time"))?;
    let first = start.timestamp();
    let mut t = first;
    // Leave room for the correlations, workouts and summaries written at the end (~1.5 %).
    let body = size - size / 64;
    while g.written < body {
        g.minute(t)?;
        t += 60;
    }
    g.tail(first, t - t.rem_euclid(86_400))?;
    g.out.flush()?;
    let mut expected = String::new();
    for (kind, n) in &g.expected {
        let _ = writeln!(expected, "{kind} {n}");
    }
    let _ = writeln!(expected, "records_seen {}", g.records_seen);
    std::fs::write(format!("{out}.expected"), &expected)?;
    eprintln!("wrote {} bytes to {out}\n{expected}", g.written);
    Ok(())
}
