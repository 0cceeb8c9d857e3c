//! Writes a synthetic 1 Hz stream as the wide CSV, for `vigil monitor --replay`.
//!
//! ```text
//! cargo run --example agents_synthetic -- deteriorating 4 42 > deteriorating.csv
//! cargo run --example agents_synthetic -- stable 4 1 > stable.csv
//! ```
//! Arguments: `stable|deteriorating`, hours (default 4), seed (default 1). The model is
//! documented in `vigil::agents::replay::synthetic`.

use vigil::agents::replay::synthetic::{Course, Scenario};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let course = match args.first().map(String::as_str) {
        Some("deteriorating") => Course::Deteriorating,
        Some("stable") | None => Course::Stable,
        Some(other) => {
            eprintln!("usage: agents_synthetic stable|deteriorating [HOURS] [SEED] (got '{other}')");
            std::process::exit(2);
        }
    };
    let hours = args.get(1).and_then(|h| h.parse().ok()).unwrap_or(4.0);
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let scenario = Scenario { hours, ..Scenario::new(course, seed) };
    print!("{}", scenario.to_csv());
}
