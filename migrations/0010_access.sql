-- Vigil store, migration 10: clinician access (issue 12).
--
-- Local accounts. `name` is compared without case. A person has an Argon2id password hash (a
-- PHC string: algorithm, parameters, salt and hash); a service account (`kind = 'service'`) has
-- the SHA-256 of a random 256-bit token instead (a token that strong needs no slow hash). The
-- failure counters implement the lockout rule (`domain::access::LockoutPolicy`).
CREATE TABLE users (
    id                 BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    name               TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role               TEXT NOT NULL CHECK (role IN ('clinician', 'nurse', 'admin', 'it', 'auditor', 'monitor')),
    kind               TEXT NOT NULL CHECK (kind IN ('person', 'service')),
    password_hash      TEXT,
    token_sha256       TEXT,
    disabled           INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    failed_count       INTEGER NOT NULL DEFAULT 0,
    failed_since_ms    INTEGER,
    locked_until_ms    INTEGER,
    created_ms         INTEGER NOT NULL,
    created_by         TEXT NOT NULL,
    password_set_ms    INTEGER,
    CHECK ((kind = 'person' AND password_hash IS NOT NULL) OR (kind = 'service' AND token_sha256 IS NOT NULL))
);

-- Command-line sessions (`vigil login`): the SHA-256 of the token kept in the data directory's
-- session file. The window's sessions live in its memory; both are audited.
CREATE TABLE sessions (
    token_sha256  TEXT PRIMARY KEY NOT NULL,
    user_id       BLOB NOT NULL REFERENCES users (id),
    os_user       TEXT NOT NULL,
    created_ms    INTEGER NOT NULL,
    ended_ms      INTEGER
);

-- Restricted records: opening one needs a reason (break the glass).
CREATE TABLE patient_restrictions (
    patient_id   BLOB PRIMARY KEY NOT NULL REFERENCES patients (id),
    since_ms     INTEGER NOT NULL,
    by_actor     TEXT NOT NULL
);

-- Break-the-glass grants: who opened which restricted record, why, until when.
CREATE TABLE break_glass (
    id          BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    user_id     BLOB NOT NULL REFERENCES users (id),
    patient_id  BLOB NOT NULL REFERENCES patients (id),
    reason      TEXT NOT NULL,
    at_ms       INTEGER NOT NULL,
    until_ms    INTEGER NOT NULL
);
CREATE INDEX break_glass_by_user ON break_glass (user_id, patient_id, until_ms);
