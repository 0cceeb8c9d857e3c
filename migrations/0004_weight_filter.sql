-- Vigil store, migration 4: the body-weight Kalman filter's persisted state and its results.
--
-- `weight_filter_states` holds one row per patient: the filter state as the analysis code's
-- `FilterState` JSON (with its own `schema_version`; `FilterState::from_json` upgrades older
-- versions when it is read, and the next save writes the current one). `steps` counts the
-- results written for the patient: the state and its result are written in one transaction,
-- so `steps` always equals the patient's row count in `weight_filter_results`.
--
-- `weight_filter_results` holds one row per processed measurement, accepted or rejected (with
-- the reason as JSON, e.g. {"code":"outlier",...}), with the filter's output after that step
-- and the heart-failure alerts that held at it. The reading is identified like an observation,
-- by (patient, instant, value): processing the same reading again returns the stored row and
-- changes nothing. Derived data: recomputable from the observations, so not sent to the clinic
-- server (no outbox message).
CREATE TABLE weight_filter_states (
    patient_id     BLOB PRIMARY KEY NOT NULL REFERENCES patients (id),
    schema_version INTEGER NOT NULL,
    state          TEXT NOT NULL,
    steps          INTEGER NOT NULL CHECK (steps >= 0),
    updated_ms     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE weight_filter_results (
    seq                  INTEGER PRIMARY KEY,
    patient_id           BLOB NOT NULL REFERENCES patients (id),
    effective_ms         INTEGER NOT NULL,
    offset_s             INTEGER NOT NULL,
    value_kg             REAL,
    absent_reason        TEXT,
    value_key            INTEGER NOT NULL,
    source_class         TEXT NOT NULL CHECK (source_class IN ('clinic', 'home', 'reported')),
    accepted             INTEGER NOT NULL CHECK (accepted IN (0, 1)),
    reason               TEXT,
    needs_initialization INTEGER NOT NULL CHECK (needs_initialization IN (0, 1)),
    confidence           REAL NOT NULL,
    filtered_kg          REAL,
    trend_kg_per_week    REAL,
    trend_sd_kg_per_week REAL,
    prediction_error     REAL,
    normalized_error     REAL,
    reset                TEXT,
    alerts               TEXT NOT NULL,
    processed_ms         INTEGER NOT NULL,
    CHECK ((value_kg IS NULL) = (absent_reason IS NOT NULL)),
    CHECK ((accepted = 1) = (reason IS NULL))
);
-- Identity of a reading (idempotent processing) and the "last 3 days" read of the
-- heart-failure rule.
CREATE UNIQUE INDEX weight_filter_results_by_content
    ON weight_filter_results (patient_id, effective_ms, value_key);
