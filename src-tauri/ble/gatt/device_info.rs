//! Battery Level 0x2A19 (BAS 1.1 3.1, GSS "Battery Level": uint8, 0..=100 %) and the Device
//! Information strings (DIS 1.1 3.2-3.7, GSS: utf8s): Manufacturer Name 0x2A29, Model Number
//! 0x2A24, Serial Number 0x2A25, Hardware Revision 0x2A27, Firmware Revision 0x2A26, Software
//! Revision 0x2A28. A utf8s has no terminator; some devices pad with NULs anyway, so trailing
//! NULs are dropped. Control characters are refused: the strings reach screens and terminals.

use super::reader::Reader;
use super::{Characteristic, DecodeError, Decoded, DeviceInfo};

pub(super) fn decode(r: &mut Reader<'_>, out: &mut Decoded) -> Result<(), DecodeError> {
    let c = out.characteristic;
    if c == Characteristic::BatteryLevel {
        let level = r.u8("battery level")?;
        if level > 100 {
            return Err(r.error_at("battery level", 0, format!("{level} is not a percentage (0..=100)")));
        }
        out.info = Some(DeviceInfo::Battery(level));
        return Ok(());
    }
    let bytes = r.rest();
    let trimmed = match bytes.iter().rposition(|&b| b != 0) {
        Some(last) => bytes.get(..=last).unwrap_or_default(),
        None => &[],
    };
    let text = std::str::from_utf8(trimmed)
        .map_err(|e| r.error_at("string", e.valid_up_to(), "not UTF-8"))?
        .to_owned();
    if let Some((at, ch)) = text.char_indices().find(|(_, ch)| ch.is_control()) {
        return Err(r.error_at("string", at, format!("control character U+{:04X}", u32::from(ch))));
    }
    out.info = Some(match c {
        Characteristic::ManufacturerName => DeviceInfo::Manufacturer(text),
        Characteristic::ModelNumber => DeviceInfo::Model(text),
        Characteristic::SerialNumber => DeviceInfo::Serial(text),
        Characteristic::FirmwareRevision => DeviceInfo::Firmware(text),
        Characteristic::HardwareRevision => DeviceInfo::Hardware(text),
        _ => DeviceInfo::Software(text),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::decode;
    use super::*;

    #[test]
    fn battery() {
        // Nordic Android-BLE-Common-Library (BSD-3), BatteryLevelDataCallbackTest: 0x64 = 100 %,
        // 0x0F = 15 %, and [0x64, 0x00] is invalid.
        assert_eq!(
            decode(Characteristic::BatteryLevel, &[0x64]).unwrap().info,
            Some(DeviceInfo::Battery(100))
        );
        assert_eq!(
            decode(Characteristic::BatteryLevel, &[0x0F]).unwrap().info,
            Some(DeviceInfo::Battery(15))
        );
        assert_eq!(decode(Characteristic::BatteryLevel, &[0x64, 0x00]).unwrap_err().offset, 1);
        let e = decode(Characteristic::BatteryLevel, &[101]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "battery_level: battery level at byte 0: 101 is not a percentage (0..=100)"
        );
        assert!(decode(Characteristic::BatteryLevel, &[]).is_err());
    }

    #[test]
    fn strings() {
        let d = decode(Characteristic::ManufacturerName, b"Nordic Semiconductor\0\0").unwrap();
        assert_eq!(d.info, Some(DeviceInfo::Manufacturer("Nordic Semiconductor".into())));
        let d = decode(Characteristic::SerialNumber, "Ä-123".as_bytes()).unwrap();
        assert_eq!(d.info, Some(DeviceInfo::Serial("Ä-123".into())));
        assert_eq!(
            decode(Characteristic::ModelNumber, b"").unwrap().info,
            Some(DeviceInfo::Model(String::new()))
        );
        let e = decode(Characteristic::FirmwareRevision, b"1.0\xFF").unwrap_err();
        assert_eq!((e.field, e.offset), ("string", 3));
        let e = decode(Characteristic::SoftwareRevision, b"1.0\x1b[31m").unwrap_err();
        assert_eq!((e.field, e.offset), ("string", 3));
    }
}
