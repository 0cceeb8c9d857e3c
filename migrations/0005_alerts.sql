-- Vigil store, migration 5: predictive alerts (issue 5).
--
-- An alert is raised when an assessment's risk reaches the threshold, classified by event,
-- rate-limited per patient and event in event time (`event_ms`, the assessed instant, so a
-- replay limits as the live stream would). It carries its evidence and recommendations as
-- JSON. Lifecycle new -> acknowledged -> resolved, each transition recording who, when and a
-- note; each change writes an outbox message and an audit event in the same transaction
-- (ARCHITECTURE.md, invariants 5 and 6). Alerts are never deleted.
CREATE TABLE alerts (
    id               BLOB PRIMARY KEY NOT NULL CHECK (length(id) = 16),
    patient_id       BLOB NOT NULL REFERENCES patients (id),
    event            TEXT NOT NULL CHECK (event IN ('possible_decompensation', 'hypoxia',
                         'respiratory_distress', 'sepsis_screen', 'arrhythmia')),
    risk_level       TEXT NOT NULL CHECK (risk_level IN ('low', 'moderate', 'high', 'critical')),
    risk_score       REAL NOT NULL CHECK (risk_score >= 0 AND risk_score <= 1),
    confidence       REAL NOT NULL CHECK (confidence >= 0 AND confidence <= 1),
    evidence         TEXT NOT NULL,
    recommendations  TEXT NOT NULL,
    findings         TEXT NOT NULL,
    assessment_id    BLOB NOT NULL CHECK (length(assessment_id) = 16),
    event_ms         INTEGER NOT NULL,
    created_ms       INTEGER NOT NULL,
    status           TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'acknowledged', 'resolved')),
    acknowledged_by  TEXT,
    acknowledged_ms  INTEGER,
    acknowledged_note TEXT,
    resolved_by      TEXT,
    resolved_ms      INTEGER,
    resolved_note    TEXT,
    CHECK ((status = 'new') = (acknowledged_ms IS NULL)),
    CHECK ((status = 'resolved') = (resolved_ms IS NOT NULL))
);
-- The rate limit's lookup: the latest alert of a patient and event.
CREATE INDEX alerts_by_patient_event ON alerts (patient_id, event, event_ms);
CREATE INDEX alerts_open ON alerts (created_ms) WHERE status <> 'resolved';

CREATE TRIGGER alerts_no_delete BEFORE DELETE ON alerts
BEGIN
    SELECT RAISE(ABORT, 'alerts are never deleted; resolve them');
END;
