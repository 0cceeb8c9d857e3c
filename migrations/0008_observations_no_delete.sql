-- Vigil store, migration 8: observations refuse DELETE as they refuse UPDATE (migration 1).
--
-- The outbox names each observation batch by its `seq` range (invariant 5), and the counter of
-- migration 7 and the per-minute rollup are kept by the batch insert alone: a deleted row would
-- change what an already-sent range names and leave both counts wrong. Retention, when it
-- comes, will be its own audited path (and its own migration).
CREATE TRIGGER observations_no_delete BEFORE DELETE ON observations
BEGIN
    SELECT RAISE(ABORT, 'observations are append-only: a DELETE is refused');
END;
