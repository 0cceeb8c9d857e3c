-- Vigil store, migration 9: continuous monitoring (issue 11).
--
-- The monitor processes every observation once, in event time, whatever wrote it (an import, a
-- device, manual entry, a pull from the clinic server). Its cursor is the highest observation
-- `seq` it has processed (`store_meta.monitor_seq`), moved in the same transaction as what the
-- processing wrote (weight filter steps, alerts, assessments), so a crash repeats a pass and
-- never skips or doubles one. A store that existed before this migration starts monitoring at
-- its newest observation: its history was assessed by hand, and re-alerting on years of old
-- data would bury the inbox.
INSERT INTO store_meta (key, value)
    SELECT 'monitor_seq', CAST(COALESCE(MAX(seq), 0) AS TEXT) FROM observations;

-- A patient's risk history: each stored assessment (event time `at_ms`), its overall risk, the
-- specialties that could not answer (`needs_review`, a JSON array: never shown as low risk), and
-- each specialty's score, method and model version with the top drivers (`detail`, JSON).
-- Derived data: recomputable from the observations, so no outbox message.
CREATE TABLE assessments (
    id            BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    patient_id    BLOB NOT NULL REFERENCES patients (id),
    at_ms         INTEGER NOT NULL,
    risk_level    TEXT NOT NULL CHECK (risk_level IN ('low', 'moderate', 'high', 'critical')),
    risk_score    REAL NOT NULL CHECK (risk_score >= 0 AND risk_score <= 1),
    needs_review  TEXT NOT NULL,
    detail        TEXT NOT NULL,
    created_ms    INTEGER NOT NULL
);
CREATE INDEX assessments_by_patient ON assessments (patient_id, at_ms);
