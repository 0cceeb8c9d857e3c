-- Vigil store, migration 12: live Bluetooth devices (issue 13).
--
-- A device's link state is runtime (the window and `vigil ble` hold it); what outlives a process
-- is kept here: the battery and firmware it last reported, when it last sent a value, and the
-- estimated offset of its clock (receive time minus device time, ms), kept so that readings a
-- device resends after a reconnect land on the same times and deduplicate by content.
ALTER TABLE devices ADD COLUMN firmware TEXT;
ALTER TABLE devices ADD COLUMN battery_pct INTEGER CHECK (battery_pct BETWEEN 0 AND 100);
ALTER TABLE devices ADD COLUMN last_seen_ms INTEGER;
ALTER TABLE devices ADD COLUMN clock_offset_ms INTEGER;
ALTER TABLE devices ADD COLUMN name TEXT;

-- A multi-user scale (or blood pressure monitor) says which of its users a reading is for: its
-- user index maps to a patient here. A device's own patient (`devices.patient_id`) takes the
-- readings that name no user.
CREATE TABLE device_users (
    device_id  BLOB NOT NULL REFERENCES devices (id),
    user_index INTEGER NOT NULL CHECK (user_index BETWEEN 0 AND 254),
    patient_id BLOB NOT NULL REFERENCES patients (id),
    PRIMARY KEY (device_id, user_index)
) WITHOUT ROWID;
