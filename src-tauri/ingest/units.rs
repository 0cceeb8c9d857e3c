//! UCUM unit codes (<https://ucum.org/ucum>) and conversions between them, shared by every
//! importer.
//!
//! A unit code is parsed into a factor times a product of base dimensions (kg, m, s, K), so any
//! two commensurable codes convert: `[lb_av]` → `kg`, `kPa` → `mm[Hg]`, `{beats}/min` → `/min`,
//! `s` → `ms`, `g` → `kg`. Supported syntax: metric prefixes (`k`, `m`, `u`, ...) on metric atoms,
//! integer exponents (`m2`, `s-1`), the operators `.` and `/` (including a leading `/`), the
//! number `1` and powers of ten (`10*3`, `10^3`), and curly-brace annotations, which UCUM defines
//! as unity (`{steps}` = `1`, `{breaths}/min` = `/min`). Parentheses are not supported.
//!
//! Factors, from the UCUM table of units (`ucum-essence.xml`, version 2.1):
//! - `[lb_av]` = 7000 `[gr]`, `[gr]` = 64.79891 mg, so `[lb_av]` = 0.45359237 kg (exact);
//!   `[oz_av]` = 1/16 `[lb_av]`; `[stone_av]` = 14 `[lb_av]`.
//! - `m[Hg]` = 133.3220 kPa, so `mm[Hg]` = 133.322 Pa; `bar` = 10^5 Pa; `Pa` = N/m² = kg/(m·s²).
//! - `[in_i]` = 2.54 cm; `[ft_i]` = 12 `[in_i]`; `L` = dm³.
//! - `min` = 60 s, `h` = 60 min, `d` = 24 h; `Hz` = 1/s; `%` = 10^-2.
//! - `mol` is its own dimension here (UCUM makes it a number); a mass concentration
//!   (`mg/dL`) converts to a molar one (`mmol/L`) only for glucose, at
//!   [`Kind::GLUCOSE_MOLAR_MASS`] (1 mmol/L = 18.0156 mg/dL).
//! - Temperatures are not ratios and only convert on their own: `Cel` = K − 273.15,
//!   `[degF]` = (°F − 32) × 5/9 Cel.
//!
//! A conversion computes `value * from_factor / to_factor` (left to right), and returns the
//! value unchanged when both codes mean the same unit; temperatures go through degrees Celsius.
//!
//! A few spellings seen in hand-made exports that are not UCUM are accepted as aliases of the
//! UCUM code: `mmHg`, `bpm`, `lb`/`lbs`, `degC`/`°C`, `degF`/`°F`, `steps`.

use crate::domain::Kind;

/// Base dimensions, as exponents of (kg, m, s, K, mol).
type Dims = [i8; 5];

const NONE: Dims = [0, 0, 0, 0, 0];
const MASS: Dims = [1, 0, 0, 0, 0];
const LENGTH: Dims = [0, 1, 0, 0, 0];
const TIME: Dims = [0, 0, 1, 0, 0];
const TEMPERATURE: Dims = [0, 0, 0, 1, 0];
const PRESSURE: Dims = [1, -1, -2, 0, 0];
const FREQUENCY: Dims = [0, 0, -1, 0, 0];
const VOLUME: Dims = [0, 3, 0, 0, 0];
/// Amount of substance. UCUM defines `mol` as 6.0221367 × 10^23 (a number); kept as its own
/// dimension here so a molar concentration never passes for a mass one.
const AMOUNT: Dims = [0, 0, 0, 0, 1];
/// kg/m³, and mol/m³.
const MASS_CONCENTRATION: Dims = [1, -3, 0, 0, 0];
const MOLAR_CONCENTRATION: Dims = [0, -3, 0, 0, 1];

/// A unit code that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnitError {
    /// The code is not one this module knows.
    #[error("'{0}' is not a known UCUM unit")]
    Unknown(String),
    /// Both codes are known, but they measure different things.
    #[error("'{from}' cannot be converted to '{to}'")]
    Incommensurable {
        /// The source unit.
        from: String,
        /// The target unit.
        to: String,
    },
}

