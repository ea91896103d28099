-- New leads are counted into lead_counts by the code that inserts them (ingest adds up a
-- whole group commit and writes it once before COMMIT; see data/src/tally.rs). An AFTER
-- INSERT trigger made every lead insert a multi-statement write, which SQLite guards with
-- a statement journal (a copy of every page the insert touched) — that and the trigger's
-- own upsert were ~10 % of the writer at full ingest. Updates and deletes keep their
-- triggers: they are rare, and every path that changes a lead is covered by them.
DROP TRIGGER IF EXISTS lead_counts_insert;
