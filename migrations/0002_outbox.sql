-- Vigil store, migration 2: the outbox towards the clinic server.
--
-- Every change meant for the server is written here in the same transaction as the change
-- itself (ARCHITECTURE.md, invariant 5). `id` is the idempotency key the server deduplicates
-- on; `sent_ms` is set when the server acknowledged the message. Observation batches are
-- referenced by their `seq` range rather than copied: observations are immutable, so the
-- range names the same rows forever.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         BLOB NOT NULL UNIQUE CHECK (length(id) = 16),
    entity     TEXT NOT NULL,
    entity_id  BLOB,
    op         TEXT NOT NULL,
    payload    TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    sent_ms    INTEGER
);
CREATE INDEX outbox_pending ON outbox (seq) WHERE sent_ms IS NULL;
