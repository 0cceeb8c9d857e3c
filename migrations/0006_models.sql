-- Vigil store, migration 6: signed model packages and their rollout (issue 6).
--
-- A package is kept whole (its verified bytes), so it can be re-verified and reloaded at every
-- start; it is identified by the SHA-256 of the file. Only verified packages are stored: a
-- refused one leaves an audit event and nothing else. Each agent has at most one deployment
-- row: the active package, the previous one (kept for an instant rollback) and a candidate in
-- shadow or canary with its running counts. Every change writes a rollout event, an outbox
-- message and an audit event in the same transaction (ARCHITECTURE.md, invariants 5 and 6).
CREATE TABLE model_packages (
    sha256        TEXT PRIMARY KEY NOT NULL CHECK (length(sha256) = 64),
    name          TEXT NOT NULL,
    version       TEXT NOT NULL,
    agent         TEXT NOT NULL,
    manifest      TEXT NOT NULL,
    signer_key_id TEXT NOT NULL,
    package       BLOB NOT NULL,
    installed_ms  INTEGER NOT NULL,
    installed_by  TEXT NOT NULL,
    UNIQUE (name, version)
);

CREATE TABLE model_deployments (
    agent              TEXT PRIMARY KEY NOT NULL,
    active_sha256      TEXT REFERENCES model_packages (sha256),
    previous_sha256    TEXT REFERENCES model_packages (sha256),
    candidate_sha256   TEXT REFERENCES model_packages (sha256),
    candidate_mode     TEXT CHECK (candidate_mode IN ('shadow', 'canary')),
    canary_percent     INTEGER CHECK (canary_percent BETWEEN 1 AND 100),
    evaluations        INTEGER NOT NULL DEFAULT 0,
    errors             INTEGER NOT NULL DEFAULT 0,
    disagreements      INTEGER NOT NULL DEFAULT 0,
    updated_ms         INTEGER NOT NULL,
    CHECK ((candidate_sha256 IS NULL) = (candidate_mode IS NULL)),
    CHECK ((candidate_mode = 'canary') = (canary_percent IS NOT NULL))
);

CREATE TABLE model_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms      INTEGER NOT NULL,
    agent      TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('installed', 'candidate', 'activated', 'promoted', 'rolled_back')),
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    automatic  INTEGER NOT NULL CHECK (automatic IN (0, 1)),
    reason     TEXT NOT NULL,
    actor      TEXT NOT NULL
);

CREATE TABLE trusted_keys (
    id          TEXT PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    public_key  TEXT NOT NULL UNIQUE CHECK (length(public_key) = 64),
    label       TEXT NOT NULL,
    added_ms    INTEGER NOT NULL,
    added_by    TEXT NOT NULL
);

CREATE TRIGGER model_events_append_only_update BEFORE UPDATE ON model_events
BEGIN
    SELECT RAISE(ABORT, 'model events are append-only');
END;
CREATE TRIGGER model_events_append_only_delete BEFORE DELETE ON model_events
BEGIN
    SELECT RAISE(ABORT, 'model events are append-only');
END;
