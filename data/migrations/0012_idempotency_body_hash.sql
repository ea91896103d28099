-- An `Idempotency-Key` record remembers which body it answered: the first 16 bytes of the
-- SHA-256 of the raw request body (the digest the double-submit window already keys on,
-- computed once per request). The same key with another body is refused (422
-- `idempotency_key_reused`) instead of being answered with the first lead.
--
-- Records written before this column existed have NULL: they keep answering every retry
-- with their first answer, as they did when written. They are at most 24 hours old and
-- pruned after that, so the old behaviour ends within a day of the upgrade.
ALTER TABLE idempotency ADD COLUMN body_hash BLOB;
