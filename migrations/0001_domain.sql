-- Vigil store, migration 1: the domain.
--
-- Conventions (see ARCHITECTURE.md):
-- * ids are UUIDv7 as 16-byte BLOBs;
-- * instants are INTEGER milliseconds since the Unix epoch, UTC; `offset_s` keeps the
--   source's own UTC offset in seconds beside the instant it qualifies;
-- * every kind has one unit (the domain's `Kind::unit`), so no unit column is stored.

-- Facts about this store: its own id (the workstation's identity towards the clinic
-- server), whether it holds synthetic demo data, when it was created.
CREATE TABLE store_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE patients (
    id                  BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    mrn                 TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    birth_date          TEXT,
    sex                 TEXT NOT NULL CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    consent_monitoring  INTEGER NOT NULL DEFAULT 0 CHECK (consent_monitoring IN (0, 1)),
    consent_clinic_sync INTEGER NOT NULL DEFAULT 0 CHECK (consent_clinic_sync IN (0, 1)),
    consent_research    INTEGER NOT NULL DEFAULT 0 CHECK (consent_research IN (0, 1)),
    created_ms          INTEGER NOT NULL,
    updated_ms          INTEGER NOT NULL
);

CREATE TABLE devices (
    id          BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    kind        TEXT NOT NULL,
    make        TEXT NOT NULL,
    model       TEXT NOT NULL,
    serial      TEXT,
    ble_address TEXT UNIQUE,
    patient_id  BLOB REFERENCES patients (id),
    created_ms  INTEGER NOT NULL
);

-- Provenance of observations: a file (by content hash), a device, manual entry, the demo.
CREATE TABLE sources (
    id          BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    kind        TEXT NOT NULL CHECK (kind IN ('file', 'device', 'manual', 'demo')),
    file_name   TEXT,
    file_sha256 TEXT,
    device_id   BLOB REFERENCES devices (id),
    created_ms  INTEGER NOT NULL,
    CHECK ((kind = 'file') = (file_sha256 IS NOT NULL)),
    CHECK ((kind = 'device') = (device_id IS NOT NULL))
);
-- The same file content is one source, however often it is imported.
CREATE UNIQUE INDEX sources_by_file ON sources (file_sha256) WHERE kind = 'file';
CREATE UNIQUE INDEX sources_by_device ON sources (device_id) WHERE kind = 'device';

-- Observations are immutable. `seq` is the local order of arrival (the sync cursor);
-- the unique content index makes storing the same reading twice a no-op and serves
-- every "one patient, one kind, a time range" query. patient_id and source_id carry no
-- FOREIGN KEY clause: the per-row parent lookups would halve the batch insert rate, and
-- only `store::observations` writes this table, inside a transaction that created or
-- checked both parents.
CREATE TABLE observations (
    seq           INTEGER PRIMARY KEY,
    id            BLOB NOT NULL,
    patient_id    BLOB NOT NULL,
    kind          TEXT NOT NULL,
    effective_ms  INTEGER NOT NULL,
    offset_s      INTEGER NOT NULL,
    value         REAL,
    absent_reason TEXT,
    value_key     INTEGER NOT NULL,
    source_id     BLOB NOT NULL,
    ingested_ms   INTEGER NOT NULL,
    CHECK ((value IS NULL) = (absent_reason IS NOT NULL))
);
CREATE UNIQUE INDEX observations_by_content
    ON observations (patient_id, kind, effective_ms, value_key);

CREATE TRIGGER observations_are_immutable BEFORE UPDATE ON observations
BEGIN
    SELECT RAISE(ABORT, 'observations are immutable');
END;