/// A parsed unit: `value in this unit * factor` is the value in base units (kg, m, s, K), or
/// a temperature scale with an offset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Unit {
    factor: f64,
    dims: Dims,
    scale: Scale,
}

/// Temperatures with an offset are not ratio units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scale {
    Ratio,
    Celsius,
    Fahrenheit,
}

impl Unit {
    /// Parses a UCUM code (or one of the documented aliases).
    pub fn parse(code: &str) -> Result<Unit, UnitError> {
        let code = code.trim();
        let code = alias(code).unwrap_or(code);
        let unknown = || UnitError::Unknown(super::shown(code.as_bytes()));
        match code {
            "Cel" => return Ok(Unit { factor: 1.0, dims: TEMPERATURE, scale: Scale::Celsius }),
            "[degF]" => return Ok(Unit { factor: 1.0, dims: TEMPERATURE, scale: Scale::Fahrenheit }),
            "" => return Err(unknown()),
            _ => {}
        }
        let mut unit = Unit { factor: 1.0, dims: NONE, scale: Scale::Ratio };
        let mut rest = code;
        let mut divide = false;
        if let Some(r) = rest.strip_prefix('/') {
            divide = true;
            rest = r;
        }
        loop {
            let end = term_end(rest);
            let (term, tail) = rest.split_at(end);
            let (factor, dims) = parse_term(term).ok_or_else(unknown)?;
            unit = if divide { unit.div(factor, dims) } else { unit.mul(factor, dims) };
            let mut chars = tail.chars();
            match chars.next() {
                None => return Ok(unit),
                Some('.') => divide = false,
                Some('/') => divide = true,
                Some(_) => return Err(unknown()),
            }
            rest = chars.as_str();
        }
    }

    fn mul(self, factor: f64, dims: Dims) -> Unit {
        Unit { factor: self.factor * factor, dims: add_dims(self.dims, dims, 1), scale: self.scale }
    }

    fn div(self, factor: f64, dims: Dims) -> Unit {
        Unit { factor: self.factor / factor, dims: add_dims(self.dims, dims, -1), scale: self.scale }
    }

    fn is_commensurable(&self, other: &Unit) -> bool {
        self.dims == other.dims
    }
}

fn add_dims(a: Dims, b: Dims, sign: i8) -> Dims {
    let mut out = a;
    for (o, d) in out.iter_mut().zip(b) {
        *o = o.saturating_add(d.saturating_mul(sign));
    }
    out
}

/// The end of the term starting at `s`: the first `.` or `/` outside an annotation or bracket.
fn term_end(s: &str) -> usize {
    let mut depth_curly = 0u32;
    let mut depth_square = 0u32;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth_curly += 1,
            '}' => depth_curly = depth_curly.saturating_sub(1),
            '[' => depth_square += 1,
            ']' => depth_square = depth_square.saturating_sub(1),
            '.' | '/' if depth_curly == 0 && depth_square == 0 => return i,
            _ => {}
        }
    }
    s.len()
}

