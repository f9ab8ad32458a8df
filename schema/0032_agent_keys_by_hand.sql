-- 0032_agent_keys_by_hand.sql - an administrator registers an agent's
-- offline signing key by hand, for a site that never connects
-- (docs/agent.md, "Sites with no link").  Such an agent has a row but has
-- never called in: its contact times stay empty until it does, and the row
-- says who registered the key and when.

ALTER TABLE agents ALTER COLUMN first_contact_at DROP NOT NULL;
ALTER TABLE agents ALTER COLUMN first_contact_at DROP DEFAULT;
ALTER TABLE agents ALTER COLUMN last_contact_at DROP NOT NULL;
ALTER TABLE agents ALTER COLUMN last_contact_at DROP DEFAULT;
ALTER TABLE agents ADD COLUMN key_registered_by bigint REFERENCES users(id);
ALTER TABLE agents ADD COLUMN key_registered_at timestamptz;
