//! Which importer reads a file: from its first bytes, and its name when the bytes do not say.
//!
//! Content wins over the name: a FIT header in a file called `.csv` is FIT. Rules, in order:
//! - FIT: `.FIT` at bytes 8..12 (FIT SDK, "FIT File Header").
//! - Apple Health export: a zip (`PK\x03\x04`, the `export.zip` the Health app shares), or XML
//!   whose head mentions `HealthData` (`<!DOCTYPE HealthData` or `<HealthData`).
//! - FHIR: a JSON object (`{`), one document or NDJSON; the FHIR parser tells them apart.
//! - CSV: text whose first line has a comma, or any text file named `.csv`.
//!
//! Give [`detect`] at least the first 4 KiB: Apple's `export.xml` names `HealthData` in its
//! DOCTYPE, within the first few hundred bytes. Sub-shapes (CSV long or wide, FHIR JSON or
//! NDJSON, Apple Health XML or zip) are found by the importers themselves.

use std::fmt;
use std::str::FromStr;

/// A file format Vigil imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// CSV, long or wide shape (`super::csv`).
    Csv,
    /// FHIR R4 JSON: a resource, a Bundle, or NDJSON (`super::fhir`).
    Fhir,
    /// Apple Health export: `export.xml` or the `export.zip` holding it.
    AppleHealth,
    /// Garmin/ANT FIT activity or monitoring file.
    Fit,
}

impl Format {
    /// Every format, in a stable order.
    pub const ALL: [Format; 4] = [Format::Csv, Format::Fhir, Format::AppleHealth, Format::Fit];

    /// The name used by `--format`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Fhir => "fhir",
            Format::AppleHealth => "apple-health",
            Format::Fit => "fit",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Format::ALL.into_iter().find(|f| f.as_str() == wanted).ok_or_else(|| {
            format!("'{s}' is not a format (known: {})", Format::ALL.map(Format::as_str).join(", "))
        })
    }
}

/// Detects the format of `file_name` from `head`, its first bytes (4 KiB or more). The error
/// says why no format fits, in words for the user.
pub fn detect(file_name: &str, head: &[u8]) -> Result<Format, String> {
    if head.get(8..12) == Some(b".FIT".as_slice()) {
        return Ok(Format::Fit);
    }
    if head.starts_with(b"PK\x03\x04") {
        return Ok(Format::AppleHealth);
    }
    let extension = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head).trim_ascii_start();
    match text.first() {
        None if head.is_empty() => Err(format!("{file_name}: the file is empty")),
        None => Err(format!("{file_name}: the file holds only white space")),
        Some(b'<') => {
            if contains(text, b"HealthData") {
                Ok(Format::AppleHealth)
            } else {
                Err(format!("{file_name}: XML, but not an Apple Health export (no <HealthData>)"))
            }
        }
        Some(b'{') => Ok(Format::Fhir),
        Some(_) => {
            let first_line = text.split(|&b| b == b'\n').next().unwrap_or_default();
            let printable = text.iter().all(|&b| b >= 0x20 || b"\t\r\n".contains(&b));
            if printable && (first_line.contains(&b',') || extension == "csv") {
                Ok(Format::Csv)
            } else if extension == "fit" {
                Err(format!("{file_name}: named .fit, but has no FIT header ('.FIT' at bytes 8..12)"))
            } else {
                Err(format!(
                    "{file_name}: not a format Vigil imports (CSV, FHIR JSON, Apple Health, FIT); \
                     use --format to say which it is"
                ))
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected_from_content() {
        let fit = b"\x0e\x10\xd9\x07\x00\x00\x00\x00.FIT\x00\x00";
        let cases: &[(&str, &[u8], Format)] = &[
            ("a.bin", fit, Format::Fit),
            ("a.csv", fit, Format::Fit),
            ("export.zip", b"PK\x03\x04\x14\x00", Format::AppleHealth),
            (
                "export.xml",
                b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE HealthData [\n<!ELEMENT",
                Format::AppleHealth,
            ),
            ("x", b"<HealthData locale=\"en_US\">", Format::AppleHealth),
            ("b.json", b"\xEF\xBB\xBF  {\"resourceType\":\"Bundle\"", Format::Fhir),
            ("o.ndjson", b"{\"resourceType\":\"Observation\"}\n{\"resourceType\"", Format::Fhir),
            ("v.txt", b"patient,time,kind,value,unit\n", Format::Csv),
            ("v", b"\xEF\xBB\xBFtime,heart_rate\r\n", Format::Csv),
            ("v.CSV", b"time\n2024-01-01T00:00:00Z\n", Format::Csv),
        ];
        for (name, head, expected) in cases {
            assert_eq!(detect(name, head), Ok(*expected), "{name}");
        }
    }

    #[test]
    fn unknown_content_is_explained() {
        assert_eq!(detect("e.csv", b""), Err("e.csv: the file is empty".into()));
        assert_eq!(detect("e.csv", b" \n"), Err("e.csv: the file holds only white space".into()));
        assert_eq!(
            detect("a.xml", b"<?xml version=\"1.0\"?><gpx>"),
            Err("a.xml: XML, but not an Apple Health export (no <HealthData>)".into())
        );
        assert_eq!(
            detect("a.fit", b"\x0e\x10\xd9\x07"),
            Err("a.fit: named .fit, but has no FIT header ('.FIT' at bytes 8..12)".into())
        );
        assert!(detect("notes.txt", b"hello world\n").unwrap_err().contains("use --format"));
        assert!(detect("x.bin", b"\x00\x01,\x02").is_err());
    }

    #[test]
    fn format_names_round_trip() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
            assert_eq!(f.to_string(), f.as_str());
        }
        assert_eq!(" Apple-Health ".parse::<Format>(), Ok(Format::AppleHealth));
        assert_eq!(
            "gpx".parse::<Format>(),
            Err("'gpx' is not a format (known: csv, fhir, apple-health, fit)".into())
        );
    }
}
