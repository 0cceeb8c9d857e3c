-- Vigil store, migration 7: a per-minute rollup of observations for charts, and a counter of
-- observations for the status screen (issue 7).
--
-- Per patient, kind and minute: the first and last time, the lowest and highest value (as
-- `value_key`, the value's IEEE-754 bits: for non-negative doubles their signed-integer order
-- is the values' order) and the count of finite non-negative values. A chart over hours or days
-- reads 1,440 rows a day per vital instead of 86,400 samples. Derived data, recomputable from
-- observations (no outbox message, like the weight filter's results); kept exact by the
-- store's batch insert in the same transaction. `minute` counts from 0001-01-01T00:00Z so it is
-- positive for every date: (effective_ms + 62135596800000) / 60000.
CREATE TABLE observation_minutes (
    patient_id BLOB NOT NULL,
    kind       TEXT NOT NULL,
    minute     INTEGER NOT NULL,
    first_ms   INTEGER NOT NULL,
    last_ms    INTEGER NOT NULL,
    min_key    INTEGER NOT NULL,
    max_key    INTEGER NOT NULL,
    n          INTEGER NOT NULL CHECK (n > 0),
    PRIMARY KEY (patient_id, kind, minute)
) WITHOUT ROWID;

INSERT INTO observation_minutes (patient_id, kind, minute, first_ms, last_ms, min_key, max_key, n)
SELECT patient_id, kind, (effective_ms + 62135596800000) / 60000, MIN(effective_ms), MAX(effective_ms),
       MIN(value_key), MAX(value_key), COUNT(*)
FROM observations
WHERE value_key BETWEEN 0 AND 9218868437227405311
GROUP BY patient_id, kind, (effective_ms + 62135596800000) / 60000;

-- The number of observations, kept by the batch insert in its transaction (observations are
-- never deleted), so the status screen does not count millions of rows at every start.
CREATE TABLE counters (
    name TEXT PRIMARY KEY NOT NULL,
    n    INTEGER NOT NULL CHECK (n >= 0)
) WITHOUT ROWID;
INSERT INTO counters (name, n) SELECT 'observations', COUNT(*) FROM observations;
