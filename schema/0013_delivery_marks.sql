-- 0013_delivery_marks.sql - how far each outside destination (a syslog
-- collector, later webhooks) has taken the audit trail.  The audit trail is
-- the outbox: the delivering node sends events after `seq` in order and
-- moves `seq` forward only once the destination took them, so delivery
-- resumes there after an outage or a restart (docs/operations.md).
CREATE TABLE delivery_marks (
    destination text PRIMARY KEY,           -- e.g. "syslog tcp://siem:514"
    seq         bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        GRANT SELECT, INSERT, UPDATE ON delivery_marks TO otcm_app;
        REVOKE DELETE, TRUNCATE ON delivery_marks FROM otcm_app;
    END IF;
END
$$;