/// One term: `{annotation}`, a number (`1`, `10*3`, `10^3`), or `[prefix]atom[exponent]{annotation}`.
fn parse_term(term: &str) -> Option<(f64, Dims)> {
    // An annotation anywhere in a term is unity; strip a trailing one (`{beats}`, `kg{total}`).
    let term = match term.find('{') {
        Some(0) if term.ends_with('}') && term.matches('{').count() == 1 => return Some((1.0, NONE)),
        Some(i) if term.ends_with('}') && term[i..].matches('{').count() == 1 => &term[..i],
        Some(_) => return None,
        None => term,
    };
    if term.is_empty() {
        return None;
    }
    if let Some(exp) = term.strip_prefix("10*").or_else(|| term.strip_prefix("10^")) {
        let exp: i32 = exp.parse().ok().filter(|e: &i32| e.abs() <= 24)?;
        return Some((10f64.powi(exp), NONE));
    }
    if term.bytes().all(|b| b.is_ascii_digit()) {
        let n: u32 = term.parse().ok()?;
        return Some((f64::from(n), NONE));
    }
    // Split a trailing signed integer exponent, unless it is inside brackets (`mm[Hg]`).
    let digits_start = term.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    let (body, exp) = if digits_start < term.len() {
        let body = &term[..digits_start];
        let (body, negative) = match body.strip_suffix(['-', '+']) {
            Some(b) => (b, body.ends_with('-')),
            None => (body, false),
        };
        let exp: i8 = term[digits_start..].parse().ok().filter(|e: &i8| *e <= 9)?;
        (body, if negative { -exp } else { exp })
    } else {
        (term, 1)
    };
    let (factor, dims) = atom_with_prefix(body)?;
    let mut out_dims = NONE;
    for (o, d) in out_dims.iter_mut().zip(dims) {
        *o = d.checked_mul(exp)?;
    }
    Some((factor.powi(i32::from(exp)), out_dims))
}

fn atom_with_prefix(s: &str) -> Option<(f64, Dims)> {
    if let Some((factor, dims, _)) = atom(s) {
        return Some((factor, dims));
    }
    // Two-letter prefix first (`da`), then one letter.
    for (prefix, scale) in PREFIXES {
        if let Some(rest) = s.strip_prefix(prefix) {
            if let Some((factor, dims, true)) = atom(rest) {
                return Some((scale * factor, dims));
            }
        }
    }
    None
}

const PREFIXES: [(&str, f64); 13] = [
    ("da", 1e1),
    ("G", 1e9),
    ("M", 1e6),
    ("k", 1e3),
    ("h", 1e2),
    ("d", 1e-1),
    ("c", 1e-2),
    ("m", 1e-3),
    ("u", 1e-6),
    ("n", 1e-9),
    ("p", 1e-12),
    ("f", 1e-15),
    ("T", 1e12),
];

/// Atoms: (factor to base units, dimensions, metric, i.e. takes a prefix).
fn atom(s: &str) -> Option<(f64, Dims, bool)> {
    Some(match s {
        "g" => (1e-3, MASS, true),
        "[lb_av]" => (0.453_592_37, MASS, false),
        "[oz_av]" => (0.453_592_37 / 16.0, MASS, false),
        "[stone_av]" => (0.453_592_37 * 14.0, MASS, false),
        "m" => (1.0, LENGTH, true),
        "[in_i]" => (0.0254, LENGTH, false),
        "[ft_i]" => (0.3048, LENGTH, false),
        "L" | "l" => (1e-3, VOLUME, true),
        "s" => (1.0, TIME, true),
        "min" => (60.0, TIME, false),
        "h" => (3600.0, TIME, false),
        "d" => (86_400.0, TIME, false),
        "wk" => (604_800.0, TIME, false),
        "Hz" => (1.0, FREQUENCY, true),
        "K" => (1.0, TEMPERATURE, true),
        "Pa" => (1.0, PRESSURE, true),
        "bar" => (1e5, PRESSURE, true),
        "mm[Hg]" => (133.322, PRESSURE, false),
        "m[Hg]" => (133_322.0, PRESSURE, true),
        "%" => (1e-2, NONE, false),
        "mol" => (1.0, AMOUNT, true),
        _ => return None,
    })
}

fn alias(code: &str) -> Option<&'static str> {
    Some(match code {
        "mmHg" | "mmhg" => "mm[Hg]",
        "bpm" | "beats/min" | "breaths/min" => "/min",
        "lb" | "lbs" => "[lb_av]",
        "degC" | "°C" => "Cel",
        "degF" | "°F" => "[degF]",
        "steps" => "{steps}",
        _ => return None,
    })
}

