//! `vigil ble ...`: Bluetooth LE health devices. `decode` turns one characteristic value into
//! the readings Vigil would store; it needs no store and no sign-in (it only reads bytes).

use clap::{Args, Subcommand};
use serde_json::{Value, json};

use super::render;
use crate::ble::gatt::{self, Characteristic, Decoded, DeviceInfo, DeviceTime};
use crate::domain::ObservationValue;

/// Bluetooth LE verbs.
#[derive(Debug, Subcommand)]
pub enum BleCommand {
    /// Decode one GATT characteristic value (hex) into readings, for IT and tests
    Decode(DecodeArgs),
    /// List registered devices: kind, address, patient, battery, last value
    Devices,
    /// Scan for nearby health devices (heart rate, oximeter, blood pressure, thermometer, scale, glucose)
    Scan(super::ble_link::ScanArgs),
    /// Pair (bond) with a device that needs it: many cuffs, scales and glucose meters (Linux: BlueZ)
    Pair(super::ble_link::PairArgs),
    /// Assign a device to a patient
    Assign(super::ble_link::AssignArgs),
    /// Take a device off its patient
    Unassign {
        /// The device: its id or BLE address
        device: String,
    },
    /// Map a multi-user device's user index to a patient (or remove the mapping)
    User(super::ble_link::UserArgs),
    /// Replay a recorded device session into the store, as the device would have sent it
    Replay(super::ble_link::ReplayArgs),
    /// Connect to a device and store its readings until stopped
    Connect(super::ble_link::ConnectArgs),
}

/// `vigil ble decode --characteristic UUID HEX`.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// The characteristic: a 16-bit UUID (`2a37`, `0x2A37`), the 128-bit UUID, or its name
    /// (`heart_rate_measurement`)
    #[arg(long, value_name = "UUID")]
    pub characteristic: String,
    /// The value as hex bytes: `16 48 00`, `164800` or `16:48:00` (several words are joined)
    #[arg(value_name = "HEX", required = true, num_args = 1..)]
    pub hex: Vec<String>,
}

pub(super) async fn run(command: BleCommand, data_dir: &std::path::Path, json: bool) -> anyhow::Result<()> {
    use super::ble_link as link;
    match command {
        BleCommand::Decode(args) => decode(&args, json),
        BleCommand::Devices => link::devices(data_dir, json).await,
        BleCommand::Scan(args) => link::scan(&args, json).await,
        BleCommand::Pair(args) => link::pair(&args, json).await,
        BleCommand::Assign(args) => link::assign(data_dir, &args.device, Some(&args.patient), json).await,
        BleCommand::Unassign { device } => link::assign(data_dir, &device, None, json).await,
        BleCommand::User(args) => link::user(data_dir, &args).await,
        BleCommand::Replay(args) => link::replay(data_dir, &args, json).await,
        BleCommand::Connect(args) => link::connect(data_dir, &args, json).await,
    }
}

fn decode(args: &DecodeArgs, json: bool) -> anyhow::Result<()> {
    let characteristic = Characteristic::parse(&args.characteristic).ok_or_else(|| {
        let known: Vec<String> =
            Characteristic::ALL.iter().map(|c| format!("{:04x} {}", c.uuid16(), c.name())).collect();
        anyhow::anyhow!(
            "--characteristic: '{}' is not a characteristic Vigil decodes (known: {})",
            render::terminal_text(&args.characteristic),
            known.join(", ")
        )
    })?;
    let bytes = parse_hex(&args.hex.join(" ")).map_err(anyhow::Error::msg)?;
    let decoded = gatt::decode(characteristic, &bytes)?;
    let racp = match characteristic {
        Characteristic::RecordAccessControlPoint => gatt::decode_racp(&bytes).ok(),
        _ => None,
    };
    if json {
        let mut value = to_json(&decoded);
        if let (Some(r), Some(map)) = (racp, value.as_object_mut()) {
            map.insert("racp".into(), serde_json::to_value(r)?);
        }
        render::json(&value)
    } else {
        let mut text = to_text(&decoded);
        if let Some(r) = racp {
            text.push_str(&format!("record access: {}\n", serde_json::to_string(&r)?));
        }
        render::emit(&text)
    }
}

/// Hex bytes with optional spaces, colons, dashes or a `0x` prefix between them.
fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let t = text.trim();
    let t = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")).unwrap_or(t);
    let digits: Vec<(usize, char)> =
        t.char_indices().filter(|(_, c)| !matches!(c, ' ' | ':' | '-' | '\t' | ',')).collect();
    if let Some((at, c)) = digits.iter().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Err(format!(
            "HEX: '{}' is not a hex digit (at character {}); give bytes as `16 48 00`, `164800` or `16:48:00`",
            c.escape_default(),
            at + 1
        ));
    }
    if digits.len() % 2 != 0 {
        return Err(format!("HEX: {} hex digits is not a whole number of bytes", digits.len()));
    }
    Ok(digits
        .chunks_exact(2)
        .filter_map(|pair| match pair {
            [(_, hi), (_, lo)] => Some(hex_value(*hi) * 16 + hex_value(*lo)),
            _ => None,
        })
        .collect())
}

