-- Vigil store, migration 13: the lockout window slides (issue 12).
--
-- 0010 kept a count and the start of a fixed window, which restarted at the first failure after
-- it ended: five wrong passwords within three minutes that straddled its end never locked. The
-- times of the recent failures (epoch ms, comma-separated, oldest first; at most the policy's
-- attempts less one) are kept instead. `failed_count` and `failed_since_ms` stay, written from
-- the same record, for readers of the older columns. A failure already counted keeps counting
-- from the start of its window.
ALTER TABLE users ADD COLUMN recent_failures TEXT NOT NULL DEFAULT '';
UPDATE users SET recent_failures = CAST(failed_since_ms AS TEXT)
    WHERE failed_count > 0 AND failed_since_ms IS NOT NULL;
