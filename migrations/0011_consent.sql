-- Vigil store, migration 11: consent is versioned and enforced (issue 12).
--
-- Until now the three consent flags on `patients` were stored and never read. From here:
-- * every change of a patient's flags is a new row of `consent_history` (append-only), written in
--   the same transaction as the flags themselves; the flags on `patients` are always those of the
--   newest version (a trigger refuses a flag change that has no matching newest version);
-- * every outbox message that carries a patient's data names that patient (`outbox.patient_id`),
--   and a message for a patient without clinic-sync consent is refused (trigger); withdrawing that
--   consent removes the patient's unsent messages in the same transaction (trigger).
-- Readings of a patient without monitoring consent are refused by the code (`store::observations`
-- checks every patient of a batch), and the monitor skips them.

CREATE TABLE consent_history (
    patient_id   BLOB NOT NULL REFERENCES patients (id),
    version      INTEGER NOT NULL CHECK (version >= 1),
    monitoring   INTEGER NOT NULL CHECK (monitoring IN (0, 1)),
    clinic_sync  INTEGER NOT NULL CHECK (clinic_sync IN (0, 1)),
    research     INTEGER NOT NULL CHECK (research IN (0, 1)),
    changed_ms   INTEGER NOT NULL,
    changed_by   TEXT NOT NULL,
    note         TEXT,
    PRIMARY KEY (patient_id, version)
) WITHOUT ROWID;

CREATE TRIGGER consent_history_no_update BEFORE UPDATE ON consent_history
BEGIN
    SELECT RAISE(ABORT, 'consent history is append-only');
END;
CREATE TRIGGER consent_history_no_delete BEFORE DELETE ON consent_history
BEGIN
    SELECT RAISE(ABORT, 'consent history is append-only');
END;

-- The flags as they were become version 1 of every existing patient.
INSERT INTO consent_history (patient_id, version, monitoring, clinic_sync, research, changed_ms, changed_by, note)
    SELECT id, 1, consent_monitoring, consent_clinic_sync, consent_research, updated_ms, 'migration 0011',
           'flags as stored before consent was versioned'
    FROM patients;

-- A flag change must be the newest version of the history (written first, same transaction).
CREATE TRIGGER patients_consent_versioned
BEFORE UPDATE OF consent_monitoring, consent_clinic_sync, consent_research ON patients
WHEN (NEW.consent_monitoring, NEW.consent_clinic_sync, NEW.consent_research)
     <> (OLD.consent_monitoring, OLD.consent_clinic_sync, OLD.consent_research)
 AND NOT EXISTS (
     SELECT 1 FROM consent_history h
     WHERE h.patient_id = NEW.id
       AND h.version = (SELECT MAX(version) FROM consent_history WHERE patient_id = NEW.id)
       AND h.monitoring = NEW.consent_monitoring
       AND h.clinic_sync = NEW.consent_clinic_sync
       AND h.research = NEW.consent_research)
BEGIN
    SELECT RAISE(ABORT, 'a consent change must be recorded in consent_history first');
END;

-- Whose data a message carries (NULL: nobody's, e.g. a model deployment or an unassigned device).
ALTER TABLE outbox ADD COLUMN patient_id BLOB;

UPDATE outbox SET patient_id = entity_id WHERE entity = 'patient';
UPDATE outbox SET patient_id = (SELECT a.patient_id FROM alerts a WHERE a.id = outbox.entity_id)
    WHERE entity = 'alert';
UPDATE outbox SET patient_id = (SELECT d.patient_id FROM devices d WHERE d.id = outbox.entity_id)
    WHERE entity = 'device';

-- An unsent observation message used to name a whole batch (several patients) by its seq range.
-- It becomes one message per patient with clinic-sync consent (same source, that patient's
-- first and last seq and count; the range may hold other patients' rows, which the receiver
-- skips by `patient_id`), and the batch message goes.
INSERT INTO outbox (id, entity, entity_id, op, payload, created_ms, patient_id)
    SELECT randomblob(16), 'observations', m.entity_id, 'insert',
           json_object(
               'source_id', json_extract(m.payload, '$.source_id'),
               'patient_id', lower(substr(hex(o.patient_id), 1, 8) || '-' || substr(hex(o.patient_id), 9, 4)
                   || '-' || substr(hex(o.patient_id), 13, 4) || '-' || substr(hex(o.patient_id), 17, 4)
                   || '-' || substr(hex(o.patient_id), 21)),
               'from_seq', MIN(o.seq), 'to_seq', MAX(o.seq), 'count', COUNT(*)),
           m.created_ms, o.patient_id
    FROM outbox m
    JOIN observations o
      ON o.seq BETWEEN json_extract(m.payload, '$.from_seq') AND json_extract(m.payload, '$.to_seq')
     AND o.source_id = m.entity_id
    JOIN patients p ON p.id = o.patient_id AND p.consent_clinic_sync = 1
    WHERE m.entity = 'observations' AND m.sent_ms IS NULL AND m.patient_id IS NULL
    GROUP BY m.seq, o.patient_id
    ORDER BY m.seq, MIN(o.seq);
DELETE FROM outbox WHERE entity = 'observations' AND sent_ms IS NULL AND patient_id IS NULL;

-- Messages queued before consent was enforced, for patients who never gave clinic-sync consent.
DELETE FROM outbox
    WHERE sent_ms IS NULL
      AND patient_id IN (SELECT id FROM patients WHERE consent_clinic_sync = 0);

CREATE INDEX outbox_pending_by_patient ON outbox (patient_id) WHERE sent_ms IS NULL;

-- Nothing of a patient without clinic-sync consent enters the outbox, and a message that
-- carries patient data must say whose it is.
CREATE TRIGGER outbox_requires_clinic_sync BEFORE INSERT ON outbox
WHEN NEW.patient_id IS NOT NULL
 AND NOT EXISTS (SELECT 1 FROM patients WHERE id = NEW.patient_id AND consent_clinic_sync = 1)
BEGIN
    SELECT RAISE(ABORT, 'outbox: the patient has not consented to clinic sync');
END;
CREATE TRIGGER outbox_names_the_patient BEFORE INSERT ON outbox
WHEN NEW.patient_id IS NULL AND NEW.entity IN ('patient', 'observations', 'alert')
BEGIN
    SELECT RAISE(ABORT, 'outbox: a patient, observation or alert message must name its patient');
END;

-- Withdrawing clinic-sync consent removes the patient's unsent messages, whoever withdraws it.
CREATE TRIGGER patients_sync_withdrawn AFTER UPDATE OF consent_clinic_sync ON patients
WHEN OLD.consent_clinic_sync = 1 AND NEW.consent_clinic_sync = 0
BEGIN
    DELETE FROM outbox WHERE patient_id = NEW.id AND sent_ms IS NULL;
END;
