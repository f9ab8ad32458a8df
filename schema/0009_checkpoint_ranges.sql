-- Each checkpoint keeps the compact Merkle range of the events it signs
-- but the last (the roots of the complete subtrees over leaves 1 to
-- tree_size - 1, largest first, 32 bytes each), so that the trail can be
-- verified from the newest checkpoint on instead of from event 1: the
-- range, extended by the stored hash of event tree_size, must give the
-- signed root (docs/audit.md, "Verifying from the newest checkpoint").
-- Rows signed before this migration have none; the first checkpoint
-- signed after it recomputes the whole chain once.
ALTER TABLE audit_checkpoints ADD COLUMN compact_range bytea
    CHECK (compact_range IS NULL OR length(compact_range) % 32 = 0);

-- The exceptions report looks for events of a few actions in a period
-- (refused self-approvals, versions that made approvals stale): find them
-- by action and time instead of reading every event of the period.
CREATE INDEX audit_events_action_at ON audit_events (action, at);
