-- Vigil clinic server, migration 1.
--
-- Multi-tenant from the start: every row carries its clinic, and every primary key and unique
-- constraint includes `clinic_id`, so the tables can be distributed by clinic on Citus
-- (ARCHITECTURE.md, "Clinic server"): `clinics` is the one table keyed by `id` alone (it is
-- the distribution key itself), `server_certificates` is a reference table.

-- A clinic, and its version counter: every transaction that writes the clinic's rows takes
-- the next version here first and holds this row's lock until it commits, so versions commit
-- in order and a pull cursor "after version v" never skips a commit (wire/pull.rs).
CREATE TABLE clinics (
    id         uuid PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    version    bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The certificates the server instances present (SHA-256 of the DER, hex), recorded at start
-- so `enroll-code` can put the fingerprint in a code with the database alone.
CREATE TABLE server_certificates (
    fingerprint text PRIMARY KEY CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    first_seen  timestamptz NOT NULL DEFAULT now(),
    last_seen   timestamptz NOT NULL DEFAULT now()
);

-- One-time enrolment codes: only the secret's SHA-256 is kept.
CREATE TABLE enroll_codes (
    clinic_id     uuid NOT NULL REFERENCES clinics (id),
    secret_sha256 bytea NOT NULL CHECK (length(secret_sha256) = 32),
    fingerprint   text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    used_by       uuid,
    PRIMARY KEY (clinic_id, secret_sha256)
);
CREATE INDEX enroll_codes_by_secret ON enroll_codes (secret_sha256);

-- Enrolled workstations, their signing keys and how far their outbox is applied.
CREATE TABLE workstations (
    clinic_id     uuid NOT NULL REFERENCES clinics (id),
    id            uuid NOT NULL,
    name          text NOT NULL,
    public_key    bytea NOT NULL CHECK (length(public_key) = 32),
    enrolled_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    last_seen     timestamptz,
    acked_message bigint NOT NULL DEFAULT 0,
    acked_row     bigint NOT NULL DEFAULT 0,
    acked_version bigint NOT NULL DEFAULT 0,
    pulled_version bigint NOT NULL DEFAULT 0,
    pending       bigint,
    app_version   text,
    models        jsonb NOT NULL DEFAULT '{}',
    audit_seq     bigint,
    audit_hash    text,
    PRIMARY KEY (clinic_id, id)
);

-- Everything pushed but observations: the outbox messages, as sent, by clinic version.
CREATE TABLE changes (
    clinic_id      uuid NOT NULL,
    version        bigint NOT NULL,
    idx            integer NOT NULL,
    workstation_id uuid NOT NULL,
    id             uuid NOT NULL,
    entity         text NOT NULL,
    entity_id      uuid,
    op             text NOT NULL,
    patient_id     uuid,
    payload        jsonb NOT NULL,
    PRIMARY KEY (clinic_id, version, idx),
    UNIQUE (clinic_id, id),
    FOREIGN KEY (clinic_id, workstation_id) REFERENCES workstations (clinic_id, id)
);

-- Observations: a grow-only set under their natural key (the workstation's own unique index:
-- patient, kind, instant, value). The first workstation to push a reading keeps its id.
CREATE TABLE observations (
    clinic_id      uuid NOT NULL,
    patient_id     uuid NOT NULL,
    kind           text NOT NULL,
    effective_ms   bigint NOT NULL,
    value_key      bigint NOT NULL,
    id             uuid NOT NULL,
    offset_s       integer NOT NULL,
    value          double precision,
    absent_reason  text,
    version        bigint NOT NULL,
    workstation_id uuid NOT NULL,
    PRIMARY KEY (clinic_id, patient_id, kind, effective_ms, value_key),
    CHECK ((value IS NULL) = (absent_reason IS NOT NULL))
);
CREATE INDEX observations_by_version ON observations (clinic_id, version);

-- Model packages IT published to a clinic, as uploaded (the server is not a signer: each
-- workstation verifies a package against its own trusted keys).
CREATE TABLE packages (
    clinic_id    uuid NOT NULL REFERENCES clinics (id),
    sha256       text NOT NULL,
    file_name    text NOT NULL,
    bytes        bytea NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clinic_id, sha256)
);