/// Converts `value` from unit `from` to unit `to` (UCUM codes or the documented aliases).
pub fn convert(value: f64, from: &str, to: &str) -> Result<f64, UnitError> {
    if from == to {
        return Ok(value);
    }
    let from_unit = Unit::parse(from)?;
    let to_unit = Unit::parse(to)?;
    convert_units(value, &from_unit, &to_unit).ok_or_else(|| UnitError::Incommensurable {
        from: super::shown(from.as_bytes()),
        to: super::shown(to.as_bytes()),
    })
}

/// Converts between parsed units; `None` when they measure different things.
pub fn convert_units(value: f64, from: &Unit, to: &Unit) -> Option<f64> {
    if !from.is_commensurable(to) {
        return None;
    }
    if from == to {
        return Some(value);
    }
    if from.scale == Scale::Ratio && to.scale == Scale::Ratio {
        return Some(value * from.factor / to.factor);
    }
    let celsius = match from.scale {
        Scale::Celsius => value,
        Scale::Fahrenheit => (value - 32.0) * 5.0 / 9.0,
        Scale::Ratio => value * from.factor - 273.15,
    };
    Some(match to.scale {
        Scale::Celsius => celsius,
        Scale::Fahrenheit => celsius * 9.0 / 5.0 + 32.0,
        Scale::Ratio => (celsius + 273.15) / to.factor,
    })
}

/// A prepared conversion from one unit into a kind's unit, for importers that see the same
/// unit on many rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToKind {
    kind: Kind,
    from: Option<(Unit, Unit)>,
}

impl ToKind {
    /// Prepares the conversion of `unit` into `kind.unit()`. The error is a rejection reason
    /// naming the unit.
    pub fn new(kind: Kind, unit: &str) -> Result<ToKind, String> {
        let target = kind.unit();
        if unit == target {
            return Ok(ToKind { kind, from: None });
        }
        let mut from = Unit::parse(unit).map_err(|e| format!("unit: {e}"))?;
        let to = Unit::parse(target).map_err(|e| format!("unit: {e}"))?;
        if kind == Kind::BloodGlucose && from.dims == MASS_CONCENTRATION && to.dims == MOLAR_CONCENTRATION {
            // mg/dL and g/L to mmol/L through glucose's molar mass (kg/mol).
            from = Unit {
                factor: from.factor / (Kind::GLUCOSE_MOLAR_MASS / 1000.0),
                dims: to.dims,
                scale: from.scale,
            };
        }
        if from == to {
            return Ok(ToKind { kind, from: None });
        }
        if !from.is_commensurable(&to) {
            let unit = super::shown(unit.as_bytes());
            return Err(format!("unit: '{unit}' cannot be converted to {kind}'s unit '{target}'"));
        }
        Ok(ToKind { kind, from: Some((from, to)) })
    }

    /// The kind converted to.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Converts a value.
    pub fn apply(&self, value: f64) -> f64 {
        match &self.from {
            None => value,
            Some((from, to)) => convert_units(value, from, to).unwrap_or(f64::NAN),
        }
    }
}

