-- Vigil store, migration 3: the audit trail.
--
-- One row for every read or change of patient data through the facade, written in the same
-- transaction (ARCHITECTURE.md, invariant 6). Rows are chained: `hash` is the SHA-256 of the
-- previous row's hash and this row's fields, so an edited or deleted row breaks the chain
-- (`vigil audit verify`). `detail` is JSON with counts and names of things, never patient values.
CREATE TABLE audit (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms      INTEGER NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    patient_id BLOB,
    detail     TEXT NOT NULL,
    prev_hash  BLOB NOT NULL CHECK (length(prev_hash) = 32),
    hash       BLOB NOT NULL CHECK (length(hash) = 32)
);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit trail is append-only');
END;
