-- 0010_drills.sql - restore drills: each `otcm drill` that restored a backup
-- into a scratch cluster and checked it records what it found here, signed
-- by the server's key (docs/operations.md).  Append-only, like the audit
-- trail: a drill's record is evidence (SOC 2 A1.3).
CREATE TABLE drills (
    id                  bigserial PRIMARY KEY,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    backup_finished_at  timestamptz NOT NULL,
    ok                  boolean NOT NULL,
    recovery_time_ms    bigint NOT NULL CHECK (recovery_time_ms >= 0),
    recovery_point_ms   bigint,          -- NULL: the backup held no events
    record              text NOT NULL,   -- the JSON text exactly as signed
    key_id              text NOT NULL,   -- hex SHA-256 of the public key, first 8 bytes
    signature           text NOT NULL    -- base64 Ed25519 over the record's compact text
);
CREATE INDEX drills_recorded_at ON drills (recorded_at);
CREATE TRIGGER drills_no_update BEFORE UPDATE OR DELETE ON drills
    FOR EACH ROW EXECUTE FUNCTION append_only_refuse();
CREATE TRIGGER drills_no_truncate BEFORE TRUNCATE ON drills
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse();
ALTER TABLE drills ENABLE ALWAYS TRIGGER drills_no_update;
ALTER TABLE drills ENABLE ALWAYS TRIGGER drills_no_truncate;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'otcm_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON drills FROM otcm_app;
        GRANT SELECT, INSERT ON drills TO otcm_app;
        GRANT USAGE, SELECT ON SEQUENCE drills_id_seq TO otcm_app;
    END IF;
END
$$;