fn hex_value(c: char) -> u8 {
    c.to_digit(16).and_then(|d| u8::try_from(d).ok()).unwrap_or(0)
}

fn device_time(d: &Decoded) -> (Value, Value) {
    match d.device_time {
        Some(DeviceTime::At(t)) => (json!(t.format("%Y-%m-%dT%H:%M:%S").to_string()), json!("set")),
        Some(DeviceTime::NotSet) => (Value::Null, json!("not_set")),
        None => (Value::Null, Value::Null),
    }
}

fn to_json(d: &Decoded) -> Value {
    let readings: Vec<Value> = d
        .readings
        .iter()
        .map(|r| {
            let (value, absent) = match r.value {
                ObservationValue::Quantity(v) => (json!(v), Value::Null),
                ObservationValue::Absent(reason) => (Value::Null, json!(reason.as_str())),
            };
            json!({"kind": r.kind.as_str(), "value": value, "unit": r.kind.unit(), "absent": absent})
        })
        .collect();
    let rejected: Vec<Value> =
        d.rejected.iter().map(|r| json!({"kind": r.kind.as_str(), "reason": r.reason})).collect();
    let (time, clock) = device_time(d);
    json!({
        "characteristic": d.characteristic.name(),
        "uuid": d.characteristic.uuid().to_string(),
        "readings": readings,
        "rejected": rejected,
        "device_time": time,
        "device_clock": clock,
        "user": d.user,
        "sequence": d.sequence,
        "status": d.status,
        "info": d.info,
    })
}

fn to_text(d: &Decoded) -> String {
    let c = d.characteristic;
    let mut out = format!("{} (0x{:04X})\n", c.name(), c.uuid16());
    for r in &d.readings {
        let value = match r.value {
            ObservationValue::Quantity(v) => format!("{v} {}", r.kind.unit()),
            ObservationValue::Absent(reason) => format!("absent: {}", reason.as_str()),
        };
        let offset = if r.offset_ms != 0 { format!(" (at {} ms)", r.offset_ms) } else { String::new() };
        out.push_str(&format!("{} {value}{offset}\n", r.kind.as_str()));
    }
    for r in &d.rejected {
        out.push_str(&format!("rejected {}: {}\n", r.kind.as_str(), r.reason));
    }
    match d.device_time {
        Some(DeviceTime::At(t)) => out.push_str(&format!("device time: {}\n", t.format("%Y-%m-%dT%H:%M:%S"))),
        Some(DeviceTime::NotSet) => out.push_str("device time: not set\n"),
        None => {}
    }
    if let Some(u) = d.user {
        out.push_str(&format!("user: {u}\n"));
    }
    if let Some(s) = d.sequence {
        out.push_str(&format!("sequence: {s}\n"));
    }
    if !d.status.is_empty() {
        out.push_str(&format!("status: {}\n", d.status.join(", ")));
    }
    if let Some(info) = &d.info {
        let text = match info {
            DeviceInfo::Battery(level) => format!("battery: {level} %"),
            DeviceInfo::Manufacturer(s) => format!("manufacturer: {}", render::terminal_text(s)),
            DeviceInfo::Model(s) => format!("model: {}", render::terminal_text(s)),
            DeviceInfo::Serial(s) => format!("serial: {}", render::terminal_text(s)),
            DeviceInfo::Firmware(s) => format!("firmware: {}", render::terminal_text(s)),
            DeviceInfo::Hardware(s) => format!("hardware: {}", render::terminal_text(s)),
            DeviceInfo::Software(s) => format!("software: {}", render::terminal_text(s)),
            DeviceInfo::TemperatureType(t) => format!("temperature type: {t}"),
            DeviceInfo::SensorLocation(l) => format!("sensor location: {l}"),
            DeviceInfo::Features(f) => format!("features: {}", f.join(", ")),
        };
        out.push_str(&text);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_in_every_spelling() {
        for text in ["16 48 00", "164800", "16:48:00", "0x164800", " 16-48-00 "] {
            assert_eq!(parse_hex(text).unwrap(), [0x16, 0x48, 0x00], "{text}");
        }
        assert_eq!(parse_hex("").unwrap(), Vec::<u8>::new());
        assert!(parse_hex("1g").unwrap_err().contains("'g' is not a hex digit (at character 2)"));
        assert!(parse_hex("164").unwrap_err().contains("3 hex digits"));
    }
}
