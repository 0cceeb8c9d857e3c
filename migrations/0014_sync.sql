-- Vigil store, migration 14: the clinic server (issue 14).
--
-- * `sources` gains the kind `clinic`: readings pulled from the clinic server, attributed to
--   the workstation that pushed them first. SQLite cannot change a CHECK constraint in place,
--   so the table is rebuilt (no table refers to it; its rows are copied unchanged).
-- * `sync_state`: this workstation's enrolment (server, pinned certificate, clinic, its own
--   Ed25519 signing key, kept inside the encrypted store like everything else it holds) and
--   how far each direction has got: the last outbox position the server acknowledged, and the
--   pull cursor (a clinic version, saved after each applied page).

CREATE TABLE sources_v14 (
    id             BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    kind           TEXT NOT NULL CHECK (kind IN ('file', 'device', 'manual', 'demo', 'clinic')),
    file_name      TEXT,
    file_sha256    TEXT,
    device_id      BLOB REFERENCES devices (id),
    workstation_id BLOB CHECK (workstation_id IS NULL OR length(workstation_id) = 16),
    created_ms     INTEGER NOT NULL,
    CHECK ((kind = 'file') = (file_sha256 IS NOT NULL)),
    CHECK ((kind = 'device') = (device_id IS NOT NULL)),
    CHECK ((kind = 'clinic') = (workstation_id IS NOT NULL))
);
INSERT INTO sources_v14 (id, kind, file_name, file_sha256, device_id, workstation_id, created_ms)
    SELECT id, kind, file_name, file_sha256, device_id, NULL, created_ms FROM sources;
DROP TABLE sources;
ALTER TABLE sources_v14 RENAME TO sources;
CREATE UNIQUE INDEX sources_by_file ON sources (file_sha256) WHERE kind = 'file';
CREATE UNIQUE INDEX sources_by_device ON sources (device_id) WHERE kind = 'device';
CREATE UNIQUE INDEX sources_by_workstation ON sources (workstation_id) WHERE kind = 'clinic';

CREATE TABLE sync_state (
    id               INTEGER PRIMARY KEY CHECK (id = 1),
    server_url       TEXT NOT NULL,
    fingerprint      TEXT NOT NULL CHECK (length(fingerprint) = 64),
    clinic_id        BLOB NOT NULL CHECK (length(clinic_id) = 16),
    clinic_name      TEXT NOT NULL,
    device_key       BLOB NOT NULL,
    enrolled_ms      INTEGER NOT NULL,
    acked_message    INTEGER NOT NULL DEFAULT 0,
    acked_row        INTEGER NOT NULL DEFAULT 0,
    pull_cursor      INTEGER NOT NULL DEFAULT 0,
    acked_audit_seq  INTEGER,
    acked_audit_hash TEXT,
    last_attempt_ms  INTEGER,
    last_success_ms  INTEGER,
    last_error       TEXT
);

-- Pulled changes that could not be applied without dropping someone's edit: kept, both values
-- visible, until a clinician reviews them (`vigil sync conflicts`). Nothing is dropped.
CREATE TABLE sync_conflicts (
    id               INTEGER PRIMARY KEY,
    entity           TEXT NOT NULL,
    entity_id        BLOB NOT NULL,
    field            TEXT NOT NULL,
    local_value      TEXT,
    remote_value     TEXT,
    from_workstation BLOB NOT NULL,
    version          INTEGER NOT NULL,
    created_ms       INTEGER NOT NULL,
    resolved_ms      INTEGER
);

-- Every lifecycle event of an alert that arrived from the clinic (who, when, note, from which
-- workstation), kept even when the alert was already further along here: the alert's own
-- columns hold its furthest state, this table every step anyone took.
CREATE TABLE alert_events (
    id               INTEGER PRIMARY KEY,
    alert_id         BLOB NOT NULL REFERENCES alerts (id),
    status           TEXT NOT NULL CHECK (status IN ('acknowledged', 'resolved')),
    by_actor         TEXT NOT NULL,
    at_ms            INTEGER NOT NULL,
    note             TEXT,
    from_workstation BLOB NOT NULL,
    UNIQUE (alert_id, status, by_actor, at_ms)
);