/// Converts `value` in `unit` to `kind.unit()`; the error is a rejection reason naming the unit.
pub fn to_kind_unit(kind: Kind, value: f64, unit: &str) -> Result<f64, String> {
    ToKind::new(kind, unit).map(|c| c.apply(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_use_the_documented_factors() {
        assert_eq!(convert(185.0, "[lb_av]", "kg").unwrap(), 185.0 * 0.453_592_37);
        assert_eq!(convert(72_500.0, "g", "kg").unwrap(), 72.5);
        assert_eq!(convert(16.0, "kPa", "mm[Hg]").unwrap(), 16.0 * 1000.0 / 133.322);
        assert_eq!(convert(120.0, "mm[Hg]", "kPa").unwrap(), 120.0 * 133.322 / 1000.0);
        assert_eq!(convert(98.6, "[degF]", "Cel").unwrap(), (98.6 - 32.0) * 5.0 / 9.0);
        assert_eq!(convert(37.0, "Cel", "[degF]").unwrap(), 37.0 * 9.0 / 5.0 + 32.0);
        assert_eq!(convert(310.15, "K", "Cel").unwrap(), 310.15 - 273.15);
        assert_eq!(convert(0.85, "s", "ms").unwrap(), 850.0);
        assert_eq!(convert(1.2, "Hz", "/min").unwrap(), 1.2 * 60.0);
        assert_eq!(convert(72.0, "{beats}/min", "/min").unwrap(), 72.0);
        assert_eq!(convert(72.0, "1/min", "/min").unwrap(), 72.0);
        assert_eq!(convert(0.97, "1", "%").unwrap(), 0.97 / 1e-2);
        assert_eq!(convert(500.0, "{steps}", "{steps}").unwrap(), 500.0);
        assert_eq!(convert(10.0, "[stone_av]", "kg").unwrap(), 10.0 * (0.453_592_37 * 14.0));
        assert_eq!(convert(1.0, "m2", "cm2").unwrap(), 1.0 / (1e-2 * 1e-2));
        assert_eq!(convert(2.0, "10*3/L", "/mL").unwrap(), 2.0 * 1e3 / 1e-3 / (1.0 / 1e-6));
    }

    #[test]
    fn aliases_are_accepted() {
        assert_eq!(convert(120.0, "mmHg", "mm[Hg]").unwrap(), 120.0);
        assert_eq!(convert(60.0, "bpm", "/min").unwrap(), 60.0);
        assert_eq!(convert(100.0, "lbs", "kg").unwrap(), 100.0 * 0.453_592_37);
        assert_eq!(convert(212.0, "°F", "Cel").unwrap(), 100.0);
    }

    #[test]
    fn unknown_and_incommensurable_units_are_named() {
        assert_eq!(convert(1.0, "[foo]", "kg").unwrap_err().to_string(), "'[foo]' is not a known UCUM unit");
        assert_eq!(
            convert(1.0, "kg", "mm[Hg]").unwrap_err().to_string(),
            "'kg' cannot be converted to 'mm[Hg]'"
        );
        assert!(convert(1.0, "Cel", "kg").is_err());
        assert!(Unit::parse("").is_err());
        assert!(Unit::parse("kg.").is_err());
        assert!(Unit::parse("{a}{b}").is_err());
        assert!(Unit::parse("m999").is_err());
        assert!(Unit::parse("kmin").is_err(), "min takes no prefix");
        assert_eq!(
            to_kind_unit(Kind::HeartRate, 1.0, "kg").unwrap_err(),
            "unit: 'kg' cannot be converted to heart_rate's unit '/min'"
        );
        assert_eq!(
            to_kind_unit(Kind::HeartRate, 1.0, "[x]").unwrap_err(),
            "unit: '[x]' is not a known UCUM unit"
        );
    }

    #[test]
    fn glucose_converts_from_mass_concentrations_through_its_molar_mass() {
        assert!((to_kind_unit(Kind::BloodGlucose, 90.0, "mg/dL").unwrap() - 4.9957).abs() < 1e-4);
        assert!((to_kind_unit(Kind::BloodGlucose, 1.0, "g/L").unwrap() - 5.5507).abs() < 1e-4);
        assert!((to_kind_unit(Kind::BloodGlucose, 5000.0, "umol/L").unwrap() - 5.0).abs() < 1e-12);
        // Only glucose has a molar mass here: a mass concentration is no other kind's unit.
        assert!(convert(90.0, "mg/dL", "mmol/L").is_err());
        assert!(to_kind_unit(Kind::BloodGlucose, 90.0, "mg").is_err());
    }

    #[test]
    fn every_kind_unit_parses() {
        for kind in Kind::ALL {
            assert!(Unit::parse(kind.unit()).is_ok(), "{kind}");
            assert_eq!(to_kind_unit(kind, 42.0, kind.unit()).unwrap(), 42.0);
        }
    }

    #[test]
    fn parsing_arbitrary_text_never_panics() {
        for s in
            ["/", "//", "1/", ".", "{", "}", "[", "]]", "10*", "10*999", "m-", "m+2", "é", "k", "da", "{é}x"]
        {
            let _ = Unit::parse(s);
        }
    }
}
